// A byte-for-byte picture of a directory tree (content hash, mode, mtime of every entry), to
// prove that a root is exactly as it was.
#pragma once

#include <map>
#include <string>

namespace hotfix::test {

// relative path -> "sha256 mode mtime" (or "dir mode" / "link target" / "special type mode"
// for a FIFO or device, which is never opened / "size N mode mtime" for a file over 64 MiB,
// which is not read). Paths under
// `exclude` (relative, e.g. "var/lib/hotfix") are left out.
std::map<std::string, std::string> snapshot_tree(const std::string& root,
                                                 const std::string& exclude = "");

// Names of entries that differ, for a readable failure message.
std::string describe_difference(const std::map<std::string, std::string>& before,
                                const std::map<std::string, std::string>& after);

}  // namespace hotfix::test
