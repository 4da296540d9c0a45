// Replacing a small file so that a reader sees the old one or the new one whole, and the new
// one is durable when this returns, in one place: a temporary beside it (NAME.tmp), written
// and synced, renamed over the file, then the directory synced. The journal and the
// reboot-required files are written this way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "installer/disk.h"

namespace hotfix {

// `path` is relative to the disk's root. A failure leaves no temporary file behind.
void write_atomically(Disk& disk, const std::string& path, std::string_view content,
                      std::uint32_t mode);

}  // namespace hotfix
