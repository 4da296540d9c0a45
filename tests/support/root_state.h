// Everything a failed installer run must leave exactly as it was under a target root: the
// files (content, mode, mtime), the state directory's files, the database's content apart from
// its history, and no staged file, journal or backup of the failed transaction.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace hotfix::test {

struct RootState {
  std::map<std::string, std::string> files;  // the root without its state directory
  std::map<std::string, std::string> state;  // the state directory without state.db*, lock's mtime
  std::multiset<std::string> database;       // every row of every table but the history
  long history_rows = 0;
};

// `root` must hold an installed state (var/lib/hotfix/state.db).
RootState capture_root_state(const std::string& root);

// What differs, one line per difference; empty when nothing does. The history may have grown
// by `new_history_rows` rows.
std::string compare_root_states(const RootState& before, const RootState& after,
                                long new_history_rows);

// Staged files (".NAME.hotfix-TXID"), restore temporaries and a journal anywhere under `root`.
std::vector<std::string> transaction_leftovers(const std::string& root);

}  // namespace hotfix::test
