// The installer's own state under the root (journal, database rows, backups) is input like a
// bundle: whoever can write the root can plant it. Every path read back from it is held to
// the manifest's destination rules before use, and a backup is accepted only under its own
// name in the state directory. What fails is "state damaged" (exit code 8), and nothing is
// changed (docs/transaction.md, "The root is input").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "installer/installed_state.h"
#include "installer/journal.h"
#include "installer/root.h"

namespace hotfix {

// "20081213T042700Z-0a1b2c3d", as new_txid() makes them.
bool is_valid_txid(std::string_view txid);

// "backups/<txid>/<n>": a backup's own name in the state directory; with `txid`, one that
// transaction made.
bool is_backup_name(std::string_view backup, std::string_view txid = {});

// Throws Error(kStateDamaged, where, "state damaged: " + what + "; " + advice).
[[noreturn]] void state_damaged(const std::string& where, const std::string& what);

// A path read back from the state: a clean relative file path, none of the installer's own
// places, not in the state directory `state_dir`.
void check_state_path(std::string_view path, std::string_view state_dir, const std::string& where,
                      std::string_view field);

// The state directory `state_dir` of `root`, when it exists: a real directory on a path of
// real directories, writable by its owner alone, and each of the installer's own files in it
// (the database and its companions, the journal, the lock) a regular file or absent. Returns
// the directory as checked (O_PATH), nullopt when it does not exist.
std::optional<FileDescriptor> check_state_dir(const Root& root, const std::string& state_dir);

// Every field of a journal read back from `source`.
void check_journal(const Journal& journal, std::string_view state_dir, const std::string& source);

}  // namespace hotfix
