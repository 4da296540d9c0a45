// The per-root writer lock: one installer changes a root at a time. Readers (list, verify,
// status) never take it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "installer/root.h"

namespace hotfix {

// How a writer waits for another's lock.
struct LockWait {
  bool wait = true;  // false: busy at once
  // With `wait`: give up after this long (Error(kBusy)); none: wait as long as it takes.
  std::optional<std::chrono::milliseconds> timeout;
  // Told once, when the lock is held by another: "waiting for the lock held by pid N since
  // TIME (PATH)", so that a command that seems to hang says why.
  std::function<void(const std::string&)> notice;
};

class RootLock {
 public:
  // Locks <state_dir>/lock, waiting as `how` says; busy is Error(kBusy) naming the holder's
  // pid and since when it has held the lock.
  RootLock(const Root& root, const std::string& state_dir, const LockWait& how);
  RootLock(const Root& root, const std::string& state_dir, bool wait)
      : RootLock(root, state_dir, LockWait{wait, std::nullopt, nullptr}) {}
  ~RootLock();
  RootLock(const RootLock&) = delete;
  RootLock& operator=(const RootLock&) = delete;

 private:
  void wait_or_give_up(const std::string& path, const LockWait& how);
  int fd_ = -1;
};

// Whether a writer holds <state_dir>/lock at this moment, tested without taking it (so a
// reader neither waits nor makes a writer wait), with the pid the holder wrote in the file.
// A pid left in the file by a writer that was killed is not a holder, even if another
// process has since been given that pid.
struct LockHolder {
  bool held = false;
  std::optional<long> pid;  // as the holder recorded it; absent when not held or unreadable
};
LockHolder lock_holder(const Root& root, const std::string& state_dir);

}  // namespace hotfix
