// uninstall: one hotfix taken out of the layering and its files restored, in one transaction.
#include <algorithm>
#include <map>

#include "installer/file_copy.h"
#include "installer/installer.h"
#include "installer/journal.h"
#include "installer/layering.h"
#include "installer/pending_restart.h"
#include "installer/restart.h"
#include "installer/state_checks.h"
#include "installer/state_db.h"
#include "installer/state_store.h"
#include "installer/target_facts.h"
#include "installer/transaction.h"
#include "installer/writer_start.h"
#include "manifests/case_fold.h"
#include "manifests/errors.h"

namespace hotfix {

namespace {

// One uninstall of one hotfix. Each step is a method, run in this order by run(): open the
// state, check that no installed hotfix needs this one, draft what happens to each of its
// files and directories (docs/state-database.md, "Layering"), then run the transaction and
// commit.
class UninstallRun {
 public:
  UninstallRun(const InstallerContext& ctx, const std::string& id, bool dry_run)
      : ctx_(ctx), id_(id), dry_run_(dry_run), fold_(load_target_facts(ctx.root).windows_paths()) {
    result_.id = id;
  }

  UninstallResult run() {
    open_state();
    check_not_required();
    journal_.txid = new_txid();
    journal_.action = "uninstall";
    journal_.hotfix_id = id_;
    for (std::size_t i = 0; i < hotfix_.files.size(); ++i) draft_file(i);
    draft_dirs();
    draft_restart();
    if (!dry_run_) commit();
    return result_;
  }

 private:
  // A dry run reads without the lock and, as apply's, refuses to guess past an interrupted
  // transaction.
  void open_state() {
    if (dry_run_) {
      db_.emplace(open_state_db(ctx_, StateDb::Mode::kReadOnly));
      refuse_interrupted(ctx_);
    } else {
      if (!ctx_.held_lock) lock_.emplace(ctx_.root, ctx_.state_dir, ctx_.lock_wait);
      db_.emplace(open_state_db(ctx_, StateDb::Mode::kReadWrite));
      recover_locked(ctx_, *db_);
    }
    std::optional<InstalledHotfix> h = db_->hotfix(id_);
    if (!h) throw Error(ErrorKind::kNotApplicable, id_, "is not installed");
    hotfix_ = std::move(*h);
    result_.id = id_ = hotfix_.id;
  }

  HistoryEntry history(const std::string& outcome, const std::string& detail,
                       const std::string& txid) const {
    return HistoryEntry{0, unix_now(), "uninstall", id_, hotfix_.revision, outcome, detail, txid};
  }

  void check_not_required() {
    for (const InstalledHotfix& other : db_->hotfixes(false, false)) {
      if (other.id == id_ ||
          std::none_of(other.requires_hotfixes.begin(), other.requires_hotfixes.end(),
                       [&](const std::string& id) { return equal_fold(id, id_); })) {
        continue;
      }
      if (!dry_run_) {
        db_->add_history(history("refused", "installed hotfix " + other.id + " requires it", ""));
      }
      throw Error(ErrorKind::kNotApplicable, id_,
                  "cannot be uninstalled: installed hotfix " + other.id +
                      " names it as a prerequisite (uninstall " + other.id + " first)");
    }
  }

  // What happens to the hotfix's record `i` and the file it answers for.
  void draft_file(std::size_t i) {
    const InstalledFile& f = hotfix_.files[i];
    const std::string backup = "backups/" + journal_.txid + "/" + std::to_string(i);
    Disk& disk = *ctx_.disk;
    if (f.action == FileAction::kKept) {
      std::string extra = f.path + ".hotfix-new";
      if (disk.exists(extra)) {
        journal_.ops.push_back({JournalOp::Kind::kRemove, extra, "", backup, false});
        result_.files.emplace_back(extra, "removed");
      }
    }
    if (!answers_for_path(f)) {
      if (f.action == FileAction::kSkipped) {
        result_.files.emplace_back(f.path, "left as it was (the hotfix had skipped it)");
      }
      return;
    }
    auto layers = db_->layers(f.path, fold_);
    if (auto later = hand_on(layers, id_, f, updated_, journal_.discard_after_commit)) {
      // A later hotfix layered over this file since: its file stays, and it now displaces
      // what this hotfix had displaced.
      result_.files.emplace_back(f.path, "kept " + *later + "'s version (installed later)");
      return;
    }
    if (f.action == FileAction::kKept) {
      // The administrator changed the file after the hotfix put it there: it stays, as rpm
      // leaves a changed configuration file; what the hotfix had displaced is not needed.
      if (f.backup) journal_.discard_after_commit.push_back(*f.backup);
      result_.files.emplace_back(f.path, "left as the administrator changed it");
      return;
    }
    draft_restore(f, disk.exists(f.path), backup);
  }

  // The top layer goes: what it displaced comes back, or the file goes if there was none.
  void draft_restore(const InstalledFile& f, bool present, const std::string& backup) {
    if (f.backup) {
      JournalOp op{JournalOp::Kind::kPut, f.path, stage_name(f.path, journal_.txid),
                   present ? std::optional<std::string>(backup) : std::nullopt, false};
      link_sources_[op.stage] = *f.backup;
      journal_.ops.push_back(op);
      journal_.discard_after_commit.push_back(*f.backup);
      result_.files.emplace_back(f.path, "restored");
    } else if (present) {
      journal_.ops.push_back({JournalOp::Kind::kRemove, f.path, "", backup, false});
      result_.files.emplace_back(f.path, "removed (it did not exist before)");
    }
  }

  // The directories it created: one that still holds another installed hotfix's files is
  // handed on to that hotfix; the others are removed once committed, when empty, deepest
  // first (one that holds anything else stays).
  void draft_dirs() {
    if (hotfix_.created_dirs.empty()) return;
    std::vector<InstalledHotfix> others = db_->hotfixes(true, false);
    for (auto dir = hotfix_.created_dirs.rbegin(); dir != hotfix_.created_dirs.rend(); ++dir) {
      bool taken = false;
      for (const InstalledHotfix& other : others) {
        if (other.id == id_) continue;
        bool needs = std::any_of(other.files.begin(), other.files.end(), [&](const auto& f) {
          return f.path != *dir && path_under(f.path, *dir, fold_);
        });
        if (needs) {
          handed_dirs_.emplace_back(other.id, *dir);
          taken = true;
        }
      }
      if (!taken) journal_.remove_dirs_after_commit.push_back(*dir);
    }
  }

  void draft_restart() {
    restart_ = restart_as_of_now(ctx_, *db_);
    result_.restart_required =
        !journal_.ops.empty() && hotfix_.restart != RestartRequirement::kNone;
    if (result_.restart_required) {
      check_reboot_required_place(ctx_.root);
      restart_.required = true;
      restart_.kind = std::max(restart_.kind, hotfix_.restart);
    }
    std::erase(restart_.hotfixes, id_);
    if (result_.restart_required) restart_.hotfixes.push_back(id_ + " (uninstalled)");
    if (!dry_run_) stamp_restart_need(ctx_, restart_);
  }

  void commit() {
    HistoryEntry entry = history(
        "uninstalled", std::to_string(result_.files.size()) + " files handled", journal_.txid);
    auto committer = [&] { db_->record_uninstall(id_, updated_, entry, restart_, handed_dirs_); };
    if (journal_.ops.empty() && journal_.discard_after_commit.empty() &&
        journal_.remove_dirs_after_commit.empty()) {
      ctx_.disk->commit(committer);
      return;
    }
    // Also without file operations: the backups this uninstall makes obsolete are removed
    // under the journal, so that a crash after the commit cannot leave them behind.
    auto stager = [this](const Journal&) {
      if (ctx_.progress) ctx_.progress->add_totals(link_sources_.size(), 0);
      for (const auto& [stage, backup] : link_sources_) {
        link_or_copy(*ctx_.disk, ctx_.state_dir + "/" + backup, stage);
        if (ctx_.progress) ctx_.progress->advance(1, 0);
      }
    };
    if (auto warning = run_transaction(*ctx_.disk, ctx_.state_dir, journal_, stager, committer)) {
      result_.warnings.push_back(*warning);
    }
  }

  const InstallerContext& ctx_;
  std::string id_;  // as given, then as installed (ids compare ignoring case)
  const bool dry_run_;
  const bool fold_;
  std::optional<RootLock> lock_;
  std::optional<StateDb> db_;
  InstalledHotfix hotfix_;
  UninstallResult result_;
  Journal journal_;
  std::vector<FileLayer> updated_;
  std::map<std::string, std::string> link_sources_;  // stage (root-relative) -> backup
  std::vector<DirOwner> handed_dirs_;
  RestartState restart_;
};

}  // namespace

void require_state_db(const InstallerContext& ctx, const std::string& id) {
  if (!has_state_db(ctx))
    throw Error(ErrorKind::kNotApplicable, id, "is not installed (no hotfix is)");
}

UninstallResult uninstall_hotfix(const InstallerContext& ctx, const std::string& id, bool dry_run) {
  require_state_db(ctx, id);
  return UninstallRun(ctx, id, dry_run).run();
}

}  // namespace hotfix
