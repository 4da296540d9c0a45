#include "installer/transaction.h"

#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <random>

#include "installer/file_copy.h"
#include "manifests/errors.h"

namespace hotfix {

namespace {

bool same_filesystem(Disk& disk, const std::string& a, const std::string& b) {
  std::optional<struct stat> sa = disk.status(a), sb = disk.status(b);
  return sa && sb && sa->st_dev == sb->st_dev;
}

void sync_all(Disk& disk, const std::string& state_dir) {
  disk.sync_filesystem("");
  if (!same_filesystem(disk, "", state_dir)) disk.sync_filesystem(state_dir);
}

void move_or_copy(Disk& disk, const std::string& from, const std::string& to) {
  try {
    disk.rename(from, to);
  } catch (const SystemError& e) {
    if (e.error_number() != EXDEV) throw;
    std::string tmp = to + ".hotfix-restore";
    disk.remove(tmp);
    copy_file(disk, from, tmp);
    disk.rename(tmp, to);
    disk.remove(from);
  }
}

std::string backup_dir(const std::string& state_dir, const Journal& j) {
  return state_dir + "/backups/" + j.txid;
}

// Removes a stage file; false when there is none. A stage whose name the file system cannot
// hold (too long) or whose directory is not one was never created: absent, so that no name
// can make a rollback fail and wedge the root.
bool remove_stage(Disk& disk, const std::string& stage) {
  try {
    return disk.remove(stage);
  } catch (const SystemError& e) {
    if (e.error_number() == ENAMETOOLONG || e.error_number() == ENOTDIR) return false;
    throw;
  }
}

// Undoes whatever part of `j` happened. Idempotent: a crash while rolling back is recovered
// by rolling back again.
void roll_back(Disk& disk, const std::string& state_dir, const Journal& j) {
  bool may_have_swapped = j.state != Journal::State::kPreparing;
  for (auto it = j.ops.rbegin(); it != j.ops.rend(); ++it) {
    const JournalOp& op = *it;
    const std::string& dest = op.path;
    if (op.kind == JournalOp::Kind::kPut) {
      if (!op.stage.empty() && remove_stage(disk, op.stage)) continue;  // not swapped
      if (!may_have_swapped) continue;
      if (op.backup) {
        std::string backup = state_dir + "/" + *op.backup;
        if (disk.exists(backup)) move_or_copy(disk, backup, dest);  // else: already restored
      } else {
        disk.remove(dest);  // it did not exist before
      }
    } else {
      if (!may_have_swapped || disk.exists(dest)) continue;  // not removed yet
      if (op.backup) {
        std::string backup = state_dir + "/" + *op.backup;
        if (disk.exists(backup)) move_or_copy(disk, backup, dest);
      }
    }
  }
  sync_all(disk, state_dir);
  // Backups this transaction made are no longer needed; older ones (uninstall sources) stay.
  for (const JournalOp& op : j.ops) {
    if (op.backup && op.backup->rfind("backups/" + j.txid + "/", 0) == 0) {
      disk.remove(state_dir + "/" + *op.backup);
    }
  }
  disk.remove_dir(backup_dir(state_dir, j));
  for (auto it = j.created_dirs.rbegin(); it != j.created_dirs.rend(); ++it) {
    disk.remove_dir(*it);
  }
  // Durable before the journal goes, or a power loss brings them back for good.
  sync_all(disk, state_dir);
  remove_journal(disk, state_dir);
}

void finish(Disk& disk, const std::string& state_dir, const Journal& j) {
  for (const JournalOp& op : j.ops) {
    if (!op.stage.empty()) remove_stage(disk, op.stage);  // none after a full swap
    if (op.backup && !op.keep_backup) disk.remove(state_dir + "/" + *op.backup);
  }
  for (const std::string& f : j.discard_after_commit) {
    disk.remove(state_dir + "/" + f);
    auto slash = f.find_last_of('/');
    if (slash != std::string::npos) disk.remove_dir(state_dir + "/" + f.substr(0, slash));
  }
  disk.remove_dir(backup_dir(state_dir, j));  // only if nothing was kept
  // Deepest first; one that holds something else meanwhile stays.
  for (const std::string& dir : j.remove_dirs_after_commit) disk.remove_dir(dir);
  // Durable before the journal goes, or a power loss brings back backups no record names.
  sync_all(disk, state_dir);
  remove_journal(disk, state_dir);
}

}  // namespace

std::string new_txid() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> dist(0, 0xffff);
  char buf[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ-%04x%04x", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, dist(rd), dist(rd));
  return buf;
}

std::optional<std::string> run_transaction(Disk& disk, const std::string& state_dir,
                                           Journal journal, const Stager& stage,
                                           const Committer& commit) {
  journal.state = Journal::State::kPreparing;
  try {
    // Inside: once renamed into place, a journal whose directory sync failed is undone too.
    write_journal(disk, state_dir, journal);
    for (const std::string& dir : journal.created_dirs) {
      // Planned as missing: one that appeared since is another's, never recorded as ours.
      if (!disk.make_dir(dir)) {
        throw Error(ErrorKind::kBusy, disk.root().show(dir),
                    "appeared while the hotfix was being applied; nothing was changed, apply "
                    "again");
      }
    }
    stage(journal);
    bool any_backup = false;
    for (const JournalOp& op : journal.ops) {
      if (!op.backup || op.backup->rfind("backups/" + journal.txid + "/", 0) != 0) continue;
      if (!any_backup) {
        disk.make_dir(state_dir + "/backups");
        disk.make_dir(backup_dir(state_dir, journal));
        any_backup = true;
      }
      link_or_copy(disk, op.path, state_dir + "/" + *op.backup);
    }
    // One sync for every staged file, backup and directory, instead of one per file.
    sync_all(disk, state_dir);
    journal.state = Journal::State::kPrepared;
    write_journal(disk, state_dir, journal);

    for (const JournalOp& op : journal.ops) {
      if (op.kind == JournalOp::Kind::kPut) {
        disk.rename(op.stage, op.path);
      } else {
        disk.remove(op.path);
      }
    }
    sync_all(disk, state_dir);
    journal.state = Journal::State::kSwapped;
    write_journal(disk, state_dir, journal);

    disk.commit(commit);
  } catch (...) {
    std::exception_ptr original = std::current_exception();
    try {
      roll_back(disk, state_dir, journal);
    } catch (const std::exception& e) {
      // The journal stays; the next command (or `recover`) finishes the rollback. Both causes
      // are told: the first is why the change failed, the second why the root is not back yet.
      std::string cause = "unknown error";
      try {
        std::rethrow_exception(original);
      } catch (const std::exception& first) {
        cause = first.what();
      } catch (...) {
      }
      throw Error(ErrorKind::kSystem, disk.root().show(state_dir),
                  "the change failed (" + cause + ") and undoing it failed too (" + e.what() +
                      "); run `hotfix-installer recover` once the cause is fixed");
    }
    std::rethrow_exception(original);
  }
  // Committed: the change is made. A failure while cleaning up must not report it as failed;
  // the journal stays, and the next command's recovery finishes the cleanup.
  try {
    finish(disk, state_dir, journal);
  } catch (const std::exception& e) {
    return std::string("the change is committed, but cleaning up after it failed (") + e.what() +
           "); the next command, or `hotfix-installer recover`, finishes it";
  }
  return std::nullopt;
}

RecoveryOutcome recover(Disk& disk, const std::string& state_dir,
                        const std::function<bool(const std::string& txid)>& committed,
                        Journal* recovered) {
  std::optional<Journal> journal = read_journal(disk, state_dir);
  if (!journal) return RecoveryOutcome::kNothing;
  if (recovered) *recovered = *journal;
  if (journal->state == Journal::State::kSwapped && committed(journal->txid)) {
    finish(disk, state_dir, *journal);
    return RecoveryOutcome::kRolledForward;
  }
  roll_back(disk, state_dir, *journal);
  return RecoveryOutcome::kRolledBack;
}

}  // namespace hotfix
