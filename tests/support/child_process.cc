#include "tests/support/child_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "tests/support/run.h"

namespace hotfix::test {

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  start_ = std::chrono::steady_clock::now();
  pid_ = spawn(argv, env, (dir_ / "out").string(), (dir_ / "err").string());
}

Child::~Child() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
}

bool Child::exited() {
  if (reaped_) return true;
  pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    end_ = std::chrono::steady_clock::now();
  }
  return reaped_;
}

void Child::signal(int number) {
  if (!exited()) ::kill(pid_, number);
}

RunResult Child::collect() {
  RunResult result;
  result.exit_code = WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  result.out = read_file(dir_ / "out");
  result.err = read_file(dir_ / "err");
  return result;
}

RunResult Child::wait() {
  if (!reaped_) {
    while (::waitpid(pid_, &status_, 0) < 0) {
      if (errno != EINTR) throw std::runtime_error("waitpid failed");
    }
    reaped_ = true;
    end_ = std::chrono::steady_clock::now();
  }
  return collect();
}

std::optional<RunResult> Child::wait_for(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exited()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return collect();
}

std::chrono::steady_clock::duration Child::elapsed() const {
  return (reaped_ ? end_ : std::chrono::steady_clock::now()) - start_;
}

}  // namespace hotfix::test
