#include "manifests/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "manifests/errors.h"
#include "manifests/read_to_end.h"

namespace hotfix {

FileDescriptor open_named_input(const std::string& path, int flags, std::string_view what) {
  FileDescriptor fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (fd) return fd;
  int error = errno;
  if (error == ENOENT || error == ENOTDIR) {
    throw Error(ErrorKind::kBadInput, path, "does not exist (" + std::string(what) + ")");
  }
  if (error == ELOOP) {
    throw Error(ErrorKind::kBadInput, path,
                "is a loop of symbolic links (" + std::string(what) + ")");
  }
  throw SystemError(path, "cannot open " + std::string(what), error);
}

std::string read_named_input(const std::string& path, std::size_t limit, std::string_view what) {
  FileDescriptor fd = open_named_input(path, O_RDONLY | O_NONBLOCK | O_NOCTTY, what);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw SystemError(path, "stat", errno);
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorKind::kBadInput, path, "is not a regular file (" + std::string(what) + ")");
  }
  std::string text = read_to_end(fd.get(), limit, path);
  if (text.size() > limit) {
    throw Error(
        ErrorKind::kBadInput, path,
        "is larger than " + std::to_string(limit / 1024) + " KiB (" + std::string(what) + ")");
  }
  return text;
}

}  // namespace hotfix
