#include "tests/support/run.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace hotfix::test {

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

RunResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  TempDir dir;
  std::string out_path = (dir / "out").string(), err_path = (dir / "err").string();
  pid_t pid = spawn(argv, env, out_path, err_path);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  RunResult result;
  result.max_rss_kib = usage.ru_maxrss;
  result.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

std::string packager_path() { return std::string(HOTFIX_BINARY_DIR) + "/packager/hotfix-packager"; }
std::string installer_path() {
  return std::string(HOTFIX_BINARY_DIR) + "/installer/hotfix-installer";
}
std::string make_standins_path() {
  return std::string(HOTFIX_BINARY_DIR) + "/samples/make-standins";
}
std::string source_path(const std::string& relative) {
  return std::string(HOTFIX_SOURCE_DIR) + "/" + relative;
}

}  // namespace hotfix::test
