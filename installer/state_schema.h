// The installed-state database's schema: its tables, the columns this program reads and
// writes, how a database's schema is checked when opened, created when missing, and migrated
// from an older version in place. docs/state-database.md describes each table.
#pragma once

#include <string>
#include <string_view>

#include "installer/sqlite_connection.h"

namespace hotfix {

inline constexpr int kStateDbSchemaVersion = 4;

namespace state_schema {

inline constexpr std::string_view kHotfixColumns =
    "id, revision, title, architecture, language, restart, installed_at, key_id, "
    "manifest_json, supersedes_json, requires_json";
inline constexpr std::string_view kFileColumns =
    "path, manifest_path, action, version, size, sha256, mtime, mode, backup, layer, kind";
inline constexpr std::string_view kHistoryColumns =
    "seq, at, action, hotfix_id, revision, outcome, detail, txid";
inline constexpr std::string_view kRestartColumns =
    "required, kind, hotfixes_json, policy, scheduled_at, mechanism, since, boot";

// What a reader selects for kFileColumns and kRestartColumns from a database of schema
// `version` (a read-only view of an older one is read as it is, never migrated): the columns
// a later version added are derived as the migration derives them.
std::string file_columns(int version);
std::string restart_columns(int version);

// 0 for a database without tables (new, or created but never given a schema); else the schema
// version (1 to kStateDbSchemaVersion) of a hotfix state database whose every table has the columns
// this program needs. Anything else throws Error(kStateDamaged) naming `path`. Call inside a
// transaction.
int check(sqlite::Connection& connection, const std::string& path);

// Creates the current schema in an empty database (unless another writer just did).
// Returns kStateDbSchemaVersion.
int create(sqlite::Connection& connection, const std::string& path);

// Migrates an older database to the current version, in one transaction (unless another
// writer just did). Returns kStateDbSchemaVersion.
int migrate(sqlite::Connection& connection, const std::string& path);

}  // namespace state_schema
}  // namespace hotfix
