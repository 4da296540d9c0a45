// `manifest refresh`: brings a source manifest up to date with new build drops, in place,
// saying what changed, so that a release engineer rebuilding a hotfix edits nothing by hand
// but what only a person can decide (ids, titles, kinds, prerequisites).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "manifests/manifest.h"

namespace hotfix {

struct ManifestChange {
  enum class Kind { kChanged, kAdded, kRemoved };
  Arch arch = Arch::kX64;
  std::string path;  // destination/name
  Kind kind = Kind::kChanged;
  // For kChanged: "version 7.0.6001.18000 -> 7.0.6001.22329", "size 1,024 -> 2,048", ...;
  // for kAdded: what the new entry has.
  std::vector<std::string> details;
};
std::string_view change_token(ManifestChange::Kind kind);  // "changed", "added", "removed"

struct RefreshResult {
  Manifest manifest;
  std::vector<ManifestChange> changes;  // by architecture, then path
};

// For each architecture with a drop, each entry takes from its file (matched by exact path)
// its version, size, platform, and its SHA-256 and mode where the manifest records them; the
// timestamp where it differs to the minute (build checks it to the minute, and an article's
// times have no seconds). A file the drop no longer has is removed, one new in the drop is
// added (kind guessed as scan does). Kinds, languages, only_if_present and everything
// outside the files stay. Throws Error(kBadInput) for a bundle's manifest or an architecture
// the refresh would leave without files.
RefreshResult refresh_manifest(const Manifest& manifest, const std::map<Arch, std::string>& drops);

}  // namespace hotfix
