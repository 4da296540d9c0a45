#include "installer/disk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <vector>

#include "manifests/errors.h"

namespace hotfix {

namespace {

class RootFile : public WritableFile {
 public:
  RootFile(int fd, std::string shown) : fd_(fd), shown_(std::move(shown)) {}
  ~RootFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void append(const void* data, std::size_t size) override {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw SystemError(shown_, "write", errno);
      }
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  }
  void sync() override {
    if (::fdatasync(fd_) != 0) throw SystemError(shown_, "fsync", errno);
  }
  void start_writeback() override {
    if (fd_ >= 0) ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
  }
  void close() override {
    if (fd_ >= 0) {
      int r = ::close(fd_);
      fd_ = -1;
      if (r != 0 && errno != EINTR) throw SystemError(shown_, "close", errno);
    }
  }

 private:
  int fd_;
  std::string shown_;
};

// Every operation opens the directory holding its path from the root's descriptor (no link
// followed) and acts on the last name relative to it. The last few directories stay open:
// a transaction works in a handful of directories, thousands of times each.
class RootDisk : public Disk {
 public:
  explicit RootDisk(Root root) : root_(std::move(root)) {}
  const Root& root() const override { return root_; }

  std::unique_ptr<WritableFile> create(const std::string& path, std::uint32_t mode) override {
    Place p = at(path);
    int fd = ::openat(p.fd(), p.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                      static_cast<mode_t>(mode));
    if (fd < 0) throw SystemError(root_.show(path), "create", errno);
    // The mode asked for, not what the caller's umask leaves of it.
    if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
      int error = errno;
      ::close(fd);
      throw SystemError(root_.show(path), "chmod", error);
    }
    return std::make_unique<RootFile>(fd, root_.show(path));
  }
  void rename(const std::string& from, const std::string& to) override {
    Place a = at(from), b = at(to);
    if (::renameat(a.fd(), a.name.c_str(), b.fd(), b.name.c_str()) != 0) {
      throw SystemError(root_.show(to), "rename", errno);
    }
  }
  void link(const std::string& from, const std::string& to) override {
    Place a = at(from), b = at(to);
    if (::linkat(a.fd(), a.name.c_str(), b.fd(), b.name.c_str(), 0) != 0) {
      throw SystemError(root_.show(to), "link", errno);
    }
  }
  bool remove(const std::string& path) override {
    Place p = at(path, true);
    if (!p.dir) return false;
    if (::unlinkat(p.fd(), p.name.c_str(), 0) == 0) return true;
    if (errno == ENOENT) return false;
    throw SystemError(root_.show(path), "remove", errno);
  }
  bool make_dir(const std::string& path) override {
    Place p = at(path);
    if (::mkdirat(p.fd(), p.name.c_str(), 0755) == 0) return true;
    int err = errno;
    struct stat st {};
    if (err == EEXIST && ::fstatat(p.fd(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(st.st_mode)) return false;
      throw UnsafePathError(root_.show(path), S_ISLNK(st.st_mode)
                                                  ? "is a symbolic link where a directory is "
                                                    "needed, and none is followed here"
                                                  : "is not a directory");
    }
    throw SystemError(root_.show(path), "create directory", err);
  }
  bool remove_dir(const std::string& path) override {
    forget(path);
    Place p = at(path, true);
    if (!p.dir) return false;
    if (::unlinkat(p.fd(), p.name.c_str(), AT_REMOVEDIR) == 0) return true;
    if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST) return false;
    throw SystemError(root_.show(path), "remove directory", errno);
  }
  void sync_dir(const std::string& path) override {
    FileDescriptor fd = open_readable_dir(path);
    if (::fsync(fd.get()) != 0) throw SystemError(root_.show(path), "fsync directory", errno);
  }
  void sync_filesystem(const std::string& path) override {
    FileDescriptor fd = open_readable_dir(path);
    if (::syncfs(fd.get()) != 0) throw SystemError(root_.show(path), "syncfs", errno);
  }
  void set_metadata(const std::string& path, const FileMetadata& m) override {
    FileDescriptor fd = open_regular(path);
    if (m.uid || m.gid) {
      if (::fchown(fd.get(), m.uid ? *m.uid : static_cast<uid_t>(-1),
                   m.gid ? *m.gid : static_cast<gid_t>(-1)) != 0) {
        throw SystemError(root_.show(path), "chown", errno);
      }
    }
    if (::fchmod(fd.get(), static_cast<mode_t>(m.mode & 07777)) != 0) {
      throw SystemError(root_.show(path), "chmod", errno);
    }
    struct timespec times[2] = {{m.mtime, 0}, {m.mtime, 0}};
    if (::futimens(fd.get(), times) != 0) throw SystemError(root_.show(path), "set times", errno);
  }
  std::optional<struct stat> status(const std::string& path) override {
    if (path.empty()) return root_.status("");
    Place p = at(path, true);
    if (!p.dir) return std::nullopt;
    struct stat st {};
    if (::fstatat(p.fd(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return st;
    if (errno == ENOENT) return std::nullopt;
    throw SystemError(root_.show(path), "stat", errno);
  }
  std::string read_file(const std::string& path, std::uint64_t max_size) override {
    return root_.read_file(path, max_size);
  }
  void commit(const std::function<void()>& durable_commit) override { durable_commit(); }

 private:
  struct OpenDir {
    std::string path;
    std::shared_ptr<FileDescriptor> fd;
  };
  // The directory holding a path, kept open while the operation runs, and the last name.
  struct Place {
    std::shared_ptr<FileDescriptor> dir;  // null: missing (only when asked `if_exists`)
    std::string name;
    int fd() const { return dir ? dir->get() : -1; }
  };

  // The directory holding `path` and the last name. With `if_exists`, a missing directory
  // gives -1 instead of throwing.
  Place at(const std::string& path, bool if_exists = false) {
    if (path.empty() || !is_clean_relative(path)) {
      throw Error(ErrorKind::kInternal, "'" + path + "'", "not a clean path relative to the root");
    }
    auto [parent, name] = split_parent(path);
    return {directory(std::string(parent), if_exists), std::string(name)};
  }

  std::shared_ptr<FileDescriptor> directory(const std::string& path, bool if_exists) {
    for (const OpenDir& d : open_) {
      if (d.path == path) return d.fd;
    }
    std::optional<FileDescriptor> fd;
    if (if_exists) {
      fd = root_.open_dir_if_exists(path);
      if (!fd) return nullptr;
    } else {
      fd = root_.open_dir(path);
    }
    constexpr std::size_t kKept = 8;
    if (open_.size() == kKept) open_.erase(open_.begin());
    open_.push_back({path, std::make_shared<FileDescriptor>(std::move(*fd))});
    return open_.back().fd;
  }

  // A removed directory, and everything below it, is opened afresh next time.
  void forget(const std::string& path) {
    std::erase_if(open_, [&](const OpenDir& d) {
      return d.path == path || (d.path.size() > path.size() && d.path[path.size()] == '/' &&
                                d.path.compare(0, path.size(), path) == 0);
    });
  }

  // fsync and syncfs need a descriptor opened for reading, not O_PATH.
  FileDescriptor open_readable_dir(const std::string& path) {
    std::shared_ptr<FileDescriptor> base = directory(path, false);
    int fd = ::openat(base->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw SystemError(root_.show(path), "open directory", errno);
    return FileDescriptor(fd);
  }

  FileDescriptor open_regular(const std::string& path) {
    Place p = at(path);
    int fd = ::openat(p.fd(), p.name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) throw SystemError(root_.show(path), "open", errno);
    FileDescriptor file(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw SystemError(root_.show(path), "stat", errno);
    if (!S_ISREG(st.st_mode)) {
      throw Error(ErrorKind::kBadInput, root_.show(path), "is not a regular file");
    }
    return file;
  }

  Root root_;
  std::vector<OpenDir> open_;
};

}  // namespace

std::unique_ptr<Disk> make_root_disk(const Root& root) { return std::make_unique<RootDisk>(root); }

}  // namespace hotfix
