// The per-root writer lock: one installer changes a root at a time. Readers (list, verify,
// status) never take it.
#pragma once

#include <string>

namespace hotfix {

class RootLock {
 public:
  // Locks <state_dir>/lock. With `wait`, blocks until the other writer is done; without,
  // throws Error(kBusy) naming the holder's pid when another installer holds it.
  RootLock(const std::string& state_dir, bool wait);
  ~RootLock();
  RootLock(const RootLock&) = delete;
  RootLock& operator=(const RootLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace hotfix
