#include "tests/support/root_state.h"

#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <stdexcept>

#include "tests/support/tree_snapshot.h"

namespace hotfix::test {

namespace {

const std::string kState = "var/lib/hotfix";

void read_database(const std::string& path, RootState& out) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path + ": " + message);
  }
  auto query = [&](const std::string& sql, const std::function<void(sqlite3_stmt*)>& row) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      std::string message = sqlite3_errmsg(db);
      sqlite3_close(db);
      throw std::runtime_error(path + ": " + message);
    }
    while (sqlite3_step(s) == SQLITE_ROW) row(s);
    sqlite3_finalize(s);
  };
  std::vector<std::string> tables;
  query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", [&](sqlite3_stmt* s) {
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  });
  for (const std::string& t : tables) {
    if (t == "history" || t == "sqlite_sequence") continue;  // the history and its counter
    query("SELECT * FROM \"" + t + "\"", [&](sqlite3_stmt* s) {
      std::string row = t;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const void* blob = sqlite3_column_blob(s, i);
        row += '|';
        row.append(static_cast<const char*>(blob ? blob : ""),
                   static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
      }
      out.database.insert(row);
    });
  }
  query("SELECT count(*) FROM history",
        [&](sqlite3_stmt* s) { out.history_rows = static_cast<long>(sqlite3_column_int64(s, 0)); });
  sqlite3_close(db);
}

}  // namespace

RootState capture_root_state(const std::string& root) {
  RootState out;
  out.files = snapshot_tree(root, kState);
  out.state = snapshot_tree(root + "/" + kState);
  for (auto it = out.state.begin(); it != out.state.end();) {
    it = it->first.rfind("state.db", 0) == 0 ? out.state.erase(it) : std::next(it);
  }
  // The lock file holds the holder's pid while it is held: its content counts, its mtime not.
  if (auto lock = out.state.find("lock"); lock != out.state.end()) {
    lock->second = lock->second.substr(0, lock->second.rfind(' '));
  }
  read_database(root + "/" + kState + "/state.db", out);
  return out;
}

std::string compare_root_states(const RootState& before, const RootState& after,
                                long new_history_rows) {
  std::string out = describe_difference(before.files, after.files);
  std::string state = describe_difference(before.state, after.state);
  if (!state.empty()) out += "in " + kState + ":\n" + state;
  if (before.database != after.database) out += "the database's content changed\n";
  if (after.history_rows != before.history_rows + new_history_rows) {
    out += "the history has " + std::to_string(after.history_rows - before.history_rows) +
           " new rows, expected " + std::to_string(new_history_rows) + "\n";
  }
  return out;
}

std::vector<std::string> transaction_leftovers(const std::string& root) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
    std::string name = e.path().filename().string();
    if (name.find(".hotfix-") != std::string::npos || name == "journal.json") {
      out.push_back(e.path().string());
    }
  }
  return out;
}

}  // namespace hotfix::test
