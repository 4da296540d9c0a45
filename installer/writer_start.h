// What every writing command of the library does before its own work, in one place: the
// state directory made (durably, no link followed), and the transaction a crash left behind
// finished or undone under the root's lock, recorded in the history.
#pragma once

#include <cstdint>
#include <string>

#include "installer/installer.h"
#include "installer/state_db.h"

namespace hotfix {

std::int64_t unix_now();

// Makes <root>/<state_dir> and each missing directory above it, each made durable in its
// parent before anything goes in it, then checks it (installer/state_checks.h).
void make_state_dir(const InstallerContext& ctx);

// Recovery under the lock, recorded in the history; what it did, in one line.
std::string recover_locked(const InstallerContext& ctx, StateDb& db);

// What a dry run does instead, holding no lock: it cannot guess what recovery would do, so
// an interrupted transaction is Error(kBusy).
void refuse_interrupted(const InstallerContext& ctx);

}  // namespace hotfix
