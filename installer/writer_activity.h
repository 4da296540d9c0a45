// What a reader (verify, status) can tell, without taking the lock, about writers at work on
// a root: which files a pending transaction may be changing, and whether a writer came, went
// or moved on between two looks.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "installer/journal.h"
#include "installer/root.h"

namespace hotfix {

struct WriterActivity {
  bool journal_present = false;
  std::optional<Journal> journal;  // the pending transaction, when its journal is readable
  bool writer_alive = false;       // a writer holds the lock now
  std::optional<long> holder_pid;  // the pid it recorded, when it holds the lock
  // Differs between two looks whenever a writer took or released the lock or journaled.
  std::string marks;

  // Paths (relative to the root) the pending transaction may be changing.
  std::set<std::string> changing_paths() const;
};

// Reads <state_dir>/journal.json and <state_dir>/lock under `root`; never blocks, never writes.
WriterActivity observe_writers(const Root& root, const std::string& state_dir);

}  // namespace hotfix
