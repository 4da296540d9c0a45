#include "installer/atomic_write.h"

#include <exception>

namespace hotfix {

void write_atomically(Disk& disk, const std::string& path, std::string_view content,
                      std::uint32_t mode) {
  const std::string tmp = path + ".tmp";
  disk.remove(tmp);
  try {
    auto file = disk.create(tmp, mode);
    file->append(content.data(), content.size());
    file->sync();
    file->close();
    disk.rename(tmp, path);
  } catch (...) {
    try {
      disk.remove(tmp);  // a failed write leaves no half file behind
    } catch (const std::exception&) {
    }
    throw;
  }
  disk.sync_dir(std::string(split_parent(path).first));
}

}  // namespace hotfix
