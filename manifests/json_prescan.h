// Checks on JSON text made before any tree is built: size, nesting depth, syntax, and
// keys that appear twice in one object (which a tree would silently collapse).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "manifests/manifest_json.h"

namespace hotfix {

struct JsonPrescan {
  std::vector<ManifestIssue> issues;  // at most kMaxManifestIssues
  std::size_t omitted = 0;            // issues past that, only counted
  // Too big, too deep or not JSON: the text must not be parsed into a tree. Duplicate keys
  // alone are not fatal, so that the rest of the document can still be checked.
  bool fatal = false;
};

JsonPrescan prescan_json(std::string_view text, std::size_t max_bytes, int max_depth);

// 1-based line and column (in bytes) of a byte offset, for messages.
struct TextPosition {
  std::size_t line = 1;
  std::size_t column = 1;
};
TextPosition position_of(std::string_view text, std::size_t offset);

}  // namespace hotfix
