// What reinstalling the installed revision of a hotfix puts back (apply --reinstall): each file
// the hotfix accounts for that verify finds not as promised, with the content from the bundle
// of that same revision. A configuration file the administrator changed is left alone unless
// forced: after the install it is theirs, as rpm treats a changed `c` file.
#pragma once

#include <cstddef>
#include <vector>

#include "installer/installed_state.h"
#include "installer/plan.h"
#include "installer/verify.h"

namespace hotfix {

struct RepairPlan {
  Plan plan;                            // one entry per record of the hotfix, in record order
  std::vector<std::size_t> record;      // plan.files[i] is installed.files[record[i]]
  std::vector<FileAction> put_back_as;  // the record's action once the file is put back
  bool changes_files() const { return plan.changes_files(); }
};

// Decisions: kSkip for a file as promised (or superseded by a later hotfix, or a changed
// configuration file without `force`); kInstall or kReplace to put the hotfix's file back;
// kKeep to write NAME.hotfix-new again beside a kept configuration file. `checks` is verify's
// report for this hotfix. Throws Error(kBadInput) when the bundle is not the installed
// revision's (a file missing or with other content) or when a path holds something other than
// a regular file, and Error(kSystem) for a file verify could not read.
RepairPlan make_repair_plan(const InstalledHotfix& installed, const std::vector<FileEntry>& entries,
                            const std::vector<FileCheck>& checks, const Root& root, bool fold_case,
                            bool force);

}  // namespace hotfix
