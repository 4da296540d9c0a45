// Resolving a manifest destination to a file under the target root, safely: nothing may lead
// outside the root, and on Windows-family targets names match case-insensitively, keeping the
// spelling already on disk (the article says Appcmd.exe, the server has appcmd.exe).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "installer/root.h"

namespace hotfix {

struct ResolvedPath {
  std::string
      relative;  // relative to the root: on-disk spelling of what exists, then the manifest's
  bool exists = false;                    // a regular file is there
  std::vector<std::string> missing_dirs;  // directories to create first, outermost first (relative)
};

// The names of each directory a resolution looked into ignoring case, listed once and keyed
// by fold_name: matching N names in one directory costs one listing, not N. A plan shares one
// index across its files; it is valid while the directories do not change.
class NameIndex {
 public:
  using Listing = std::unordered_map<std::string, std::vector<std::string>>;  // folded -> names

  // The entries of the open directory `dir` whose folded name is `key`.
  const std::vector<std::string>& matches(const Root& root, int dir, const std::string& dir_rel,
                                          const std::string& key);
  std::size_t listings() const { return listings_.size(); }

 private:
  std::map<std::pair<dev_t, ino_t>, Listing> listings_;
};

// The symbolic link rule (docs/transaction.md, "The root is input"): a link among the
// directories is followed as in a chroot, an absolute target relative to the root, and never
// out of it; it is followed only when it belongs to root or to the owner of the directory it
// leads to (rpm 4.18's rule against CVE-2021-35939), so that whoever may write one directory
// cannot point the installer into another's. The file itself must not be a symbolic link, a
// directory or a special file. The result names only real directories: from then on the
// transaction opens it without following any link. Throws Error(kBadInput) naming the path.
// `index`, when given, keeps the directory listings for the next resolutions.
ResolvedPath resolve_under_root(const Root& root, const std::string& manifest_path, bool fold_case,
                                NameIndex* index = nullptr);

// The regular file at `path` as a chroot into the root would find it, for reading the
// target's own files (etc/os-release, etc/hotfix/system.json): every link followed, the last
// one too, under the same owner rule for directory links, and ".." at the root staying at the
// root; nothing outside. The relative path of the file through real directories, or nullopt
// when it does not exist. Throws Error(kBadInput) for a loop or something other than a file.
std::optional<std::string> resolve_to_read(const Root& root, const std::string& path);

}  // namespace hotfix
