// What applying a bundle would do to each file, and why: install, replace, skip, keep, or
// not applicable. Decided from the files on the target themselves, not only the database.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "installer/root_paths.h"
#include "manifests/manifest.h"

namespace hotfix {

enum class Decision {
  kInstall,        // the file does not exist: create it
  kReplace,        // an older version (or, with --force, any) is there: replace it
  kSkip,           // the same or a newer version is there: leave it
  kKeep,           // a config file the administrator changed: leave it, write NAME.hotfix-new
  kNotApplicable,  // installed only where the file exists, and it does not
};
std::string_view decision_token(Decision decision);

struct PlannedFile {
  FileEntry entry;      // as the manifest promises it
  ResolvedPath target;  // where it goes, spelled as on disk
  Decision decision = Decision::kInstall;
  std::string reason;  // one line: why
  std::optional<Version> installed_version;
  bool forced = false;                 // --force overrode the version rule
  std::optional<struct stat> current;  // the file there now
};

struct Plan {
  std::vector<PlannedFile> files;
  bool changes_files() const;  // any install, replace or keep
};

struct PlanOptions {
  bool fold_case = false;  // Windows-family target
  bool force = false;      // override the version rule (only that)
  // The SHA-256 this tool last installed at a path, to tell whether an administrator changed
  // a config file since.
  std::function<std::optional<Sha256Digest>(const std::string& path)> recorded_sha256;
};

Plan make_plan(const std::vector<FileEntry>& files, const Root& root, const PlanOptions& options);

}  // namespace hotfix
