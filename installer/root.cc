#include "installer/root.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <string>

#include "manifests/errors.h"
#include "manifests/read_to_end.h"

namespace hotfix {

namespace {

std::atomic<BeneathMode> g_mode{BeneathMode::kAuto};
std::atomic<bool> g_no_openat2{false};  // the kernel said ENOSYS once

int openat2_beneath(int base, const std::string& path) {
  struct open_how how {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  while (true) {
    long fd = ::syscall(SYS_openat2, base, path.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != EINTR) return static_cast<int>(fd);
  }
}

// One component at a time, never following a link: rpm's fsm.c walk.
int walk_beneath(int base, std::string_view relative) {
  int at = ::fcntl(base, F_DUPFD_CLOEXEC, 0);
  if (at < 0) return -1;
  std::size_t pos = 0;
  while (pos < relative.size()) {
    std::size_t end = relative.find('/', pos);
    if (end == std::string_view::npos) end = relative.size();
    std::string name(relative.substr(pos, end - pos));
    int next = ::openat(at, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    ::close(at);
    if (next < 0) {
      errno = err;
      return -1;
    }
    struct stat st {};
    if (::fstat(next, &st) != 0 || !S_ISDIR(st.st_mode)) {
      err = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
      ::close(next);
      errno = err;
      return -1;
    }
    at = next;
    pos = end + 1;
  }
  return at;
}

// Which component of `relative` below `base` is not a real directory, for the message.
std::string first_bad_component(int base, std::string_view relative) {
  FileDescriptor at(::fcntl(base, F_DUPFD_CLOEXEC, 0));
  std::size_t pos = 0;
  while (at && pos < relative.size()) {
    std::size_t end = relative.find('/', pos);
    if (end == std::string_view::npos) end = relative.size();
    std::string name(relative.substr(pos, end - pos));
    std::string so_far(relative.substr(0, end));
    struct stat st {};
    if (::fstatat(at.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) break;
    if (S_ISLNK(st.st_mode)) {
      return "'" + so_far + "' is a symbolic link, and none is followed here " +
             "(docs/transaction.md, \"The root is input\")";
    }
    if (!S_ISDIR(st.st_mode)) return "'" + so_far + "' is not a directory";
    at = FileDescriptor(
        ::openat(at.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    pos = end + 1;
  }
  return "a component of the path is a symbolic link or not a directory (it changed meanwhile)";
}

// ELOOP or ENOTDIR from openat2 or O_NOFOLLOW: a link or a file stood where a directory was
// expected.
[[noreturn]] void fail_open_dir(int base, std::string_view relative, const std::string& shown,
                                int err) {
  if (err == ELOOP || err == ENOTDIR) {
    throw UnsafePathError(shown, first_bad_component(base, relative));
  }
  throw SystemError(shown, "open directory", err);
}

bool same_inode(int fd, const char* path) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::stat(path, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

}  // namespace

void set_beneath_mode(BeneathMode mode) { g_mode = mode; }

int open_beneath(int base, std::string_view relative) {
  if (relative.empty()) return ::fcntl(base, F_DUPFD_CLOEXEC, 0);
  if (g_mode == BeneathMode::kAuto && !g_no_openat2) {
    int fd = openat2_beneath(base, std::string(relative));
    if (fd >= 0 || errno != ENOSYS) return fd;
    g_no_openat2 = true;
  }
  return walk_beneath(base, relative);
}

bool is_clean_relative(std::string_view relative) {
  if (relative.empty()) return true;
  if (relative.find('\0') != std::string_view::npos) return false;
  std::size_t pos = 0;
  while (true) {
    std::size_t end = relative.find('/', pos);
    std::string_view part =
        relative.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == std::string_view::npos) return true;
    pos = end + 1;
  }
}

std::pair<std::string_view, std::string_view> split_parent(std::string_view relative) {
  std::size_t slash = relative.find_last_of('/');
  if (slash == std::string_view::npos) return {std::string_view(), relative};
  return {relative.substr(0, slash), relative.substr(slash + 1)};
}

Root::Root(std::string path, std::shared_ptr<FileDescriptor> fd, bool live)
    : path_(std::move(path)), fd_(std::move(fd)), live_(live) {}

Root Root::open(const std::string& given) {
  std::string path = given;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty()) throw Error(ErrorKind::kBadInput, "--root", "is empty (expected a directory)");
  int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      throw Error(ErrorKind::kBadInput, "--root",
                  "'" + path + "' " + (err == ENOENT ? "does not exist" : "is not a directory") +
                      " (expected the target's root directory)");
    }
    throw SystemError(path, "open", err);
  }
  auto owned = std::make_shared<FileDescriptor>(fd);
  return Root(path, owned, same_inode(fd, "/"));
}

std::string Root::show(std::string_view relative) const {
  if (relative.empty()) return path_;
  return (path_ == "/" ? "/" : path_ + "/") + std::string(relative);
}

FileDescriptor Root::open_dir(std::string_view relative) const {
  if (!is_clean_relative(relative)) {
    throw Error(ErrorKind::kBadInput, std::string(relative), "is not a clean relative path");
  }
  int fd = open_beneath(fd_->get(), relative);
  if (fd < 0) fail_open_dir(fd_->get(), relative, show(relative), errno);
  return FileDescriptor(fd);
}

std::optional<FileDescriptor> Root::open_dir_if_exists(std::string_view relative) const {
  if (!is_clean_relative(relative)) {
    throw Error(ErrorKind::kBadInput, std::string(relative), "is not a clean relative path");
  }
  int fd = open_beneath(fd_->get(), relative);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return std::nullopt;
    fail_open_dir(fd_->get(), relative, show(relative), err);
  }
  return FileDescriptor(fd);
}

std::optional<struct stat> Root::status(std::string_view relative) const {
  if (relative.empty()) {
    struct stat st {};
    if (::fstat(fd_->get(), &st) != 0) throw SystemError(path_, "stat", errno);
    return st;
  }
  auto [parent, name] = split_parent(relative);
  std::optional<FileDescriptor> dir = open_dir_if_exists(parent);
  if (!dir) return std::nullopt;
  struct stat st {};
  if (::fstatat(dir->get(), std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError(show(relative), "stat", errno);
  }
  return st;
}

FileDescriptor Root::open_file(std::string_view relative) const {
  auto [parent, name] = split_parent(relative);
  if (name.empty()) throw Error(ErrorKind::kBadInput, show(relative), "is not a file name");
  FileDescriptor dir = open_dir(parent);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  int fd = ::openat(dir.get(), std::string(name).c_str(),
                    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) {
      throw Error(ErrorKind::kBadInput, show(relative),
                  "is a symbolic link; only regular files are read here");
    }
    throw SystemError(show(relative), "open", err);
  }
  FileDescriptor file(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw SystemError(show(relative), "stat", errno);
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorKind::kBadInput, show(relative), "is not a regular file");
  }
  // Reads block as usual from here on (O_NONBLOCK only guarded the open).
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return file;
}

std::vector<std::string> Root::list_dir(std::string_view relative) const {
  return list_opened_dir(open_dir(relative), relative);
}

std::vector<std::string> Root::list_opened_dir(const FileDescriptor& dir,
                                               std::string_view relative) const {
  int listing = ::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing < 0) throw SystemError(show(relative), "open directory", errno);
  DIR* d = ::fdopendir(listing);
  if (!d) {
    ::close(listing);
    throw SystemError(show(relative), "read directory", errno);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string Root::read_file(std::string_view relative, std::uint64_t max_size) const {
  return read_opened(open_file(relative), relative, max_size);
}

std::string Root::read_opened(const FileDescriptor& file, std::string_view relative,
                              std::uint64_t max_size) const {
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) throw SystemError(show(relative), "stat", errno);
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    throw Error(ErrorKind::kBadInput, show(relative),
                "is " + std::to_string(st.st_size) + " bytes, more than the " +
                    std::to_string(max_size) + " expected here");
  }
  std::string out = read_to_end(file.get(), static_cast<std::size_t>(max_size), show(relative));
  if (out.size() > max_size) {
    throw Error(ErrorKind::kBadInput, show(relative), "grew while it was read");
  }
  return out;
}

}  // namespace hotfix
