// A real program running in the background (posix_spawn, no shell), so that a test can stop,
// kill or time it while it works.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace hotfix::test {

class Child {
 public:
  // argv[0] is the program path; `env` adds NAME=VALUE entries to the environment.
  explicit Child(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~Child();  // kills and reaps a child still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool exited();            // reaps it when it has exited
  void signal(int number);  // no-op once it has exited
  RunResult wait();         // exit_code is 128 + signal number when a signal ended it
  // nullopt when it is still running after `timeout`.
  std::optional<RunResult> wait_for(std::chrono::milliseconds timeout);
  // From the start to the moment it was reaped (or now, while running).
  std::chrono::steady_clock::duration elapsed() const;

 private:
  RunResult collect();

  TempDir dir_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::chrono::steady_clock::time_point start_, end_;
};

}  // namespace hotfix::test
