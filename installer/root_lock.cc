#include "installer/root_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>

#include "manifests/errors.h"
#include "manifests/timestamp.h"

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

namespace {

// "pid 1234 since 2026-12-02T18:40:01Z": the holder wrote its pid when it took the lock,
// so the file's mtime is when that was.
std::string holder_text(int fd) {
  std::string pid = recorded_pid(fd);
  struct stat st {};
  std::string since =
      ::fstat(fd, &st) == 0 ? " since " + Timestamp(st.st_mtim.tv_sec).iso8601() : std::string();
  return (pid.empty() ? std::string("another installer") : "pid " + pid) + since;
}

bool try_lock(int fd) {
  struct flock exclusive = whole_file(F_WRLCK);
  while (::fcntl(fd, F_OFD_SETLK, &exclusive) != 0) {
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) return false;
    throw SystemError("lock", "lock", errno);
  }
  return true;
}

// Waits for the lock: blocking when there is no timeout, else trying every 50 ms until it.
bool wait_for(int fd, const LockWait& how) {
  if (!how.timeout) {
    struct flock exclusive = whole_file(F_WRLCK);
    while (::fcntl(fd, F_OFD_SETLKW, &exclusive) != 0) {
      if (errno != EINTR) throw SystemError("lock", "lock", errno);
    }
    return true;
  }
  const auto deadline = std::chrono::steady_clock::now() + *how.timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    ::usleep(50 * 1000);
    if (try_lock(fd)) return true;
  }
  return try_lock(fd);
}

}  // namespace

RootLock::RootLock(const Root& root, const std::string& state_dir, const LockWait& how) {
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
  try {
    if (!try_lock(fd_)) wait_or_give_up(path, how);
  } catch (const SystemError& e) {
    ::close(fd_);
    fd_ = -1;
    throw SystemError(path, "lock", e.error_number());
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] ssize_t n = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

void RootLock::wait_or_give_up(const std::string& path, const LockWait& how) {
  const std::string holder = holder_text(fd_);
  if (!how.wait) {
    throw Error(ErrorKind::kBusy, path,
                "busy: another installer is changing this root (" + holder +
                    "); try again, or leave out --no-wait to wait for it");
  }
  if (how.notice) how.notice("waiting for the lock held by " + holder + " (" + path + ")");
  if (wait_for(fd_, how)) return;
  const auto ms = how.timeout->count();
  throw Error(ErrorKind::kBusy, path,
              "busy: another installer is changing this root (" + holder_text(fd_) +
                  "); gave up after " + std::to_string(ms / 1000) +
                  (ms % 1000 ? "." + std::to_string(ms % 1000 / 100) : "") + " s (--lock-timeout)");
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
