#include "installer/root_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "manifests/errors.h"

namespace hotfix {

RootLock::RootLock(const std::string& state_dir, bool wait) {
  std::string path = state_dir + "/lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) throw SystemError(path, "open lock file", errno);
  while (::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    std::string holder;
    char buf[32] = {};
    if (::pread(fd_, buf, sizeof buf - 1, 0) > 0) holder = std::string(buf);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
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
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

}  // namespace hotfix
