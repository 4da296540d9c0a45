// Reads every file below a directory and describes it as the article does, from the files
// themselves: name, version, size, UTC date and time, platform (from the machine type).
#pragma once

#include <string>
#include <vector>

#include "manifests/manifest.h"

namespace hotfix {

// Entries sorted by path; destination is the file's directory relative to `dir`. Each entry
// carries its SHA-256 and its permission bits. Symbolic links and special files are skipped with an
// error, since a drop must hold real files.
std::vector<FileEntry> scan_drop(const std::string& dir);

// The entries as a JSON array of manifest file entries (docs/manifest-format.md).
std::string file_entries_json(const std::vector<FileEntry>& files);

}  // namespace hotfix
