// The per-root writer lock: one installer changes a root at a time. Readers (list, verify,
// status) never take it.
#pragma once

#include <optional>
#include <string>

#include "installer/root.h"

namespace hotfix {

class RootLock {
 public:
  // Locks <state_dir>/lock. With `wait`, blocks until the other writer is done; without,
  // throws Error(kBusy) naming the holder's pid when another installer holds it.
  RootLock(const Root& root, const std::string& state_dir, bool wait);
  ~RootLock();
  RootLock(const RootLock&) = delete;
  RootLock& operator=(const RootLock&) = delete;

 private:
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
