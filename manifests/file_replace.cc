#include "manifests/file_replace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "manifests/errors.h"
#include "manifests/file_descriptor.h"

namespace hotfix {

void write_all(int fd, const std::string& path, std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SystemError(path, "write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
}

void sync_parent(const std::string& path) {
  std::string::size_type slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw SystemError(dir, "open directory", errno);
  if (::fsync(fd.get()) != 0) throw SystemError(dir, "fsync", errno);
}

void write_file_atomically(const std::string& path, std::string_view data, mode_t mode,
                           bool overwrite) {
  if (!overwrite && ::access(path.c_str(), F_OK) == 0) {
    throw Error(ErrorKind::kBadInput, path, "already exists (use --force to replace it)");
  }
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) throw SystemError(tmp, "create", errno);
  try {
    if (::fchmod(fd, mode) != 0) throw SystemError(tmp, "chmod", errno);
    write_all(fd, tmp, data);
    if (::fsync(fd) != 0) throw SystemError(tmp, "fsync", errno);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw SystemError(tmp, "close", err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw SystemError(path, "rename", err);
  }
  sync_parent(path);
}

}  // namespace hotfix
