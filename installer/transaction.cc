#include "installer/transaction.h"

#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <random>

#include "manifests/errors.h"

namespace hotfix {

namespace {

std::string at_root(const std::string& root, const std::string& rel) { return root + "/" + rel; }

bool same_filesystem(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev;
}

void sync_all(Disk& disk, const std::string& root, const std::string& state_dir) {
  disk.sync_filesystem(root);
  if (!same_filesystem(root, state_dir)) disk.sync_filesystem(state_dir);
}

// A copy when a hard link is impossible (the state directory on another filesystem).
void copy_file(Disk& disk, const std::string& from, const std::string& to) {
  std::string data = disk.read_file(from);
  struct stat st {};
  ::stat(from.c_str(), &st);
  auto file = disk.create(to, st.st_mode & 07777);
  file->append(data.data(), data.size());
  file->close();
  disk.set_metadata(to, {static_cast<std::uint32_t>(st.st_mode & 07777), st.st_mtim.tv_sec,
                         st.st_uid, st.st_gid});
}

void link_or_copy(Disk& disk, const std::string& from, const std::string& to) {
  try {
    disk.link(from, to);
  } catch (const SystemError& e) {
    if (e.error_number() != EXDEV && e.error_number() != EPERM && e.error_number() != EMLINK) {
      throw;
    }
    copy_file(disk, from, to);
  }
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

// Undoes whatever part of `j` happened. Idempotent: a crash while rolling back is recovered
// by rolling back again.
void roll_back(Disk& disk, const std::string& root, const std::string& state_dir,
               const Journal& j) {
  bool may_have_swapped = j.state != Journal::State::kPreparing;
  for (auto it = j.ops.rbegin(); it != j.ops.rend(); ++it) {
    const JournalOp& op = *it;
    std::string dest = at_root(root, op.path);
    if (op.kind == JournalOp::Kind::kPut) {
      if (!op.stage.empty() && disk.remove(at_root(root, op.stage))) continue;  // not swapped
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
  sync_all(disk, root, state_dir);
  // Backups this transaction made are no longer needed; older ones (uninstall sources) stay.
  for (const JournalOp& op : j.ops) {
    if (op.backup && op.backup->rfind("backups/" + j.txid + "/", 0) == 0) {
      disk.remove(state_dir + "/" + *op.backup);
    }
  }
  disk.remove_dir(backup_dir(state_dir, j));
  for (auto it = j.created_dirs.rbegin(); it != j.created_dirs.rend(); ++it) {
    disk.remove_dir(at_root(root, *it));
  }
  // Durable before the journal goes, or a power loss brings them back for good.
  sync_all(disk, root, state_dir);
  remove_journal(disk, state_dir);
}

void finish(Disk& disk, const std::string& root, const std::string& state_dir, const Journal& j) {
  for (const JournalOp& op : j.ops) {
    if (!op.stage.empty()) disk.remove(at_root(root, op.stage));  // none after a full swap
    if (op.backup && !op.keep_backup) disk.remove(state_dir + "/" + *op.backup);
  }
  for (const std::string& f : j.discard_after_commit) {
    disk.remove(state_dir + "/" + f);
    auto slash = f.find_last_of('/');
    if (slash != std::string::npos) disk.remove_dir(state_dir + "/" + f.substr(0, slash));
  }
  disk.remove_dir(backup_dir(state_dir, j));  // only if nothing was kept
  // Deepest first; one that holds something else meanwhile stays.
  for (const std::string& dir : j.remove_dirs_after_commit) disk.remove_dir(at_root(root, dir));
  // Durable before the journal goes, or a power loss brings back backups no record names.
  sync_all(disk, root, state_dir);
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

void run_transaction(Disk& disk, const std::string& root, const std::string& state_dir,
                     Journal journal, const Stager& stage, const Committer& commit) {
  journal.state = Journal::State::kPreparing;
  try {
    // Inside: once renamed into place, a journal whose directory sync failed is undone too.
    write_journal(disk, state_dir, journal);
    for (const std::string& dir : journal.created_dirs) disk.make_dir(at_root(root, dir));
    stage(journal);
    bool any_backup = false;
    for (const JournalOp& op : journal.ops) {
      if (!op.backup || op.backup->rfind("backups/" + journal.txid + "/", 0) != 0) continue;
      if (!any_backup) {
        disk.make_dir(state_dir + "/backups");
        disk.make_dir(backup_dir(state_dir, journal));
        any_backup = true;
      }
      link_or_copy(disk, at_root(root, op.path), state_dir + "/" + *op.backup);
    }
    // One sync for every staged file, backup and directory, instead of one per file.
    sync_all(disk, root, state_dir);
    journal.state = Journal::State::kPrepared;
    write_journal(disk, state_dir, journal);

    for (const JournalOp& op : journal.ops) {
      if (op.kind == JournalOp::Kind::kPut) {
        disk.rename(at_root(root, op.stage), at_root(root, op.path));
      } else {
        disk.remove(at_root(root, op.path));
      }
    }
    sync_all(disk, root, state_dir);
    journal.state = Journal::State::kSwapped;
    write_journal(disk, state_dir, journal);

    disk.commit(commit);
  } catch (...) {
    std::exception_ptr original = std::current_exception();
    try {
      roll_back(disk, root, state_dir, journal);
    } catch (const std::exception& e) {
      // The journal stays; the next command (or `recover`) finishes the rollback.
      throw Error(ErrorKind::kSystem, state_dir,
                  std::string("the change failed and undoing it failed too (") + e.what() +
                      "); run `hotfix-installer recover` once the cause is fixed");
    }
    std::rethrow_exception(original);
  }
  // Committed: the change is made. A failure while cleaning up must not report it as failed;
  // the journal stays, and the next command's recovery finishes the cleanup.
  try {
    finish(disk, root, state_dir, journal);
  } catch (const std::exception&) {
  }
}

RecoveryOutcome recover(Disk& disk, const std::string& root, const std::string& state_dir,
                        const std::function<bool(const std::string& txid)>& committed,
                        Journal* recovered) {
  std::optional<Journal> journal = read_journal(disk, state_dir);
  if (!journal) return RecoveryOutcome::kNothing;
  if (recovered) *recovered = *journal;
  if (journal->state == Journal::State::kSwapped && committed(journal->txid)) {
    finish(disk, root, state_dir, *journal);
    return RecoveryOutcome::kRolledForward;
  }
  roll_back(disk, root, state_dir, *journal);
  return RecoveryOutcome::kRolledBack;
}

}  // namespace hotfix
