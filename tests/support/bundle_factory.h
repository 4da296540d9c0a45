// Signed hotfix bundles for a plain Linux x64 root, built at test time from files given in
// memory, through the real hotfix-packager.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace hotfix::test {

struct TreeFile {
  std::string path;  // relative, forward slashes
  std::string content;
  std::int64_t mtime = 0;  // UTC seconds, a whole minute (the packager compares minutes)
  std::optional<std::uint32_t>
      mode;  // in a bundle: the manifest's mode; in a root: 0644 when unset
};

// Writes each file under `root` with its mode and mtime, creating directories.
void write_tree(const std::string& root, const std::vector<TreeFile>& files);

// A root the installer treats as Linux x64 (etc/hotfix/system.json), with its state
// directory already there, so that only the installer's own files appear under it.
void make_linux_root(const std::string& root);

// What a built hotfix says besides its files.
struct BundleOptions {
  bool reboot = false;  // restart: "reboot" instead of "none"
  std::string family;   // the manifest's family: "", "windows" or "linux"
};

class BundleFactory {
 public:
  BundleFactory();  // makes a key pair
  // Builds <id>-x64.hotfix (no prerequisites); returns its path. Platform and version of each
  // file come from its bytes, as the packager's scan would read them.
  std::string build(const std::string& id, const std::vector<TreeFile>& files,
                    const BundleOptions& options = {});
  std::string pub() const { return (dir_ / "k.pub").string(); }

 private:
  TempDir dir_;
};

// `count` different file contents between `min_size` and `max_size` bytes: x86-64 ELF
// libraries from the system where there are enough, else generated data.
std::vector<std::string> sample_contents(std::size_t count, std::size_t min_size,
                                         std::size_t max_size);

}  // namespace hotfix::test
