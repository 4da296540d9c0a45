#include "packager/drop_scan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <vector>

#include "manifests/errors.h"
#include "manifests/file_identity.h"
#include "manifests/manifest_json.h"
#include "manifests/sha256.h"

namespace hotfix {

namespace {

Sha256Digest hash_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw SystemError(path, "open", errno);
  Sha256 hash;
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw SystemError(path, "read", err);
    }
    if (n == 0) break;
    hash.update(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return hash.finish();
}

}  // namespace

std::vector<FileEntry> scan_drop(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_symlink()) {
      throw Error(ErrorKind::kBadInput, it->path().string(),
                  "symbolic link in the drop: a drop must hold real files");
    }
    if (it->is_directory()) continue;
    if (!it->is_regular_file()) {
      throw Error(ErrorKind::kBadInput, it->path().string(), "special file in the drop");
    }
    paths.push_back(fs::relative(it->path(), dir).generic_string());
  }
  if (ec) throw SystemError(dir, "read directory", ec.value());
  std::sort(paths.begin(), paths.end());

  std::vector<FileEntry> files;
  for (const std::string& rel : paths) {
    std::string path = dir + "/" + rel;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw SystemError(path, "stat", errno);
    FileIdentity id = identify_file(path);
    FileEntry f;
    auto slash = rel.find_last_of('/');
    f.name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    f.destination = slash == std::string::npos ? "" : rel.substr(0, slash);
    f.version = id.version();
    f.size = static_cast<std::uint64_t>(st.st_size);
    f.timestamp = Timestamp(static_cast<std::int64_t>(st.st_mtim.tv_sec));
    f.platform = id.arch().value_or(Arch::kNeutral);
    f.kind = FileKind::kBinary;
    f.sha256 = hash_file(path);
    files.push_back(std::move(f));
  }
  return files;
}

std::string file_entries_json(const std::vector<FileEntry>& files) {
  return write_file_entries(files);
}

}  // namespace hotfix
