// Writing stand-in trees to disk: fresh output directories, files with their dates.
#pragma once

#include <filesystem>
#include <vector>

#include "samples/standins/standin_files.h"

namespace hotfix::standins {

// Makes each tree an empty directory. A tree that exists and is not an empty directory is
// refused (Error kBadInput) unless `force`, in which case it, and only it, is removed and
// created anew. Every tree is checked before any is touched.
void prepare_trees(const std::vector<std::filesystem::path>& trees, bool force);

// Writes `file` below `tree`, creating directories as needed, and sets the file's access
// and modification times to file.mtime.
void write_standin(const std::filesystem::path& tree, const StandinFile& file);

}  // namespace hotfix::standins
