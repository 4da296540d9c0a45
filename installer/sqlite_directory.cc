#include "installer/sqlite_directory.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <mutex>
#include <optional>
#include <set>

#include "manifests/errors.h"

namespace hotfix {

namespace {

// Names handed out are "<kBase>/<fd>" (the directory itself, which SQLite opens to fsync it)
// and "<kBase>/<fd>/<file>". Every name at or below kBase is answered here, never by the
// system: SQLite resolves each component of a name with lstat and readlink, and a link
// planted at kBase must not turn a name into a path of its choosing.
constexpr std::string_view kBase = "/.hotfix-sqlite-dir";

std::mutex registry_mutex;
std::set<int>& registry() {
  static std::set<int> fds;
  return fds;
}

struct Target {
  int dir = -1;      // -1: a name under kBase that is not a registered directory's
  std::string file;  // empty: the directory itself
};

// nullopt: not a name of ours, for the system.
std::optional<Target> target_of(const char* path) {
  std::string_view p(path);
  if (!p.starts_with(kBase)) return std::nullopt;
  p.remove_prefix(kBase.size());
  if (p.empty()) return Target{};
  if (p.front() != '/') return std::nullopt;
  p.remove_prefix(1);
  int fd = -1;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), fd);
  if (ec != std::errc() || fd < 0) return Target{};
  std::string_view rest(end, static_cast<std::size_t>(p.data() + p.size() - end));
  if (!rest.empty()) {
    if (rest.front() != '/') return Target{};
    rest.remove_prefix(1);
    if (rest.empty() || rest.find('/') != std::string_view::npos || rest == "." || rest == "..")
      return Target{};
  }
  std::lock_guard guard(registry_mutex);
  if (!registry().contains(fd)) return Target{};
  return Target{fd, std::string(rest)};
}

int no_such_file() {
  errno = ENOENT;
  return -1;
}

// A file under the directory: never through a link, and without blocking on a FIFO; anything
// but a regular file is refused (EINVAL), so SQLite reports that it cannot open it.
int open_file(const Target& t, int flags, mode_t mode) {
  int fd = ::openat(t.dir, t.file.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  struct stat st {};
  int error = ::fstat(fd, &st) != 0 ? errno : (S_ISREG(st.st_mode) ? 0 : EINVAL);
  if (error == 0 && !(flags & O_NONBLOCK) &&
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    error = errno;
  }
  if (error != 0) {
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

int hooked_open(const char* path, int flags, int mode) {
  auto t = target_of(path);
  if (!t) return ::open(path, flags, static_cast<mode_t>(mode));
  if (t->dir < 0) return no_such_file();
  if (t->file.empty()) return ::openat(t->dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return open_file(*t, flags, static_cast<mode_t>(mode));
}

int stat_target(const Target& t, struct stat* st) {
  if (t.dir < 0) return no_such_file();
  if (t.file.empty()) return ::fstat(t.dir, st);
  return ::fstatat(t.dir, t.file.c_str(), st, AT_SYMLINK_NOFOLLOW);
}

int hooked_stat(const char* path, struct stat* st) {
  auto t = target_of(path);
  return t ? stat_target(*t, st) : ::stat(path, st);
}

int hooked_lstat(const char* path, struct stat* st) {
  auto t = target_of(path);
  return t ? stat_target(*t, st) : ::lstat(path, st);
}

int hooked_access(const char* path, int mode) {
  auto t = target_of(path);
  if (!t) return ::access(path, mode);
  if (t->dir < 0) return no_such_file();
  return ::faccessat(t->dir, t->file.empty() ? "." : t->file.c_str(), mode, 0);
}

int hooked_unlink(const char* path) {
  auto t = target_of(path);
  if (!t) return ::unlink(path);
  if (t->dir < 0) return no_such_file();
  if (t->file.empty()) {
    errno = EISDIR;
    return -1;
  }
  return ::unlinkat(t->dir, t->file.c_str(), 0);
}

ssize_t hooked_readlink(const char* path, char* buffer, size_t size) {
  if (target_of(path)) {
    errno = EINVAL;  // nothing handed out is a link
    return -1;
  }
  return ::readlink(path, buffer, size);
}

void install_hooks() {
  sqlite3_vfs* vfs = sqlite3_vfs_find("unix");
  if (!vfs || !vfs->xSetSystemCall) {
    throw Error(ErrorKind::kInternal, "sqlite", "the unix VFS has no replaceable system calls");
  }
  const std::pair<const char*, sqlite3_syscall_ptr> hooks[] = {
      {"open", reinterpret_cast<sqlite3_syscall_ptr>(&hooked_open)},
      {"stat", reinterpret_cast<sqlite3_syscall_ptr>(&hooked_stat)},
      {"lstat", reinterpret_cast<sqlite3_syscall_ptr>(&hooked_lstat)},
      {"access", reinterpret_cast<sqlite3_syscall_ptr>(&hooked_access)},
      {"unlink", reinterpret_cast<sqlite3_syscall_ptr>(&hooked_unlink)},
      {"readlink", reinterpret_cast<sqlite3_syscall_ptr>(&hooked_readlink)},
  };
  for (const auto& [call, hook] : hooks) {
    if (vfs->xSetSystemCall(vfs, call, hook) != SQLITE_OK) {
      throw Error(ErrorKind::kInternal, "sqlite",
                  std::string("cannot replace the unix VFS's ") + call);
    }
  }
}

}  // namespace

SqliteDirectory::SqliteDirectory(FileDescriptor dir) : dir_(std::move(dir)) {
  static std::once_flag once;
  std::call_once(once, install_hooks);
  std::lock_guard guard(registry_mutex);
  registry().insert(dir_.get());
}

SqliteDirectory::~SqliteDirectory() {
  std::lock_guard guard(registry_mutex);
  registry().erase(dir_.get());
}

std::string SqliteDirectory::name(std::string_view file) const {
  std::string n(kBase);
  n += '/';
  n += std::to_string(dir_.get());
  if (!file.empty()) {
    n += '/';
    n += file;
  }
  return n;
}

}  // namespace hotfix
