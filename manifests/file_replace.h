// Writing a whole file under a plain path so that a reader finds the old file or the new one,
// never half of one: a temporary beside it, written and synced, renamed over it, then the
// directory synced. Key files and refreshed manifests are written this way; the installer's
// root-relative writes go through installer/atomic_write.h and its Disk instead.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace hotfix {

// All of `data` to `fd`, retrying short writes and EINTR; SystemError naming `path`.
void write_all(int fd, const std::string& path, std::string_view data);

// Makes the entry of `path` in its directory durable (fsync of the directory that holds it).
void sync_parent(const std::string& path);

// Throws Error(kBadInput) when `path` exists and `overwrite` is false, SystemError for a
// failed write; a failure leaves no temporary file behind.
void write_file_atomically(const std::string& path, std::string_view data, mode_t mode,
                           bool overwrite);

}  // namespace hotfix
