#include "installer/applicability.h"

#include <algorithm>

#include "installer/root_paths.h"
#include "manifests/case_fold.h"
#include "manifests/errors.h"
#include "manifests/file_identity.h"

namespace hotfix {

std::optional<std::string> platform_refusal(const HotfixDescription& h, const TargetFacts& facts) {
  if (h.arch != facts.architecture) {
    return "the bundle is for " + std::string(arch_display(h.arch)) + "; the target is " +
           std::string(arch_display(facts.architecture));
  }
  if (!h.family.empty() && h.family != facts.family) {
    return "the hotfix is for " + h.family + "-family targets; the target is " + facts.family +
           "-family";
  }
  return std::nullopt;
}

std::optional<std::string> install_refusal(const HotfixDescription& h,
                                           const std::optional<InstalledHotfix>& installed,
                                           const std::vector<InstalledHotfix>& all_installed,
                                           const PrerequisiteContext& context) {
  if (installed && installed->revision > h.revision) {
    return "revision " + std::to_string(h.revision) + " is lower than the installed revision " +
           std::to_string(installed->revision) +
           " (no downgrade by replay; uninstall the installed one first)";
  }
  for (const InstalledHotfix& other : all_installed) {
    if (std::any_of(other.supersedes.begin(), other.supersedes.end(),
                    [&](const std::string& id) { return equal_fold(id, h.id); })) {
      return "superseded by installed hotfix " + other.id;
    }
  }
  if (h.prerequisites) {
    PrerequisiteResult prereq = evaluate_prerequisites(*h.prerequisites, context);
    if (!prereq.satisfied) return prereq.reason;
  }
  return std::nullopt;
}

PrerequisiteContext root_prerequisite_context(const Root& root, const StateDb& db,
                                              const TargetFacts& facts) {
  auto installed = [&db, &facts](const std::string& id) {
    return db.hotfix(id).has_value() ||
           std::any_of(facts.hotfixes.begin(), facts.hotfixes.end(),
                       [&](const std::string& f) { return equal_fold(f, id); });
  };
  bool fold = facts.windows_paths();
  auto file_version = [&root, fold](const std::string& path) -> std::optional<Version> {
    try {
      ResolvedPath p = resolve_under_root(root, path, fold);
      if (!p.exists) return std::nullopt;
      FileDescriptor fd = root.open_file(p.relative);
      return identify_fd(fd.get(), root.show(p.relative)).version();
    } catch (const Error&) {
      return std::nullopt;
    }
  };
  return PrerequisiteContext{facts, installed, file_version};
}

}  // namespace hotfix
