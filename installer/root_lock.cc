#include "installer/root_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "manifests/errors.h"

namespace hotfix {

namespace {

// An open-file-description lock over the whole file: owned by the open file, like flock(),
// and, unlike flock(), testable with F_OFD_GETLK without being taken.
struct flock whole_file(short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;
  return lock;
}

std::string recorded_pid(int fd) {
  std::string holder;
  char buf[32] = {};
  if (::pread(fd, buf, sizeof buf - 1, 0) > 0) holder = std::string(buf);
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
  return holder;
}

}  // namespace

RootLock::RootLock(const Root& root, const std::string& state_dir, bool wait) {
  std::string path = root.show(state_dir + "/lock");
  FileDescriptor dir = root.open_dir(state_dir);
  // O_NONBLOCK: a FIFO planted as the lock must not hang the installer.
  fd_ = ::openat(dir.get(), "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd_ < 0) throw SystemError(path, "open lock file", errno);
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw Error(ErrorKind::kStateDamaged, path, "state damaged: the lock is not a regular file");
  }
  struct flock exclusive = whole_file(F_WRLCK);
  while (::fcntl(fd_, wait ? F_OFD_SETLKW : F_OFD_SETLK, &exclusive) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    std::string holder = recorded_pid(fd_);
    ::close(fd_);
    fd_ = -1;
    if (err == EAGAIN || err == EACCES) {
      throw Error(ErrorKind::kBusy, path,
                  "busy: another installer is changing this root" +
                      (holder.empty() ? std::string() : " (pid " + holder + ")") +
                      "; try again, or leave out --no-wait to wait for it");
    }
    throw SystemError(path, "lock", err);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] ssize_t n = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

RootLock::~RootLock() {
  if (fd_ >= 0) {
    [[maybe_unused]] int r = ::ftruncate(fd_, 0);
    ::close(fd_);  // releases the lock
  }
}

LockHolder lock_holder(const Root& root, const std::string& state_dir) {
  LockHolder out;
  std::optional<FileDescriptor> dir;
  try {
    dir = root.open_dir_if_exists(state_dir);
  } catch (const std::exception&) {
    return out;
  }
  if (!dir) return out;
  int fd = ::openat(dir->get(), "lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return out;  // never locked, or not ours to read: no holder can be told
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return out;
  }
  struct flock probe = whole_file(F_WRLCK);
  if (::fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) {
    out.held = true;
    std::string pid = recorded_pid(fd);
    char* end = nullptr;
    long value = std::strtol(pid.c_str(), &end, 10);
    if (!pid.empty() && end && *end == '\0' && value > 0) out.pid = value;
  }
  ::close(fd);
  return out;
}

}  // namespace hotfix
