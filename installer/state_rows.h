// Mapping between the state database's rows and the installer's records. The database is
// input: a row read back is held to the rules of what this installer writes (a file path to
// the manifest's destination rules, a backup to its own name in the state directory, each
// token to its set), and anything else is "state damaged" (kStateDamaged), naming the row and
// the column.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "installer/installed_state.h"
#include "installer/sqlite_connection.h"

namespace hotfix::state_rows {

// A value this program stores as an SQLite integer (at most INT64_MAX; kBadInput otherwise).
std::int64_t to_db_integer(std::uint64_t value, const std::string& path, const std::string& what);
std::string to_json_array(const std::vector<std::string>& items, const std::string& path,
                          const std::string& what);

// Reads state_schema::kFileColumns starting at column `first`.
InstalledFile read_file(const sqlite::Statement& s, int first, const std::string& path,
                        const std::string& hotfix_id);
// Binds `f` to parameters first..first+9 in kFileColumns order.
void bind_file(sqlite::Statement& s, int first, const InstalledFile& f, const std::string& path);
// Reads state_schema::kHotfixColumns (without files).
InstalledHotfix read_hotfix(const sqlite::Statement& s, const std::string& path);
// Reads state_schema::kHistoryColumns.
HistoryEntry read_history(const sqlite::Statement& s, const std::string& path);
// Reads state_schema::kRestartColumns.
RestartState read_restart(const sqlite::Statement& s, const std::string& path);
// A directory a hotfix created, as read from the dirs table.
void check_dir(const std::string& dir, const std::string& path, const std::string& hotfix_id);

}  // namespace hotfix::state_rows
