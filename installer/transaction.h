// The transaction that replaces a set of files all or nothing, even across a crash or power
// loss (docs/transaction.md): stage beside each destination, keep backups, journal, swap by
// rename, make durable, commit the database, clean up. Recovery finishes or undoes it.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "installer/disk.h"
#include "installer/journal.h"

namespace hotfix {

// Writes every kPut op's staged file (content and metadata). Called once the journal is
// durable, so that a crash while staging leaves nothing recovery cannot remove.
using Stager = std::function<void(const Journal&)>;
// Commits the database; must record the journal's txid with it (see recover()). Run through
// Disk::commit, the seam's commit point.
using Committer = std::function<void()>;

// Runs the transaction on `disk`'s root; `state_dir` is relative to it. On any error before
// the commit the root is rolled back to the old set and the error rethrown; nothing is left
// behind. Returns a warning when the change committed but the clean-up after it failed (the
// journal stays, and the next command finishes the clean-up).
std::optional<std::string> run_transaction(Disk& disk, const std::string& state_dir,
                                           Journal journal, const Stager& stage,
                                           const Committer& commit);

enum class RecoveryOutcome { kNothing, kRolledBack, kRolledForward };

// Brings a root with a journal back to a consistent state: forward when the database already
// holds the transaction (`committed(txid)`), otherwise back to the old set.
RecoveryOutcome recover(Disk& disk, const std::string& state_dir,
                        const std::function<bool(const std::string& txid)>& committed,
                        Journal* recovered = nullptr);

// A fresh transaction id: UTC time and randomness, sortable.
std::string new_txid();

}  // namespace hotfix
