// Files the user names on the command line (a bundle, a key, a manifest): one way to open
// them, so that a name that leads nowhere is bad input (exit 2) in both programs, and only
// what the system refuses past that (permission, I/O) is a system error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "manifests/file_descriptor.h"

namespace hotfix {

// open(2) with O_CLOEXEC added. ENOENT, ENOTDIR and ELOOP become
// Error(kBadInput, path, "does not exist (WHAT)"); other failures a SystemError.
FileDescriptor open_named_input(const std::string& path, int flags, std::string_view what);

// The whole of a small regular file named on the command line (an os-release file): bad
// input when it is not a regular file (a FIFO must not hang the command) or is larger than
// `limit` bytes, which are never read past.
std::string read_named_input(const std::string& path, std::size_t limit, std::string_view what);

}  // namespace hotfix
