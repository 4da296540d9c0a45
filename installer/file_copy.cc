#include "installer/file_copy.h"

#include <cerrno>

#include "manifests/errors.h"

namespace hotfix {

void copy_file(Disk& disk, const std::string& from, const std::string& to) {
  std::optional<struct stat> st = disk.status(from);
  if (!st || !S_ISREG(st->st_mode)) {
    throw Error(ErrorKind::kStateDamaged, disk.root().show(from),
                st ? "is not a regular file" : "is missing");
  }
  std::string data = disk.read_file(from, static_cast<std::uint64_t>(st->st_size));
  auto mode = static_cast<std::uint32_t>(st->st_mode & 07777);
  auto file = disk.create(to, 0600);
  file->append(data.data(), data.size());
  file->close();
  disk.set_metadata(to, {mode, st->st_mtim.tv_sec, st->st_uid, st->st_gid});
}

void link_or_copy(Disk& disk, const std::string& from, const std::string& to) {
  try {
    disk.link(from, to);
  } catch (const SystemError& e) {
    if (e.error_number() != EXDEV && e.error_number() != EPERM && e.error_number() != EMLINK) {
      throw;
    }
    copy_file(disk, from, to);
  }
}

}  // namespace hotfix
