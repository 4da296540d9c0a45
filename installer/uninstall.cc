// uninstall: one hotfix taken out of the layering and its files restored, in one transaction.
#include <algorithm>
#include <map>

#include "installer/file_copy.h"
#include "installer/installer.h"
#include "installer/journal.h"
#include "installer/layering.h"
#include "installer/restart.h"
#include "installer/state_checks.h"
#include "installer/state_db.h"
#include "installer/target_facts.h"
#include "installer/transaction.h"
#include "installer/writer_start.h"
#include "manifests/case_fold.h"
#include "manifests/errors.h"

namespace hotfix {

UninstallResult uninstall_hotfix(const InstallerContext& ctx, const std::string& id) {
  Disk& disk = *ctx.disk;
  const std::string& state = ctx.state_dir;
  check_state_dir(ctx.root, state);
  if (!disk.exists(ctx.state_file("state.db"))) {
    throw Error(ErrorKind::kNotApplicable, id, "is not installed (no hotfix is)");
  }
  TargetFacts facts = load_target_facts(ctx.root.path());
  const bool fold = facts.windows_paths();
  std::optional<RootLock> lock;
  if (!ctx.held_lock) lock.emplace(ctx.root, state, ctx.wait_for_lock);
  StateDb db = StateDb::open(ctx.show_state("state.db"), StateDb::Mode::kReadWrite);
  recover_locked(ctx, db);

  std::optional<InstalledHotfix> h = db.hotfix(id);
  if (!h) throw Error(ErrorKind::kNotApplicable, id, "is not installed");
  check_hotfix(*h, state, ctx.show_state("state.db"));
  for (const InstalledHotfix& other : db.hotfixes(false, false)) {
    if (other.id != id &&
        std::count(other.requires_hotfixes.begin(), other.requires_hotfixes.end(), id)) {
      HistoryEntry e{0,
                     unix_now(),
                     "uninstall",
                     id,
                     h->revision,
                     "refused",
                     "installed hotfix " + other.id + " requires it",
                     ""};
      db.add_history(e);
      throw Error(ErrorKind::kNotApplicable, id,
                  "cannot be uninstalled: installed hotfix " + other.id +
                      " names it as a prerequisite (uninstall " + other.id + " first)");
    }
  }

  const std::string txid = new_txid();
  Journal journal;
  journal.txid = txid;
  journal.action = "uninstall";
  journal.hotfix_id = id;
  std::vector<FileLayer> updated;
  std::map<std::string, std::string>
      link_sources;  // stage (root-relative) -> backup (state-relative)
  UninstallResult result;
  result.id = id;
  int i = 0;
  for (const InstalledFile& f : h->files) {
    std::string backup = "backups/" + txid + "/" + std::to_string(i++);
    if (f.action == FileAction::kKept) {
      std::string extra = f.path + ".hotfix-new";
      if (disk.exists(extra)) {
        journal.ops.push_back({JournalOp::Kind::kRemove, extra, "", backup, false});
        result.files.emplace_back(extra, "removed");
      }
    }
    if (!answers_for_path(f)) {
      if (f.action == FileAction::kSkipped) {
        result.files.emplace_back(f.path, "left as it was (the hotfix had skipped it)");
      }
      continue;
    }
    auto layers = db.layers(f.path, fold);
    if (auto later = hand_on(layers, id, f, updated, journal.discard_after_commit)) {
      // A later hotfix layered over this file since: its file stays, and it now displaces
      // what this hotfix had displaced.
      result.files.emplace_back(f.path, "kept " + *later + "'s version (installed later)");
      continue;
    }
    if (f.action == FileAction::kKept) {
      // The administrator changed the file after the hotfix put it there: it stays, as rpm
      // leaves a changed configuration file; what the hotfix had displaced is not needed.
      if (f.backup) journal.discard_after_commit.push_back(*f.backup);
      result.files.emplace_back(f.path, "left as the administrator changed it");
      continue;
    }
    bool present = disk.exists(f.path);
    if (f.backup) {
      JournalOp op{JournalOp::Kind::kPut, f.path, stage_name(f.path, txid),
                   present ? std::optional<std::string>(backup) : std::nullopt, false};
      link_sources[op.stage] = *f.backup;
      journal.ops.push_back(op);
      journal.discard_after_commit.push_back(*f.backup);
      result.files.emplace_back(f.path, "restored");
    } else if (present) {
      journal.ops.push_back({JournalOp::Kind::kRemove, f.path, "", backup, false});
      result.files.emplace_back(f.path, "removed (it did not exist before)");
    }
  }
  // The directories it created: one that still holds another installed hotfix's files is
  // handed on to that hotfix; the others are removed once committed, when empty, deepest
  // first (one that holds anything else stays).
  std::vector<DirOwner> handed_dirs;
  if (!h->created_dirs.empty()) {
    std::vector<InstalledHotfix> others = db.hotfixes(true, false);
    for (auto dir = h->created_dirs.rbegin(); dir != h->created_dirs.rend(); ++dir) {
      bool taken = false;
      for (const InstalledHotfix& other : others) {
        if (other.id == id) continue;
        bool needs = std::any_of(other.files.begin(), other.files.end(), [&](const auto& f) {
          return f.path != *dir && path_under(f.path, *dir, fold);
        });
        if (needs) {
          handed_dirs.emplace_back(other.id, *dir);
          taken = true;
        }
      }
      if (!taken) journal.remove_dirs_after_commit.push_back(*dir);
    }
  }

  RestartState restart = db.restart();
  result.restart_required = !journal.ops.empty() && h->restart != RestartRequirement::kNone;
  if (result.restart_required) check_reboot_required_place(ctx.root);
  if (result.restart_required) {
    restart.required = true;
    restart.kind = std::max(restart.kind, h->restart);
  }
  restart.hotfixes.erase(std::remove(restart.hotfixes.begin(), restart.hotfixes.end(), id),
                         restart.hotfixes.end());
  if (result.restart_required) restart.hotfixes.push_back(id + " (uninstalled)");
  HistoryEntry entry{0,
                     unix_now(),
                     "uninstall",
                     id,
                     h->revision,
                     "uninstalled",
                     std::to_string(result.files.size()) + " files handled",
                     txid};

  auto stager = [&](const Journal&) {
    for (const auto& [stage, backup] : link_sources) {
      link_or_copy(disk, state + "/" + backup, stage);
    }
  };
  auto committer = [&] { db.record_uninstall(id, updated, entry, restart, handed_dirs); };
  if (journal.ops.empty() && journal.discard_after_commit.empty() &&
      journal.remove_dirs_after_commit.empty()) {
    disk.commit(committer);
  } else {
    // Also without file operations: the backups this uninstall makes obsolete are removed
    // under the journal, so that a crash after the commit cannot leave them behind.
    if (auto warning = run_transaction(disk, state, journal, stager, committer)) {
      result.warnings.push_back(*warning);
    }
  }
  return result;
}

}  // namespace hotfix
