// Whether a hotfix applies to a root, in the words apply uses when it refuses one: shared by
// apply (from the bundle's signed manifest) and sync (from the repository's signed targets,
// before anything is downloaded), so that both say the same thing.
#pragma once

#include <optional>
#include <string>

#include "installer/installed_state.h"
#include "installer/prerequisite_eval.h"
#include "installer/root.h"
#include "installer/state_db.h"
#include "installer/target_facts.h"
#include "manifests/arch.h"
#include "manifests/prerequisite.h"

namespace hotfix {

struct HotfixDescription {
  std::string id;
  std::uint64_t revision = 0;
  Arch arch = Arch::kX64;
  std::string family;  // "" for any
  const Prerequisite* prerequisites = nullptr;
};

// The architecture and the family: "the bundle is for x86; the target is x64".
std::optional<std::string> platform_refusal(const HotfixDescription& h, const TargetFacts& facts);

// A lower revision than the installed one, supersedence by an installed hotfix, then the
// prerequisites, in that order. The same revision installed is not a refusal: the caller
// decides what that means.
// `all_installed` is db.hotfixes(false, false), read once by a caller that asks for many.
std::optional<std::string> install_refusal(const HotfixDescription& h,
                                           const std::optional<InstalledHotfix>& installed,
                                           const std::vector<InstalledHotfix>& all_installed,
                                           const PrerequisiteContext& context);

// Prerequisites read from the root as apply reads them: hotfixes in the database or in the
// facts, file versions from the files under the root.
PrerequisiteContext root_prerequisite_context(const Root& root, const StateDb& db,
                                              const TargetFacts& facts);

}  // namespace hotfix
