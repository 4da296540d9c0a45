#include "samples/standins/standin_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "manifests/errors.h"

namespace hotfix::standins {

namespace fs = std::filesystem;

namespace {

bool is_empty_directory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(fs::symlink_status(path, ec)) && fs::is_empty(path, ec) && !ec;
}

void make_directories(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw SystemError(path.string(), "create directory", ec.value());
}

}  // namespace

void prepare_trees(const std::vector<fs::path>& trees, bool force) {
  std::vector<fs::path> occupied;
  for (const fs::path& tree : trees) {
    std::error_code ec;
    fs::file_status status = fs::symlink_status(tree, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
      throw SystemError(tree.string(), "stat", ec.value());
    }
    if (fs::exists(status) && !is_empty_directory(tree)) occupied.push_back(tree);
  }
  if (!force && !occupied.empty()) {
    throw Error(ErrorKind::kBadInput, occupied.front().string(),
                "output directory is not empty; pass --force to replace it");
  }
  for (const fs::path& tree : occupied) {
    std::error_code ec;
    fs::remove_all(tree, ec);
    if (ec) throw SystemError(tree.string(), "remove", ec.value());
  }
  for (const fs::path& tree : trees) make_directories(tree);
}

void write_standin(const fs::path& tree, const StandinFile& file) {
  const fs::path path = tree / file.path;
  make_directories(path.parent_path());
  const std::string name = path.string();
  int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) throw SystemError(name, "open", errno);
  std::size_t written = 0;
  while (written < file.content.size()) {
    ssize_t n = ::write(fd, file.content.data() + written, file.content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      ::close(fd);
      throw SystemError(name, "write", error);
    }
    written += static_cast<std::size_t>(n);
  }
  const struct timespec times[2] = {
      {static_cast<time_t>(file.mtime.unix_seconds()), 0},
      {static_cast<time_t>(file.mtime.unix_seconds()), 0},
  };
  if (::futimens(fd, times) != 0) {
    int error = errno;
    ::close(fd);
    throw SystemError(name, "set file times", error);
  }
  if (::close(fd) != 0) throw SystemError(name, "close", errno);
}

}  // namespace hotfix::standins
