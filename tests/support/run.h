// Runs one of the real programs as a child process and captures what it printed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace hotfix::test {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  // The child's peak resident memory. Linux keeps the high-water mark across exec, so this is
  // at least the spawning process's own: an upper bound for the child.
  long max_rss_kib = 0;
  double cpu_seconds = 0;  // the child's user and system time
};

// argv[0] is the program path; nothing goes through a shell.
// `env` adds NAME=VALUE entries to the environment.
RunResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// Starts argv (with `env` added) in the background, standard input from /dev/null, standard
// output and error into the two files; returns its pid. For callers that wait themselves.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::string& out_path, const std::string& err_path);

std::string packager_path();                           // the built hotfix-packager
std::string installer_path();                          // the built hotfix-installer
std::string make_standins_path();                      // the built make-standins
std::string source_path(const std::string& relative);  // a file of the source tree

}  // namespace hotfix::test
