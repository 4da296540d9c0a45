// `hotfix-packager repo ...`: the publisher's commands over packager/repo_publish.h.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "manifests/cli_shell.h"

namespace hotfix {

class RepoCli {
 public:
  explicit RepoCli(CLI::App& app);  // adds the "repo" group and its commands to `app`
  ~RepoCli();
  bool json() const;
  // The exit code of the repo command that was chosen; nullopt when none was.
  std::optional<int> run(CommandOutput& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hotfix
