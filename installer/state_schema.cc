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

// Whether a file row is a configuration file, from its hotfix's signed manifest: how
// version 3 fills files.kind in a database written before it, and how a reader of an older
// one derives it.
constexpr std::string_view kKindFromManifest = R"sql(
(CASE WHEN EXISTS (
  SELECT 1 FROM hotfixes AS h, json_each(h.manifest_json, '$.architectures') AS a,
       json_each(a.value, '$.files') AS f
  WHERE h.id = files.hotfix_id AND json_valid(h.manifest_json)
    AND json_extract(f.value, '$.kind') = 'config'
    AND (CASE WHEN coalesce(json_extract(f.value, '$.destination'), '') = ''
              THEN json_extract(f.value, '$.name')
              ELSE json_extract(f.value, '$.destination') || '/' || json_extract(f.value, '$.name')
         END) = files.manifest_path)
 THEN 'config' ELSE 'binary' END))sql";

// A restart need recorded before version 3 has no boot of its own: it is dated by the last
// change the history records (at or after the need), and known by no boot ('').
constexpr std::string_view kSinceFromHistory =
    "(CASE WHEN required = 1 THEN (SELECT max(at) FROM history) END)";

// What schema version 3 added: each file's kind (configuration files are verified apart), and
// when a restart need was recorded and in which boot (docs/restart.md, "When a restart is
// done").
std::string schema_v3() {
  return "ALTER TABLE files ADD COLUMN kind TEXT NOT NULL DEFAULT 'binary' "
         "CHECK (kind IN ('binary', 'config'));\n"
         "UPDATE files SET kind = " +
         std::string(kKindFromManifest) +
         ";\n"
         "ALTER TABLE restart ADD COLUMN since INTEGER;\n"
         "ALTER TABLE restart ADD COLUMN boot TEXT NOT NULL DEFAULT '';\n"
         "UPDATE restart SET since = " +
         std::string(kSinceFromHistory) + ";\n";
}

// What schema version 4 added: the versions of each source's repository metadata the
// installer has trusted, which never go down (docs/repository-format.md, "Rollback").
constexpr std::string_view kSchemaV4 = R"sql(
CREATE TABLE repository_metadata(
  source TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('root', 'timestamp', 'snapshot', 'targets')),
  version INTEGER NOT NULL CHECK (version >= 1),
  expires INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (source, role)
);
)sql";

// What every table must offer for this program to use it (checked when opening), from the
// schema version that brought it.
struct TableColumns {
  std::string_view table, columns;
  int since_version;
};
constexpr std::array<TableColumns, 9> kTables{{
    {"meta", "key, value", 1},
    {"hotfixes", kHotfixColumns, 1},
    {"files",
     "hotfix_id, path, manifest_path, action, version, size, sha256, mtime, mode, "
     "backup, layer",
     1},
    {"history", kHistoryColumns, 1},
    {"restart", "id, required, kind, hotfixes_json, policy, scheduled_at, mechanism", 1},
    {"dirs", "hotfix_id, path", 2},
    {"files", "kind", 3},
    {"restart", "since, boot", 3},
    {"repository_metadata", "source, role, version, expires, sha256, updated_at", 4},
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
              "('meta', 'hotfixes', 'files', 'history', 'restart', 'dirs', 'repository_metadata')) "
              "ORDER BY name LIMIT 1",
              "reading the installed-state database's schema");
  if (s.step()) {
    not_ours(path, "it holds the " + s.text(0) + " " + quote(s.text(1)) +
                       ", which schema version " + std::to_string(version) + " does not have");
  }
}

void check_columns(Connection& c, const std::string& path, int version) {
  for (const auto& [table, columns, since_version] : kTables) {
    if (version < since_version) continue;
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

std::string file_columns(int version) {
  if (version >= 3) return std::string(kFileColumns);
  return "path, manifest_path, action, version, size, sha256, mtime, mode, backup, layer, " +
         std::string(kKindFromManifest);
}

std::string restart_columns(int version) {
  if (version >= 3) return std::string(kRestartColumns);
  return "required, kind, hotfixes_json, policy, scheduled_at, mechanism, " +
         std::string(kSinceFromHistory) + ", ''";
}

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
  int found = check(c, path);
  if (found < kStateDbSchemaVersion) {
    if (found < 2) sqlite::exec(c.db, path, kSchemaV2, doing);
    if (found < 3) sqlite::exec(c.db, path, schema_v3(), doing);
    if (found < 4) sqlite::exec(c.db, path, kSchemaV4, doing);
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
    sqlite::exec(c.db, path, schema_v3(), doing);
    sqlite::exec(c.db, path, kSchemaV4, doing);
    Statement s(c, path, "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)", doing);
    s.bind(1, std::to_string(kStateDbSchemaVersion)).run();
  }
  txn.commit();
  return kStateDbSchemaVersion;
}

}  // namespace hotfix::state_schema
