#include "tests/support/tree_copy.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace hotfix::test {

void copy_tree(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  auto keep = [](const fs::path& path, const struct stat& st) {
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::chmod(path.c_str(), st.st_mode & 07777) != 0 ||
        ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      throw std::system_error(errno, std::generic_category(), path.string());
    }
  };
  struct stat top {};
  if (::lstat(from.c_str(), &top) != 0)
    throw std::system_error(errno, std::generic_category(), from);
  fs::create_directory(to);
  std::vector<std::pair<fs::path, struct stat>> dirs{{to, top}};
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = it->path().string().substr(from.size());  // lexically: cheap
    fs::path dest = to + (rel.empty() || rel[0] == '/' ? "" : "/") + rel;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) {
      throw std::system_error(errno, std::generic_category(), it->path().string());
    }
    if (S_ISDIR(st.st_mode)) {
      fs::create_directory(dest);
      dirs.emplace_back(dest, st);  // its mode and time once its entries are written
    } else if (S_ISREG(st.st_mode)) {
      fs::copy_file(it->path(), dest);
      keep(dest, st);
    } else {
      throw std::runtime_error(it->path().string() + ": only files and directories are copied");
    }
  }
  for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) keep(d->first, d->second);
}

}  // namespace hotfix::test
