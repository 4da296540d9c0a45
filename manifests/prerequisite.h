// Prerequisite expressions: any-of / all-of trees over facts about the target.
// Evaluation against a real target lives in the installer; this is the model.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifests/arch.h"
#include "manifests/version.h"

namespace hotfix {

struct Prerequisite {
  enum class Type {
    kAllOf,               // every child holds (an empty all-of always holds)
    kAnyOf,               // at least one child holds
    kProduct,             // target product name equals `value` (case-insensitive)
    kVersionAtLeast,      // target OS version >= `version`
    kServicePackAtLeast,  // target service pack >= `service_pack`
    kArchitecture,        // target architecture is `arch`
    kHotfixInstalled,     // hotfix `value` is installed
    kFileVersionAtLeast,  // file `value` (relative path under the root) has version >= `version`
    kOsId,                // the target's os-release ID is `value` ("debian")
    kOsVersionAtLeast,    // an os-release target whose VERSION_ID >= `version` (`value` as written)
  };

  Type type = Type::kAllOf;
  std::vector<Prerequisite> children;  // kAllOf, kAnyOf
  std::string value;                   // product, hotfix id, file path, os id or VERSION_ID
  Version version;                     // kVersionAtLeast, kFileVersionAtLeast
  int service_pack = 0;                // kServicePackAtLeast
  Arch arch = Arch::kNeutral;          // kArchitecture
  std::string label;                   // optional human wording, e.g. "Windows Vista SP1"

  static Prerequisite always() { return Prerequisite{}; }
  bool is_always() const { return type == Type::kAllOf && children.empty(); }

  // Human wording: the label if present, otherwise built from the tree, e.g.
  // "(product Windows Vista and service pack 1 or later) or product Windows Server 2008".
  std::string describe() const;

  friend bool operator==(const Prerequisite&, const Prerequisite&) = default;
};

// An os-release(5) ID: 1 to 64 of a-z, 0-9, '.', '_', '-' ("debian", "opensuse-leap").
bool is_valid_os_id(std::string_view id);

}  // namespace hotfix
