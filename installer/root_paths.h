// Resolving a manifest destination to a file under the target root, safely: nothing may lead
// outside the root, and on Windows-family targets names match case-insensitively, keeping the
// spelling already on disk (the article says Appcmd.exe, the server has appcmd.exe).
#pragma once

#include <string>
#include <vector>

namespace hotfix {

struct ResolvedPath {
  std::string relative;  // relative to the root: on-disk spelling of what exists, then the manifest's
  bool exists = false;   // a regular file is there
  std::vector<std::string> missing_dirs;  // directories to create first, outermost first (relative)
};

// Symbolic links among the directories are followed as if the root were "/" (an absolute
// target is relative to the root) and must stay inside it; the file itself must not be a
// symbolic link, a directory or a special file. Throws Error(kBadInput) naming the path.
ResolvedPath resolve_under_root(const std::string& root, const std::string& manifest_path,
                                bool fold_case);

// True when `a` and `b` are equal ignoring ASCII case.
bool equal_fold(const std::string& a, const std::string& b);

}  // namespace hotfix
