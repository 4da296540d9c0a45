// Builds every bundle of a hotfix: one per architecture (and per language where the manifest
// declares several), after checking all drops against the manifest.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "manifests/manifest.h"
#include "packager/bundle_writer.h"
#include "packager/drop_check.h"

namespace hotfix {

struct BuildRequest {
  std::string manifest_path;
  std::map<Arch, std::string> drops;  // architecture -> drop directory
  std::string key_path;
  std::string out_dir;
  std::vector<Arch> only;  // empty: every architecture in the manifest
  BundleWriteOptions write;
};

struct BuiltBundle {
  std::string path;
  BundleWriteResult result;
};

struct BuildReport {
  std::vector<BuiltBundle> bundles;
  std::vector<DropIssue> warnings;
};

// The slice of `manifest` that one bundle holds: the architecture's files that are
// language-neutral or of `language`, with `bundle` set.
Manifest bundle_slice(const Manifest& manifest, Arch arch,
                      const std::optional<std::string>& language);

// Throws DropMismatchError (every mismatch of every drop) before writing anything.
BuildReport build_bundles(const BuildRequest& request);

}  // namespace hotfix
