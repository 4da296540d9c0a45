// Reading the rest of an open file into memory, bounded: the one loop every reader of a small
// file (a manifest, system.json, a journal, a key) shares.
#pragma once

#include <cstddef>
#include <string>

namespace hotfix {

// What is left of `fd`, up to `limit` bytes and one more, so that the caller can tell a file
// larger than `limit` from one of exactly `limit` bytes without reading it whole. Retries on
// EINTR; throws SystemError(shown, "read") on a read error.
std::string read_to_end(int fd, std::size_t limit, const std::string& shown);

}  // namespace hotfix
