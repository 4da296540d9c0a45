// The journal of an unfinished transaction: what a crash would leave half done, and how to
// finish or undo it. Kept as <state>/journal.json, replaced atomically and made durable at
// each state change (docs/transaction.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "installer/disk.h"

namespace hotfix {

struct JournalOp {
  enum class Kind { kPut, kRemove };
  Kind kind = Kind::kPut;
  std::string path;                   // relative to the root, as spelled on disk
  std::string stage;                  // kPut: the staged content beside it, relative to the root
  std::optional<std::string> backup;  // the displaced file, relative to the state directory
  bool keep_backup = false;           // kept after commit (uninstall needs it) or removed

  friend bool operator==(const JournalOp&, const JournalOp&) = default;
};

struct Journal {
  enum class State { kPreparing, kPrepared, kSwapped };
  std::string txid;
  std::string action;  // "apply" or "uninstall"
  std::string hotfix_id;
  State state = State::kPreparing;
  std::vector<JournalOp> ops;
  std::vector<std::string> created_dirs;          // relative to the root, outermost first
  std::vector<std::string> discard_after_commit;  // relative to the state directory
  // Directories to remove once committed, when empty (uninstall); relative to the root,
  // deepest first.
  std::vector<std::string> remove_dirs_after_commit;

  friend bool operator==(const Journal&, const Journal&) = default;
};

std::string_view journal_state_token(Journal::State state);
std::string journal_to_json(const Journal& journal);
Journal journal_from_json(const std::string& text, const std::string& source);

// The name a transaction stages `rel`'s new content under, beside it: ".NAME.hotfix-TXID".
std::string stage_name(const std::string& rel, const std::string& txid);

// Paths are relative to the root (`state_dir` too).
// Write to journal.json.tmp, sync, rename over journal.json, sync the directory.
void write_journal(Disk& disk, const std::string& state_dir, const Journal& journal);
// The journal, when there is one, checked field by field (installer/state_checks.h): a
// journal that is not a regular file, is larger than any this installer writes, or names a
// path it would not have written throws Error(kStateDamaged).
std::optional<Journal> read_journal(Disk& disk, const std::string& state_dir);
void remove_journal(Disk& disk, const std::string& state_dir);

inline constexpr std::uint64_t kMaxJournalBytes = 256u << 20;

}  // namespace hotfix
