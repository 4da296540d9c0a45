#include "installer/state_checks.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "manifests/case_fold.h"
#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/manifest_json.h"

namespace hotfix {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool all_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

bool is_valid_txid(std::string_view t) {
  // YYYYMMDDTHHMMSSZ-xxxxxxxx
  if (t.size() != 25 || t[8] != 'T' || t[15] != 'Z' || t[16] != '-') return false;
  return all_digits(t.substr(0, 8)) && all_digits(t.substr(9, 6)) && all_hex(t.substr(17));
}

bool is_backup_name(std::string_view backup, std::string_view txid) {
  constexpr std::string_view kPrefix = "backups/";
  if (backup.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = backup.substr(kPrefix.size());
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view id = rest.substr(0, slash);
  if (!is_valid_txid(id) || (!txid.empty() && id != txid)) return false;
  return all_digits(rest.substr(slash + 1));
}

void state_damaged(const std::string& where, const std::string& what) {
  throw Error(ErrorKind::kStateDamaged, where,
              "state damaged: " + what +
                  "; the installer did not write this. Nothing was changed: examine the root, "
                  "and move the installer's state aside only once it is understood "
                  "(docs/transaction.md)");
}

void check_state_path(std::string_view path, std::string_view state_dir, const std::string& where,
                      std::string_view field) {
  std::optional<std::string> problem = file_path_problem(path);
  if (!problem && path_under(path, state_dir, true)) problem = "is in the state directory";
  if (problem) {
    state_damaged(where, std::string(field) + " \"" + std::string(path) + "\" " + *problem);
  }
}

std::optional<FileDescriptor> check_state_dir(const Root& root, const std::string& state_dir) {
  const std::string shown = root.show(state_dir);
  std::optional<FileDescriptor> dir;
  try {
    dir = root.open_dir_if_exists(state_dir);
  } catch (const UnsafePathError&) {
    state_damaged(shown,
                  "a component of the state directory's path is a symbolic link or not "
                  "a directory, and none is followed here");
  }
  if (!dir) return std::nullopt;
  struct stat st {};
  if (::fstat(dir->get(), &st) != 0) throw SystemError(shown, "stat", errno);
  if (st.st_mode & 022) {
    state_damaged(shown, "the state directory is writable by other users (mode " +
                             format_mode(st.st_mode) + ")");
  }
  for (const char* name : {"state.db", "state.db-wal", "state.db-shm", "state.db-journal",
                           "journal.json", "journal.json.tmp", "lock"}) {
    struct stat f {};
    if (::fstatat(dir->get(), name, &f, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      throw SystemError(shown + "/" + name, "stat", errno);
    }
    if (!S_ISREG(f.st_mode)) state_damaged(shown + "/" + name, "is not a regular file");
  }
  struct stat b {};
  if (::fstatat(dir->get(), "backups", &b, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(b.st_mode)) {
    state_damaged(shown + "/backups", "is not a directory");
  }
  return dir;
}

void check_journal(const Journal& j, std::string_view state_dir, const std::string& source) {
  if (!is_valid_txid(j.txid))
    state_damaged(source, "transaction id \"" + j.txid + "\" is malformed");
  if (j.action != "apply" && j.action != "uninstall") {
    state_damaged(source, "unknown action \"" + j.action + "\"");
  }
  if (!is_valid_id(j.hotfix_id))
    state_damaged(source, "hotfix id \"" + j.hotfix_id + "\" is malformed");
  for (const JournalOp& op : j.ops) {
    check_state_path(op.path, state_dir, source, "path");
    std::string expected = op.kind == JournalOp::Kind::kPut ? stage_name(op.path, j.txid) : "";
    if (op.stage != expected) {
      state_damaged(source, "stage \"" + op.stage + "\" of \"" + op.path +
                                "\" is not the name this transaction stages it under");
    }
    if (op.backup && !is_backup_name(*op.backup, j.txid)) {
      state_damaged(source, "backup \"" + *op.backup + "\" of \"" + op.path +
                                "\" is not a backup name of this transaction");
    }
  }
  for (const std::string& d : j.created_dirs)
    check_state_path(d, state_dir, source, "created directory");
  for (const std::string& d : j.remove_dirs_after_commit) {
    check_state_path(d, state_dir, source, "directory to remove");
  }
  for (const std::string& b : j.discard_after_commit) {
    if (!is_backup_name(b))
      state_damaged(source, "backup to discard \"" + b + "\" is not a backup name");
  }
}

}  // namespace hotfix
