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
    // As the drop has it, the execute bit included; build warns of setuid, setgid, sticky.
    f.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
    f.sha256 = sha256_of_file(path);
    files.push_back(std::move(f));
  }
  return files;
}

std::string file_entries_json(const std::vector<FileEntry>& files) {
  return write_file_entries(files);
}

}  // namespace hotfix
