#include "installer/free_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <limits>
#include <string>

#include "manifests/errors.h"

namespace hotfix {

// Each staged file takes whole blocks: a thousand one-byte files need a thousand blocks, not a
// thousand bytes. Each staged file and created directory also takes an inode, and a
// filesystem can run out of those with blocks to spare.
void check_free_space(const Root& root_dir, const std::vector<std::uint64_t>& sizes,
                      std::size_t created_dirs) {
  const std::string& root = root_dir.path();
  struct statvfs vfs {};
  if (::fstatvfs(root_dir.fd(), &vfs) != 0) throw SystemError(root, "statvfs", errno);
  std::uint64_t avail = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  const std::uint64_t block = vfs.f_frsize ? vfs.f_frsize : 4096;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  // Saturating: a signed manifest may declare sizes whose sum does not fit in 64 bits.
  auto add = [&](std::uint64_t a, std::uint64_t b) { return a > kMax - b ? kMax : a + b; };
  const std::uint64_t margin = 1 << 20;
  std::uint64_t need = margin;
  for (std::uint64_t size : sizes) {
    std::uint64_t blocks = size / block + (size % block != 0);
    need = add(need, blocks > kMax / block ? kMax : blocks * block);
  }
  if (need > avail) {
    throw Error(ErrorKind::kSystem, root,
                "not enough free space: staging needs " + std::to_string(need) + " bytes, " +
                    std::to_string(avail) + " are available; nothing was changed");
  }
  // Filesystems without a fixed inode table (btrfs, some network ones) report none at all.
  if (vfs.f_files > 0) {
    // Besides the files and directories: the journal, its temporary file, the backup directory.
    constexpr std::uint64_t kInodeMargin = 8;
    std::uint64_t inodes = sizes.size() + created_dirs + kInodeMargin;
    if (inodes > vfs.f_favail) {
      throw Error(ErrorKind::kSystem, root,
                  "not enough free inodes: staging needs " + std::to_string(inodes) +
                      " (files and directories), " + std::to_string(vfs.f_favail) +
                      " are available; nothing was changed");
    }
  }
}

}  // namespace hotfix
