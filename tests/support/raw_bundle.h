// Writes arbitrary tar+zstd archives, to build deliberately broken bundles in tests.
#pragma once

#include <string>
#include <vector>

namespace hotfix::test {

struct RawEntry {
  enum class Type { kFile, kSymlink, kHardlink, kDirectory, kFifo, kCharDevice };
  std::string name;
  std::string content;  // file data, or the link target
  Type type = Type::kFile;
  long long declared_size = -1;  // tar header size when it should lie; -1: content size
};

// compression: "zstd", "gzip" or "none".
void write_raw_archive(const std::string& path, const std::vector<RawEntry>& entries,
                       const std::string& compression = "zstd");

}  // namespace hotfix::test
