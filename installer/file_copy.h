// The copy fallback for when a hard link cannot be made (the state directory on another
// filesystem, a filesystem without links, a file at its link limit), in one place.
#pragma once

#include <string>

#include "installer/disk.h"

namespace hotfix {

// Copies the regular file `from` to the new file `to` with its mode, mtime and owner.
void copy_file(Disk& disk, const std::string& from, const std::string& to);

// A hard link, or a copy when the filesystem refuses one (EXDEV, EPERM, EMLINK).
void link_or_copy(Disk& disk, const std::string& from, const std::string& to);

}  // namespace hotfix
