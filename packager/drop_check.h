// Checks a build drop against the manifest's file entries before anything is bundled.
#pragma once

#include <string>
#include <vector>

#include "manifests/errors.h"
#include "manifests/manifest.h"

namespace hotfix {

struct DropIssue {
  std::string where;    // "x64: Windows/System32/inetsrv/Admwprox.dll"
  std::string message;  // what differs: found vs. expected
};

// Every mismatch, all at once: thrown by the packager before it writes anything.
class DropMismatchError : public Error {
 public:
  explicit DropMismatchError(std::vector<DropIssue> issues);
  const std::vector<DropIssue>& issues() const { return issues_; }
  std::vector<std::string> lines() const override;  // "<where>: <message>" per issue

 private:
  std::vector<DropIssue> issues_;
};

struct DropCheckResult {
  std::vector<DropIssue> errors;    // the entry's file is missing or differs from the manifest
  std::vector<DropIssue> warnings;  // files in the drop that no entry names (not bundled)
};

// A drop mirrors the destinations: an entry's file is at DROP/<destination>/<name>. Checks
// each entry: present and a regular file, exact size, the version read from the file (or no
// version for unversioned entries), machine type against the platform, and the timestamp to
// the minute.
DropCheckResult check_drop(Arch arch, const std::vector<FileEntry>& files,
                           const std::string& drop_dir);

}  // namespace hotfix
