// The target root as a value: a directory descriptor opened once, from which every path below
// it is reached, never a string the kernel re-resolves. "/" is a root like any other.
//
// Paths given to a Root are relative to it and spelled as on disk. One with a leading "/", an
// empty, "." or ".." component, or a NUL is refused before any system call. Nothing here
// follows a symbolic link: every directory on the way must be a real directory
// (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, or an
// O_NOFOLLOW walk where the kernel has no openat2). Links inside the image are followed only
// by resolve_under_root (installer/root_paths.h), which keeps them inside the root.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifests/errors.h"
#include "manifests/file_descriptor.h"

namespace hotfix {

// A symbolic link, or something other than a directory, where a path below the root needs a
// real directory: the root holds a link where none is followed, or changed under the
// installer. Bad input (exit code 2), naming the path.
class UnsafePathError : public Error {
 public:
  UnsafePathError(std::string where, std::string why)
      : Error(ErrorKind::kBadInput, std::move(where), std::move(why)) {}
};

class Root {
 public:
  // Opens `path` ("/" for the running system). Throws Error(kBadInput, "--root") when it does
  // not exist or is not a directory.
  static Root open(const std::string& path);

  const std::string& path() const { return path_; }  // "/" or the directory, no trailing "/"
  // How to name `relative` in a message: "/var/lib/hotfix", "/mnt/image/var/lib/hotfix".
  std::string show(std::string_view relative) const;
  int fd() const { return fd_->get(); }
  bool live() const { return live_; }  // the running system's own root

  // The directory at `relative` ("" is the root itself), opened O_PATH. Throws
  // UnsafePathError when a component is a symbolic link or not a directory, SystemError
  // naming show(relative) otherwise (ENOENT when missing).
  FileDescriptor open_dir(std::string_view relative) const;
  // The same, but nullopt when it, or a directory on the way, does not exist.
  std::optional<FileDescriptor> open_dir_if_exists(std::string_view relative) const;
  // lstat of `relative` (a link is reported as a link); nullopt when it does not exist.
  // Any other error throws: an unreadable directory is not a missing file.
  std::optional<struct stat> status(std::string_view relative) const;
  // A regular file opened for reading. A FIFO, device or link is refused without blocking
  // (Error kBadInput "not a regular file").
  FileDescriptor open_file(std::string_view relative) const;
  // The whole of a regular file of at most `max_size` bytes (checked before reading).
  std::string read_file(std::string_view relative, std::uint64_t max_size) const;
  // The names in the directory `relative` (opened as open_dir does), sorted, without "." and
  // "..": a listing does not follow a link either. SystemError naming it otherwise.
  std::vector<std::string> list_dir(std::string_view relative) const;
  // The names in a directory this root already opened (open_dir), for messages `relative`.
  std::vector<std::string> list_opened_dir(const FileDescriptor& dir,
                                           std::string_view relative) const;
  // The same for a file open_file already opened (and the caller examined).
  std::string read_opened(const FileDescriptor& file, std::string_view relative,
                          std::uint64_t max_size) const;

 private:
  Root(std::string path, std::shared_ptr<FileDescriptor> fd, bool live);
  std::string path_;
  std::shared_ptr<FileDescriptor> fd_;  // shared: copies of a Root name one opened directory
  bool live_ = false;
};

// Whether `relative` is a path a Root accepts: relative, no empty, "." or ".." component, no
// NUL. "" (the root itself) is accepted.
bool is_clean_relative(std::string_view relative);

// The directory part and the name of a relative path: "a/b/c" -> {"a/b", "c"}, "c" -> {"", "c"}.
std::pair<std::string_view, std::string_view> split_parent(std::string_view relative);

// How directories beneath a root are opened. kAuto uses openat2 where the kernel has it;
// kWalk always walks one component at a time with openat(O_NOFOLLOW), as on kernels before
// Linux 5.6. Tests run both.
enum class BeneathMode { kAuto, kWalk };
void set_beneath_mode(BeneathMode mode);

// Opens the directory `relative` below the directory `base` the way Root::open_dir does;
// returns -1 with errno set on failure.
int open_beneath(int base, std::string_view relative);

}  // namespace hotfix
