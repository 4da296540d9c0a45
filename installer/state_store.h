// The state database of a target root, opened through the state directory's descriptor once
// that directory and the installer's files in it passed check_state_dir
// (installer/state_checks.h): what was checked is what SQLite opens.
#pragma once

#include "installer/installer.h"
#include "installer/state_db.h"

namespace hotfix {

// kReadOnly: a root without a state directory or database is an empty view (nothing
// installed). kReadWrite: the state directory must exist (make_state_dir); the database is
// created when missing.
StateDb open_state_db(const InstallerContext& ctx, StateDb::Mode mode);

// Whether the root has a state database (after check_state_dir): a root that never had a
// hotfix has none, and nothing is made on it by asking.
bool has_state_db(const InstallerContext& ctx);

}  // namespace hotfix
