// The one narrow interface through which apply, uninstall and recover change the filesystem
// (after ninja's DiskInterface and LevelDB's Env): tests substitute an implementation that
// fails, stops or "loses power" at any single operation.
//
// A Disk works on one Root, and every path it takes is relative to that root and spelled as
// on disk (installer/root.h): the directory holding it is opened from the root's descriptor
// without following any symbolic link, so a link swapped in for a directory makes the
// operation fail instead of reaching outside the root.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "installer/root.h"

namespace hotfix {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual void append(const void* data, std::size_t size) = 0;
  virtual void sync() = 0;  // data durable (fdatasync)
  // A hint: start writing the data to disk now, so that a later sync has little left to do.
  // Promises nothing about durability and reports no error.
  virtual void start_writeback() {}
  virtual void close() = 0;  // idempotent
};

struct FileMetadata {
  std::uint32_t mode = 0644;
  std::int64_t mtime = 0;  // UTC seconds
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

class Disk {
 public:
  virtual ~Disk() = default;
  virtual const Root& root() const = 0;
  // Creates a new file exclusively, with exactly `mode` (whatever the umask); fails if it exists.
  virtual std::unique_ptr<WritableFile> create(const std::string& path, std::uint32_t mode) = 0;
  virtual void rename(const std::string& from, const std::string& to) = 0;  // atomic replace
  virtual void link(const std::string& from, const std::string& to) = 0;    // hard link
  virtual bool remove(const std::string& path) = 0;  // false if it did not exist
  // Creates a directory (mode 0755). False when a directory is already there; anything else
  // in its place is an error (EEXIST).
  virtual bool make_dir(const std::string& path) = 0;
  virtual bool remove_dir(const std::string& path) = 0;  // false if missing or not empty
  virtual void sync_dir(const std::string& path) = 0;
  // Makes everything written on the filesystem holding `path` ("" for the root's) durable
  // (syncfs): one call instead of one fsync per file.
  virtual void sync_filesystem(const std::string& path) = 0;
  // Mode, times and owner of a regular file (a link or anything else is refused).
  virtual void set_metadata(const std::string& path, const FileMetadata& metadata) = 0;
  // lstat: nullopt when nothing is there. Any other failure throws, so that an unreadable
  // directory is never taken for a missing file.
  virtual std::optional<struct stat> status(const std::string& path) = 0;
  bool exists(const std::string& path) { return status(path).has_value(); }
  // A regular file, whole, of at most `max_size` bytes (a FIFO, link or device is refused
  // without blocking, a larger file before it is read: Error kBadInput).
  virtual std::string read_file(const std::string& path, std::uint64_t max_size) = 0;
  // Runs a commit that is atomic and durable when it returns (the state database's
  // transaction: SQLite in WAL mode with synchronous=FULL). It is not a filesystem call, but it
  // is the transaction's commit point, so it is one operation of the seam: tests fail, stop or
  // "lose power" just before it, and at the next operation, just after it.
  virtual void commit(const std::function<void()>& durable_commit) = 0;
};

// The real filesystem under `root`.
std::unique_ptr<Disk> make_root_disk(const Root& root);

}  // namespace hotfix
