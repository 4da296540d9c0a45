#include "installer/state_schema.h"

#include <array>
#include <optional>
#include <utility>

#include "manifests/errors.h"
#include "manifests/json_context.h"

namespace hotfix::state_schema {

namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE hotfixes(
  id TEXT PRIMARY KEY NOT NULL,
  revision INTEGER NOT NULL,
  title TEXT NOT NULL,
  architecture TEXT NOT NULL,
  language TEXT NOT NULL,
  restart TEXT NOT NULL,
  installed_at INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  manifest_json TEXT NOT NULL,
  supersedes_json TEXT NOT NULL,
  requires_json TEXT NOT NULL
);
CREATE TABLE files(
  hotfix_id TEXT NOT NULL REFERENCES hotfixes(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  manifest_path TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('installed', 'replaced', 'kept', 'skipped')),
  version TEXT,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  mtime INTEGER NOT NULL,
  mode INTEGER NOT NULL,
  backup TEXT,
  layer INTEGER NOT NULL,
  PRIMARY KEY (hotfix_id, path)
);
CREATE INDEX files_path ON files(path);
CREATE INDEX files_path_folded ON files(lower(path));
CREATE INDEX files_layer ON files(layer);
CREATE TABLE history(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  hotfix_id TEXT NOT NULL,
  revision INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL,
  txid TEXT
);
CREATE INDEX history_txid ON history(txid);
CREATE TABLE restart(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  required INTEGER NOT NULL CHECK (required IN (0, 1)),
  kind TEXT NOT NULL,
  hotfixes_json TEXT NOT NULL,
  policy TEXT NOT NULL,
  scheduled_at INTEGER,
  mechanism TEXT NOT NULL
);
)sql";

// What schema version 2 added to version 1: the directories each hotfix created. Run on a new
// database after kSchema, and on a version-1 database to migrate it.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE dirs(
  hotfix_id TEXT NOT NULL REFERENCES hotfixes(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  PRIMARY KEY (hotfix_id, path)
);
CREATE INDEX dirs_path ON dirs(path);
)sql";

// What every table must offer for this program to use it (checked when opening).
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kTables{{
    {"meta", "key, value"},
    {"hotfixes", kHotfixColumns},
    {"files",
     "hotfix_id, path, manifest_path, action, version, size, sha256, mtime, mode, "
     "backup, layer"},
    {"history", kHistoryColumns},
    {"restart", "id, required, kind, hotfixes_json, policy, scheduled_at, mechanism"},
    {"dirs", "hotfix_id, path"},  // from schema version 2
}};

[[noreturn]] void not_ours(const std::string& path, const std::string& why) {
  throw Error(
      ErrorKind::kStateDamaged, path,
      "state damaged: " + why + " (the database was not written by this installer, or was edited)");
}

bool has_tables(Connection& c, const std::string& path) {
  Statement s(c, path,
              "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
              "'sqlite\\_%' ESCAPE '\\'",
              "reading the installed-state database's schema");
  s.step();
  return s.integer(0) > 0;
}

std::optional<std::string> schema_version_text(Connection& c, const std::string& path) {
  {
    Statement s(c, path,
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                "reading the installed-state database's schema");
    s.step();
    if (s.integer(0) == 0)
      not_ours(path, "not a hotfix state database: it has tables but no meta table");
  }
  Statement s(c, path, "SELECT value FROM meta WHERE key = 'schema_version'",
              "reading the installed-state database's schema version");
  if (s.step()) return s.text(0);
  return std::nullopt;
}

// Only what this installer creates: its tables and its indexes. A view in a table's place,
// or a trigger (which would run on the installer's own writes), is not ours: code read from
// the root is never run.
void check_objects(Connection& c, const std::string& path, int version) {
  Statement s(c, path,
              "SELECT type, name FROM sqlite_master WHERE type NOT IN ('table', 'index') OR "
              "(type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT IN "
              "('meta', 'hotfixes', 'files', 'history', 'restart', 'dirs')) ORDER BY name LIMIT 1",
              "reading the installed-state database's schema");
  if (s.step()) {
    not_ours(path, "it holds the " + s.text(0) + " " + quote(s.text(1)) +
                       ", which schema version " + std::to_string(version) + " does not have");
  }
}

void check_columns(Connection& c, const std::string& path, int version) {
  for (const auto& [table, columns] : kTables) {
    if (table == "dirs" && version < 2) continue;
    std::string sql = "SELECT " + std::string(columns) + " FROM " + std::string(table) + " LIMIT 0";
    sqlite3_stmt* probe = nullptr;
    int rc = sqlite3_prepare_v2(c.db, sql.c_str(), -1, &probe, nullptr);
    std::string message = rc == SQLITE_OK ? "" : sqlite::message(c.db, rc);
    sqlite3_finalize(probe);
    if (rc == SQLITE_OK) continue;
    if ((rc & 0xff) != SQLITE_ERROR)
      sqlite::fail(c.db, rc, path, "reading the schema of table " + std::string(table));
    not_ours(path, "table " + std::string(table) + " does not have the columns of schema version " +
                       std::to_string(version) + " (" + message + ")");
  }
}

}  // namespace

int check(Connection& c, const std::string& path) {
  if (!has_tables(c, path)) return 0;
  std::optional<std::string> text = schema_version_text(c, path);
  if (!text) not_ours(path, "not a hotfix state database: meta has no schema_version");
  int found = 0;
  for (int known = 1; known <= kStateDbSchemaVersion; ++known) {
    if (*text == std::to_string(known)) found = known;
  }
  if (found == 0) {
    throw Error(ErrorKind::kStateDamaged, path,
                "schema version " + quote(*text) + " is not a version this installer knows (1 to " +
                    std::to_string(kStateDbSchemaVersion) +
                    "): was it written by a newer installer? Nothing was changed");
  }
  check_objects(c, path, found);
  check_columns(c, path, found);
  return found;
}

int migrate(Connection& c, const std::string& path) {
  std::string doing = "migrating the installed-state database to schema version " +
                      std::to_string(kStateDbSchemaVersion);
  Transaction txn(c, path, "BEGIN IMMEDIATE", doing);
  if (check(c, path) == 1) {
    sqlite::exec(c.db, path, kSchemaV2, doing);
    Statement s(c, path, "UPDATE meta SET value = ?1 WHERE key = 'schema_version'", doing);
    s.bind(1, std::to_string(kStateDbSchemaVersion)).run();
  }
  txn.commit();
  return kStateDbSchemaVersion;
}

int create(Connection& c, const std::string& path) {
  const std::string doing = "creating the installed-state database";
  Transaction txn(c, path, "BEGIN IMMEDIATE", doing);
  if (!has_tables(c, path)) {
    sqlite::exec(c.db, path, kSchema, doing);
    sqlite::exec(c.db, path, kSchemaV2, doing);
    Statement s(c, path, "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)", doing);
    s.bind(1, std::to_string(kStateDbSchemaVersion)).run();
  }
  txn.commit();
  return kStateDbSchemaVersion;
}

}  // namespace hotfix::state_schema
