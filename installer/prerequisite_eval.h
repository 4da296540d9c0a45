// Whether a target meets a hotfix's prerequisites, and if not, one line saying which clause
// failed and what the target is. The model is manifests/prerequisite.h; the wording is
// documented in docs/target-facts.md.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "installer/target_facts.h"
#include "manifests/prerequisite.h"
#include "manifests/version.h"

namespace hotfix {

struct PrerequisiteContext {
  const TargetFacts& facts;
  // Installed per the database or listed in facts.hotfixes.
  std::function<bool(const std::string& id)> hotfix_installed;
  // The version read from the file under the root; nullopt when missing or unversioned.
  std::function<std::optional<Version>(const std::string& path)> file_version;
  // Optional: whether the file exists, so that a reason can tell a missing file from an
  // unversioned one. When unset, a file without a version is reported as
  // "missing or unversioned".
  std::function<bool(const std::string& path)> file_exists = {};
};

struct PrerequisiteResult {
  bool satisfied = true;
  // Empty when satisfied. Otherwise "needs <the top clause's describe()>; <why not>", e.g.
  // "needs Windows Vista SP1 or Windows Server 2008; target is Windows Vista RTM".
  std::string reason;
};

// Throws whatever the context's callbacks throw. hotfix_installed and file_version are
// called only for clauses that name a hotfix or a file.
PrerequisiteResult evaluate_prerequisites(const Prerequisite& prerequisite,
                                          const PrerequisiteContext& context);

}  // namespace hotfix
