#include "installer/disk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

#include "manifests/errors.h"

namespace hotfix {

namespace {

class RealFile : public WritableFile {
 public:
  RealFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~RealFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void append(const void* data, std::size_t size) override {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw SystemError(path_, "write", errno);
      }
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  }
  void sync() override {
    if (::fdatasync(fd_) != 0) throw SystemError(path_, "fsync", errno);
  }
  void start_writeback() override {
    if (fd_ >= 0) ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
  }
  void close() override {
    if (fd_ >= 0) {
      int r = ::close(fd_);
      fd_ = -1;
      if (r != 0 && errno != EINTR) throw SystemError(path_, "close", errno);
    }
  }

 private:
  int fd_;
  std::string path_;
};

class RealDisk : public Disk {
 public:
  std::unique_ptr<WritableFile> create(const std::string& path, std::uint32_t mode) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    static_cast<mode_t>(mode));
    if (fd < 0) throw SystemError(path, "create", errno);
    return std::make_unique<RealFile>(fd, path);
  }
  void rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) throw SystemError(to, "rename", errno);
  }
  void link(const std::string& from, const std::string& to) override {
    if (::link(from.c_str(), to.c_str()) != 0) throw SystemError(to, "link", errno);
  }
  bool remove(const std::string& path) override {
    if (::unlink(path.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    throw SystemError(path, "remove", errno);
  }
  void make_dir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      throw SystemError(path, "create directory", errno);
    }
  }
  bool remove_dir(const std::string& path) override {
    if (::rmdir(path.c_str()) == 0) return true;
    if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST) return false;
    throw SystemError(path, "remove directory", errno);
  }
  void sync_dir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw SystemError(path, "open directory", errno);
    int r = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (r != 0) throw SystemError(path, "fsync directory", err);
  }
  void sync_filesystem(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw SystemError(path, "open", errno);
    int r = ::syncfs(fd);
    int err = errno;
    ::close(fd);
    if (r != 0) throw SystemError(path, "syncfs", err);
  }
  void set_metadata(const std::string& path, const FileMetadata& m) override {
    if (m.uid || m.gid) {
      if (::lchown(path.c_str(), m.uid ? *m.uid : static_cast<uid_t>(-1),
                   m.gid ? *m.gid : static_cast<gid_t>(-1)) != 0) {
        throw SystemError(path, "chown", errno);
      }
    }
    if (::chmod(path.c_str(), static_cast<mode_t>(m.mode & 07777)) != 0) {
      throw SystemError(path, "chmod", errno);
    }
    struct timespec times[2] = {{m.mtime, 0}, {m.mtime, 0}};
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      throw SystemError(path, "set times", errno);
    }
  }
  bool exists(const std::string& path) override {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
  }
  std::string read_file(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) throw SystemError(path, "open", errno);
    std::string out;
    std::vector<char> buf(1 << 16);
    while (true) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        throw SystemError(path, "read", err);
      }
      if (n == 0) break;
      out.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
  }
  void commit(const std::function<void()>& durable_commit) override { durable_commit(); }
};

}  // namespace

Disk& real_disk() {
  static RealDisk disk;
  return disk;
}

}  // namespace hotfix
