#include "installer/writer_start.h"

#include <ctime>

#include "installer/state_checks.h"
#include "installer/transaction.h"
#include "manifests/errors.h"

namespace hotfix {

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Each new directory is made durable in its parent before anything (the database) goes in it.
// No link is followed on the way: a `var` that is a link stops here with a clear error.
void make_state_dir(const InstallerContext& ctx) {
  Disk& disk = *ctx.disk;
  std::string path;
  std::size_t pos = 0;
  while (pos <= ctx.state_dir.size()) {
    std::size_t end = ctx.state_dir.find('/', pos);
    if (end == std::string::npos) end = ctx.state_dir.size();
    std::string parent = path;
    path = ctx.state_dir.substr(0, end);
    pos = end + 1;
    if (disk.make_dir(path)) disk.sync_dir(parent);
  }
  check_state_dir(ctx.root, ctx.state_dir);
}

// Recovery under the lock, recorded in the history.
std::string recover_locked(const InstallerContext& ctx, StateDb& db) {
  Journal journal;
  RecoveryOutcome outcome = recover(
      *ctx.disk, ctx.state_dir,
      [&](const std::string& txid) { return db.transaction_committed(txid); }, &journal);
  if (outcome == RecoveryOutcome::kNothing) return "nothing to recover";
  std::string what = outcome == RecoveryOutcome::kRolledBack ? "rolled back" : "rolled forward";
  HistoryEntry entry;
  entry.at = unix_now();
  entry.action = "recover";
  entry.hotfix_id = journal.hotfix_id;
  entry.outcome = what;
  entry.detail =
      "an interrupted " + journal.action + " of " + journal.hotfix_id + " was " + what +
      (outcome == RecoveryOutcome::kRolledBack ? " to the old files" : " to the new files");
  ctx.disk->commit([&] { db.add_history(entry); });
  return entry.detail;
}

void refuse_interrupted(const InstallerContext& ctx) {
  if (ctx.disk->exists(ctx.state_file("journal.json"))) {
    throw Error(ErrorKind::kBusy, ctx.state_dir,
                "an interrupted transaction is pending; run `hotfix-installer recover` first");
  }
}

}  // namespace hotfix
