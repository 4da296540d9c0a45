// Copies a directory tree keeping each entry's mode and modification time, so that the copy
// has the same tree snapshot (tests/support/tree_snapshot.h) as the original.
#pragma once

#include <string>

namespace hotfix::test {

// `to` must not exist. Regular files and directories only; hard links become separate files.
void copy_tree(const std::string& from, const std::string& to);

}  // namespace hotfix::test
