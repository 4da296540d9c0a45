// SQLite opens its files by name, and the kernel resolves a name anew at each open: a state
// directory checked through the root's descriptor could be swapped for a link to elsewhere
// before SQLite opens the database, its -wal, -shm or -journal. A SqliteDirectory lends SQLite
// the checked directory's descriptor instead: the names it hands out are resolved against that
// descriptor (openat, fstatat, unlinkat), never followed through a symbolic link, and a file
// opened under them that is not a regular file (a FIFO, a device) is refused without blocking.
//
// This works by SQLite's own seam for it, the unix VFS's replaceable system calls
// (sqlite3_vfs.xSetSystemCall: open, access, stat, lstat, unlink, readlink), as FreeBSD's pkg
// does for its database directory. Names not handed out here go to the system unchanged.
#pragma once

#include <string>
#include <string_view>

#include "manifests/file_descriptor.h"

namespace hotfix {

class SqliteDirectory {
 public:
  // Takes `dir`, a directory (an O_PATH descriptor will do), for as long as this lives.
  explicit SqliteDirectory(FileDescriptor dir);
  ~SqliteDirectory();
  SqliteDirectory(const SqliteDirectory&) = delete;
  SqliteDirectory& operator=(const SqliteDirectory&) = delete;

  // The name SQLite is given for `file`, one name in this directory.
  std::string name(std::string_view file) const;
  int fd() const { return dir_.get(); }

 private:
  FileDescriptor dir_;
};

}  // namespace hotfix
