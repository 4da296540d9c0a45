#include "tests/support/tree_snapshot.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "manifests/sha256.h"
#include "tests/support/temp_dir.h"

namespace hotfix::test {

namespace {
constexpr off_t kMaxHashedBytes = off_t{64} << 20;
}  // namespace

std::map<std::string, std::string> snapshot_tree(const std::string& root,
                                                 const std::string& exclude) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    // Lexically: fs::relative resolves every component of both paths, which is slow.
    std::string rel = it->path().string().substr(root.size());
    if (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
    if (!exclude.empty() && (rel == exclude || rel.rfind(exclude + "/", 0) == 0)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    std::string mode = std::to_string(st.st_mode & 07777);
    if (S_ISDIR(st.st_mode)) {
      out[rel] = "dir " + mode;
    } else if (S_ISLNK(st.st_mode)) {
      out[rel] = "link " + fs::read_symlink(it->path()).string();
    } else if (!S_ISREG(st.st_mode)) {  // a FIFO or a device: never opened, it could block
      out[rel] = "special " + std::to_string(st.st_mode & S_IFMT) + " " + mode;
    } else if (st.st_size > kMaxHashedBytes) {  // a planted sparse giant: its size will do
      out[rel] = "size " + std::to_string(st.st_size) + " " + mode + " " +
                 std::to_string(st.st_mtim.tv_sec);
    } else {
      out[rel] = to_hex(Sha256::of(read_file(it->path()))) + " " + mode + " " +
                 std::to_string(st.st_mtim.tv_sec);
    }
  }
  return out;
}

std::string describe_difference(const std::map<std::string, std::string>& before,
                                const std::map<std::string, std::string>& after) {
  std::string out;
  for (const auto& [path, value] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      out += "removed: " + path + "\n";
    } else if (it->second != value) {
      out += "changed: " + path + " (" + value + " -> " + it->second + ")\n";
    }
  }
  for (const auto& [path, value] : after) {
    if (!before.count(path)) out += "added: " + path + "\n";
  }
  return out;
}

}  // namespace hotfix::test
