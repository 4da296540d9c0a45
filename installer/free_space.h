// Whether the root has room for what a transaction stages, checked before anything is
// written: whole blocks per file, and an inode per file and created directory.
#pragma once

#include <cstdint>
#include <vector>

#include "installer/root.h"

namespace hotfix {

// `sizes` are the staged files' sizes. Throws Error(kSystem) "not enough free space" or "not
// enough free inodes", saying what is needed and what is available; nothing was changed.
void check_free_space(const Root& root, const std::vector<std::uint64_t>& sizes,
                      std::size_t created_dirs);

}  // namespace hotfix
