// A Disk for fault-injection tests (after LevelDB's FaultInjectionTestEnv): it passes every
// operation to the real disk and counts them; at one chosen operation it fails it with EIO or
// ENOSPC, stops the process dead, or "loses power": everything that was not made durable
// (file data not synced, names not made durable by a sync of their directory, metadata) is
// dropped from the tree and the process stops dead. Use it in a fork()ed child.
// Syncs are modelled, not performed: what survives a power loss is the model's to decide, and
// the real fsync and syncfs would only make the test slow.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "installer/disk.h"

namespace hotfix::test {

enum class FaultKind {
  kNone,
  kError,      // the operation throws SystemError: EIO at odd, ENOSPC at even operation numbers
  kCrash,      // _exit before the operation: what a kill -9 or a crash leaves
  kPowerLoss,  // drop what was not durable, then _exit before the operation
  kSwap,       // before the operation, its directory is swapped for a link out of the root
};
std::string_view fault_kind_name(FaultKind kind);

// The exit status of a process the FaultDisk stopped dead.
inline constexpr int kStoppedDead = 86;
// The exit status when the tree no longer matches the model: something changed the tree
// without going through the Disk (the message is written to the `report` file).
inline constexpr int kModelBroken = 87;

// HOTFIX_FAULT_STRIDE=N: a test injects faults at only every Nth operation (and the last),
// for slow builds (the sanitizer run); 1 when unset or not a positive number.
std::uint64_t fault_stride();

class FaultDisk : public Disk {
 public:
  // Paths are relative to `root`, as for every Disk. Models every entry under `root` except those
  // named in `untracked` (relative paths: the database files and the lock, which SQLite and flock
  // make durable themselves). Everything there now counts as durable. `original` is a directory
  // with the same files at the same paths (the template `root` was copied from): files that were
  // there from the start are rebuilt from it after a power loss. `report` receives a message when
  // the model breaks.
  FaultDisk(std::string root, std::string original, std::set<std::string> untracked,
            std::string report);
  ~FaultDisk() override;

  // Operation number `at` (counted from 1) gets the fault.
  void arm(std::uint64_t at, FaultKind kind);
  // Before operation `at`, the directory holding its path (the state directory for the
  // database's commit) is renamed to NAME.swapped and a symbolic link to the same relative
  // place under the absolute directory `outside` is put in its place; the operation runs.
  void arm_swap(std::uint64_t at, std::string outside);
  std::uint64_t operations() const { return count_; }
  bool fired() const { return fired_; }
  // Every operation so far, "operation path", in order (operation k is log()[k - 1]).
  const std::vector<std::string>& log() const { return log_; }
  // The errno an error fault at operation `at` uses.
  static int error_for(std::uint64_t at);

  // Drops everything that is not durable, then stops the process dead.
  [[noreturn]] void lose_power();
  // Empty when the tree under root holds exactly the modelled names (every change went
  // through this Disk); otherwise what differs.
  std::string model_mismatch() const;

  const Root& root() const override { return base_->root(); }
  std::unique_ptr<WritableFile> create(const std::string& path, std::uint32_t mode) override;
  void rename(const std::string& from, const std::string& to) override;
  void link(const std::string& from, const std::string& to) override;
  bool remove(const std::string& path) override;
  bool make_dir(const std::string& path) override;
  bool remove_dir(const std::string& path) override;
  void sync_dir(const std::string& path) override;
  void sync_filesystem(const std::string& path) override;
  void set_metadata(const std::string& path, const FileMetadata& metadata) override;
  std::optional<struct stat> status(const std::string& path) override;
  std::string read_file(const std::string& path, std::uint64_t max_size) override;
  void commit(const std::function<void()>& durable_commit) override;

  struct Node;  // one inode: a directory or a file, its content and metadata

 private:
  friend class FaultFile;
  // Counts one operation and delivers the fault when it is the armed one.
  void step(const std::string& path, const char* operation);
  std::string relative(const std::string& path) const;
  [[noreturn]] void broken(const std::string& why) const;
  void rebuild();
  void swap_directory(const std::string& dir);

  std::string root_, original_, report_, outside_;
  std::set<std::string> untracked_;
  std::unique_ptr<Disk> base_;
  std::uint64_t count_ = 0, armed_at_ = 0;
  FaultKind kind_ = FaultKind::kNone;
  bool fired_ = false;
  std::vector<std::string> log_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::shared_ptr<Node>> nodes_;
  std::map<std::string, std::uint64_t> current_;  // relative path -> node, as the tree is now
  std::map<std::string, std::uint64_t> durable_;  // what the tree would be after a power loss
};

}  // namespace hotfix::test
