#include "manifests/input_file.h"

#include <fcntl.h>

#include <cerrno>

#include "manifests/errors.h"

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

}  // namespace hotfix
