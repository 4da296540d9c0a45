#include "installer/state_db.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "installer/state_checks.h"
#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/json_context.h"

namespace hotfix {

namespace {

using Mode = StateDb::Mode;

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

constexpr std::string_view kHotfixColumns =
    "id, revision, title, architecture, language, restart, installed_at, key_id, "
    "manifest_json, supersedes_json, requires_json";
constexpr std::string_view kFileColumns =
    "path, manifest_path, action, version, size, sha256, mtime, mode, backup, layer";
constexpr std::string_view kHistoryColumns =
    "seq, at, action, hotfix_id, revision, outcome, detail, txid";
constexpr std::string_view kRestartColumns =
    "required, kind, hotfixes_json, policy, scheduled_at, mechanism";

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

std::string sqlite_message(sqlite3* db, int rc) {
  if (db && sqlite3_extended_errcode(db) == rc) return sqlite3_errmsg(db);
  return sqlite3_errstr(rc);
}

// Maps an SQLite failure to the error family the caller's exit code depends on.
[[noreturn]] void fail(sqlite3* db, int rc, const std::string& path, const std::string& doing) {
  std::string message = sqlite_message(db, rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw Error(ErrorKind::kBusy, path,
                  doing + ": " + message +
                      " (another process kept the database locked longer than the busy timeout)");
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL: {
      int error_number = db ? sqlite3_system_errno(db) : 0;
      if (error_number == 0 && (rc & 0xff) == SQLITE_FULL) error_number = ENOSPC;
      if (error_number != 0) throw SystemError(path, doing + " (" + message + ")", error_number);
      throw Error(ErrorKind::kSystem, path, doing + ": " + message);
    }
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      throw Error(ErrorKind::kBadInput, path,
                  doing + ": " + message + " (not a hotfix state database, or a damaged one)");
    default:
      throw Error(ErrorKind::kInternal, path, doing + ": " + message);
  }
}

// An SQLite connection and its prepared statements not in use, kept for reuse: the installer
// asks about every file of a bundle, and preparing costs more than running.
struct Connection {
  sqlite3* db = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> idle;

  void close() {
    for (auto& [sql, stmt] : idle) sqlite3_finalize(stmt);
    idle.clear();
    sqlite3_close_v2(db);
    db = nullptr;
  }
};

// A prepared statement; parameters are always bound, never spliced into the SQL.
class Statement {
 public:
  Statement(Connection& connection, const std::string& path, std::string_view sql,
            std::string doing)
      : connection_(connection), db_(connection.db), path_(path), doing_(std::move(doing)) {
    auto it = connection_.idle.find(sql);
    if (it != connection_.idle.end()) {
      sql_ = it->first;
      stmt_ = it->second;
      connection_.idle.erase(it);
      return;
    }
    sql_ = sql;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) fail(db_, rc, path_, doing_);
  }
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (!stmt_ || !connection_.idle.emplace(std::move(sql_), stmt_).second) {
      sqlite3_finalize(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text) {
    check_bind(
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, std::int64_t value) {
    check_bind(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Statement& bind(int index, const std::optional<std::string>& text) {
    if (text) return bind(index, std::string_view(*text));
    check_bind(sqlite3_bind_null(stmt_, index));
    return *this;
  }
  Statement& bind(int index, const std::optional<std::int64_t>& value) {
    if (value) return bind(index, *value);
    check_bind(sqlite3_bind_null(stmt_, index));
    return *this;
  }

  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, path_, doing_);
  }
  void run() {
    while (step()) {
    }
  }
  // Runs it, naming `what` on failure.
  void run_for(const std::string& what) {
    int rc = sqlite3_step(stmt_);
    while (rc == SQLITE_ROW) rc = sqlite3_step(stmt_);
    if (rc != SQLITE_DONE) fail(db_, rc, path_, what);
  }
  // Ready to run again with new parameters.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    int size = sqlite3_column_bytes(stmt_, column);
    return data ? std::string(data, static_cast<std::size_t>(size)) : std::string();
  }
  std::optional<std::string> optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }

 private:
  void check_bind(int rc) {
    if (rc != SQLITE_OK) fail(db_, rc, path_, doing_ + " (binding a parameter)");
  }

  Connection& connection_;
  sqlite3* db_;
  const std::string& path_;
  std::string doing_;
  std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs one statement.
void run(Connection& connection, const std::string& path, std::string_view sql,
         const std::string& doing) {
  Statement(connection, path, sql, doing).run();
}

// Runs several statements (not cached).
void exec(sqlite3* db, const std::string& path, std::string_view sql, const std::string& doing) {
  int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, path, doing);
}

// A transaction that rolls back unless committed.
class Transaction {
 public:
  Transaction(Connection& connection, const std::string& path, std::string_view begin,
              std::string doing)
      : connection_(connection), db_(connection.db), path_(path), doing_(std::move(doing)) {
    hotfix::run(connection_, path_, begin, doing_);
  }
  ~Transaction() {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit() { hotfix::run(connection_, path_, "COMMIT", doing_ + " (committing)"); }

 private:
  Connection& connection_;
  sqlite3* db_;
  const std::string& path_;
  std::string doing_;
};

// Identity and change marks of a file, to notice a database changing under an immutable view.
struct FileStamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

FileStamp stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {true,
          st.st_dev,
          st.st_ino,
          st.st_size,
          std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
          std::int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec};
}

struct DbStamp {
  FileStamp db, wal, shm;
  friend bool operator==(const DbStamp&, const DbStamp&) = default;
};

DbStamp stamp_database(const std::string& path) {
  return {stamp(path), stamp(path + "-wal"), stamp(path + "-shm")};
}

// "file:" URI for sqlite3_open_v2 with SQLITE_OPEN_URI: absolute (a relative one would be read
// as a host name), and every byte that is not plainly safe percent-encoded, so that paths with
// '?', '#' or '%' stay paths.
std::string file_uri(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file://";
  for (unsigned char c : std::filesystem::absolute(path).string()) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
    if (safe) {
      uri += static_cast<char>(c);
    } else {
      uri += '%';
      uri += kHex[c >> 4];
      uri += kHex[c & 0xf];
    }
  }
  return uri;
}

std::int64_t to_db_integer(std::uint64_t value, const std::string& path, const std::string& what) {
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    throw Error(ErrorKind::kBadInput, path,
                what + " " + std::to_string(value) + " is too large to record");
  }
  return static_cast<std::int64_t>(value);
}

std::string to_json_array(const std::vector<std::string>& items, const std::string& path,
                          const std::string& what) {
  try {
    return nlohmann::json(items).dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kInternal, path, what + " cannot be recorded: " + e.what());
  }
}

// Decoding what is stored: anything unexpected means the file was not written by this
// program (or was edited by hand).
class RowReader {
 public:
  // `row` names the row in errors; only called when there is one (a verify reads every file
  // row, and spelling each name out up front cost more than decoding the row).
  RowReader(const Statement& statement, const std::string& path, std::function<std::string()> row)
      : statement_(statement), path_(path), row_(std::move(row)) {}

  [[noreturn]] void bad(std::string_view column, const std::string& why) const {
    throw Error(ErrorKind::kStateDamaged, path_,
                "state damaged: " + row_() + ": column " + std::string(column) + ": " + why +
                    " (the database was not written by this installer, or was edited)");
  }

  std::string text(int index) const { return statement_.text(index); }
  std::optional<std::string> optional_text(int index) const {
    return statement_.optional_text(index);
  }
  std::int64_t integer(int index, std::string_view column) const {
    if (statement_.is_null(index)) bad(column, "NULL where a number is expected");
    return statement_.integer(index);
  }
  std::uint64_t unsigned_integer(int index, std::string_view column) const {
    std::int64_t value = integer(index, column);
    if (value < 0) bad(column, std::to_string(value) + " is negative");
    return static_cast<std::uint64_t>(value);
  }
  std::vector<std::string> string_array(int index, std::string_view column) const {
    std::string text = statement_.text(index);
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_array()) bad(column, quote(text) + " is not a JSON array");
    std::vector<std::string> items;
    for (const auto& item : json) {
      if (!item.is_string()) bad(column, quote(text) + " holds something other than strings");
      items.push_back(item.get<std::string>());
    }
    return items;
  }
  Arch arch(int index, std::string_view column) const {
    std::string token = text(index);
    auto arch = parse_arch(token);
    if (!arch) bad(column, quote(token) + " is not an architecture");
    return *arch;
  }
  RestartRequirement restart(int index, std::string_view column) const {
    std::string token = text(index);
    for (auto r :
         {RestartRequirement::kNone, RestartRequirement::kServices, RestartRequirement::kReboot}) {
      if (restart_token(r) == token) return r;
    }
    bad(column, quote(token) + " is not a restart requirement");
  }

 private:
  const Statement& statement_;
  const std::string& path_;
  std::function<std::string()> row_;
};

// Reads the kFileColumns starting at column `first`.
InstalledFile read_file_row(const Statement& s, int first, const std::string& path,
                            const std::string& hotfix_id) {
  InstalledFile f;
  f.path = s.text(first);
  RowReader row(s, path, [&] {
    return "files row (hotfix " + quote(hotfix_id) + ", path " + quote(f.path) + ")";
  });
  // The database is input: a path it names is held to the manifest's rules before use.
  if (auto problem = file_path_problem(f.path)) row.bad("path", quote(f.path) + " " + *problem);
  f.manifest_path = row.text(first + 1);
  std::string action = row.text(first + 2);
  auto parsed_action = parse_file_action(action);
  if (!parsed_action) row.bad("action", quote(action) + " is not a file action");
  f.action = *parsed_action;
  if (auto version = row.optional_text(first + 3)) {
    f.version = Version::parse(*version);
    if (!f.version) row.bad("version", quote(*version) + " is not a four-part file version");
  }
  f.size = row.unsigned_integer(first + 4, "size");
  std::string hex = row.text(first + 5);
  auto digest = parse_sha256_hex(hex);
  if (!digest) row.bad("sha256", quote(hex) + " is not a SHA-256 in hex");
  f.sha256 = *digest;
  f.mtime = row.integer(first + 6, "mtime");
  std::uint64_t mode = row.unsigned_integer(first + 7, "mode");
  if (mode > 07777) row.bad("mode", std::to_string(mode) + " is not a file mode");
  f.mode = static_cast<std::uint32_t>(mode);
  f.backup = row.optional_text(first + 8);
  if (f.backup && !is_backup_name(*f.backup)) {
    row.bad("backup", quote(*f.backup) + " is not a backup's name in the state directory");
  }
  f.layer = row.integer(first + 9, "layer");
  return f;
}

// Binds an InstalledFile to parameters first..first+9 in kFileColumns order.
void bind_file(Statement& s, int first, const InstalledFile& f, const std::string& path) {
  s.bind(first, f.path)
      .bind(first + 1, f.manifest_path)
      .bind(first + 2, file_action_token(f.action))
      .bind(first + 3, f.version ? std::optional<std::string>(f.version->to_string())
                                 : std::optional<std::string>())
      .bind(first + 4, to_db_integer(f.size, path, "size of " + quote(f.path)))
      .bind(first + 5, to_hex(f.sha256))
      .bind(first + 6, f.mtime)
      .bind(first + 7, std::int64_t{f.mode})
      .bind(first + 8, f.backup)
      .bind(first + 9, f.layer);
}

InstalledHotfix read_hotfix_row(const Statement& s, const std::string& path) {
  InstalledHotfix h;
  h.id = s.text(0);
  RowReader row(s, path, [&] { return "hotfixes row " + quote(h.id); });
  h.revision = row.unsigned_integer(1, "revision");
  h.title = row.text(2);
  h.arch = row.arch(3, "architecture");
  h.language = row.text(4);
  h.restart = row.restart(5, "restart");
  h.installed_at = row.integer(6, "installed_at");
  h.key_id = row.text(7);
  h.manifest_json = row.text(8);
  h.supersedes = row.string_array(9, "supersedes_json");
  h.requires_hotfixes = row.string_array(10, "requires_json");
  return h;
}

HistoryEntry read_history_row(const Statement& s, const std::string& path) {
  HistoryEntry e;
  e.seq = s.integer(0);
  RowReader row(s, path, [&] { return "history row " + std::to_string(e.seq); });
  e.at = row.integer(1, "at");
  e.action = row.text(2);
  e.hotfix_id = row.text(3);
  e.revision = row.unsigned_integer(4, "revision");
  e.outcome = row.text(5);
  e.detail = row.text(6);
  e.txid = row.optional_text(7).value_or("");
  return e;
}

}  // namespace

struct StateDb::Impl {
  std::string path;
  Mode mode = Mode::kReadOnly;
  std::chrono::milliseconds busy_timeout{};
  Connection conn;  // conn.db null: a read-only view of a database that does not exist yet
  // Read-only without the -wal/-shm companions (which SQLite needs for a write-ahead-log
  // database but this process may not create): the file is opened immutable, and every read
  // checks that nothing changed since, reconnecting when something did.
  bool immutable = false;
  DbStamp immutable_stamp;
  int version = 0;  // the schema version read (1 only in a read-only view of an old database)

  ~Impl() { close(); }

  void close() {
    conn.close();
    immutable = false;
  }

  void connect(const std::string& target, int flags) {
    close();
    int rc = sqlite3_open_v2(target.c_str(), &conn.db, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string doing = "opening the installed-state database";
      sqlite3* failed = conn.db;
      conn.db = nullptr;
      try {
        fail(failed, rc, path, doing);
      } catch (...) {
        sqlite3_close_v2(failed);
        throw;
      }
    }
    sqlite3_extended_result_codes(conn.db, 1);
    sqlite3_busy_timeout(conn.db, static_cast<int>(busy_timeout.count()));
  }

  // Opens a reader. SQLite reads a write-ahead-log database only where its -shm companion
  // exists or can be created; where neither holds (an unprivileged user, a read-only mount)
  // and the log is empty, the main file alone is the whole database: read it immutable.
  void connect_read_only() {
    connect(path, SQLITE_OPEN_READONLY);
    int rc = sqlite3_exec(conn.db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    int primary = rc & 0xff;
    FileStamp wal = stamp(path + "-wal");
    if ((primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN) && wal.size == 0) {
      DbStamp before = stamp_database(path);
      connect(file_uri(path) + "?immutable=1", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
      immutable = true;
      immutable_stamp = before;
      return;
    }
    fail(conn.db, rc, path, "reading the installed-state database");
  }

  void configure_writer() {
    exec(conn.db, path, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
         "configuring the installed-state database");
    {
      Statement s(conn, path, "PRAGMA journal_mode = WAL",
                  "switching the installed-state database to write-ahead logging");
      std::string journal_mode = s.step() ? s.text(0) : "";
      s.run();
      if (journal_mode != "wal") {
        throw Error(ErrorKind::kSystem, path,
                    "cannot use write-ahead logging (journal mode is " + quote(journal_mode) +
                        "); the file system must support shared memory files");
      }
    }
    // Keep -wal and -shm after the last writer closes, so that readers that may not create
    // them (unprivileged users) find them; truncate the log so it takes no room.
    int persist = 1;
    sqlite3_file_control(conn.db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    exec(conn.db, path, "PRAGMA journal_size_limit = 0",
         "configuring the installed-state database");
  }

  // Runs `read` in one read transaction (one snapshot). An immutable view re-checks that the
  // files did not change meanwhile and reconnects when they did.
  template <class Read>
  auto read(const std::string& doing, Read&& read_fn) {
    constexpr int kAttempts = 5;
    for (int attempt = 1;; ++attempt) {
      if (immutable && stamp_database(path) != immutable_stamp) connect_read_only();
      Transaction txn(conn, path, "BEGIN", doing);
      auto result = read_fn();
      txn.commit();
      if (!immutable || stamp_database(path) == immutable_stamp) return result;
      if (attempt == kAttempts) {
        throw Error(ErrorKind::kBusy, path,
                    doing + ": the database changed during each of " + std::to_string(kAttempts) +
                        " attempts to read it without write access to its directory; retry");
      }
    }
  }

  template <class Write>
  auto write(const std::string& doing, Write&& write_fn) {
    if (mode != Mode::kReadWrite) {
      throw Error(ErrorKind::kInternal, path, doing + ": the database was opened read-only");
    }
    Transaction txn(conn, path, "BEGIN IMMEDIATE", doing);
    auto result = write_fn();
    txn.commit();
    return result;
  }

  bool has_tables() {
    Statement s(conn, path,
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                "'sqlite\\_%' ESCAPE '\\'",
                "reading the installed-state database's schema");
    s.step();
    return s.integer(0) > 0;
  }

  // Empty (no tables): 0. A hotfix database of a schema version this program reads (1 or 2):
  // that version. Else throws.
  int check_schema() {
    if (!has_tables()) return 0;
    {
      Statement s(conn, path,
                  "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                  "reading the installed-state database's schema");
      s.step();
      if (s.integer(0) == 0) {
        throw Error(ErrorKind::kBadInput, path,
                    "not a hotfix state database: it has tables but no meta table");
      }
    }
    std::optional<std::string> text;
    {
      Statement s(conn, path, "SELECT value FROM meta WHERE key = 'schema_version'",
                  "reading the installed-state database's schema version");
      if (s.step()) text = s.text(0);
    }
    if (!text) {
      throw Error(ErrorKind::kBadInput, path,
                  "not a hotfix state database: meta has no schema_version");
    }
    int found = 0;
    for (int known = 1; known <= kStateDbSchemaVersion; ++known) {
      if (*text == std::to_string(known)) found = known;
    }
    if (found == 0) {
      throw Error(ErrorKind::kBadInput, path,
                  "schema version " + quote(*text) + " is not a version this installer " +
                      "knows (1 to " + std::to_string(kStateDbSchemaVersion) +
                      "): was it written by a newer installer?");
    }
    for (const auto& [table, columns] : kTables) {
      if (table == "dirs" && found < 2) continue;
      std::string sql =
          "SELECT " + std::string(columns) + " FROM " + std::string(table) + " LIMIT 0";
      sqlite3_stmt* probe = nullptr;
      int rc = sqlite3_prepare_v2(conn.db, sql.c_str(), -1, &probe, nullptr);
      std::string message = rc == SQLITE_OK ? "" : sqlite_message(conn.db, rc);
      sqlite3_finalize(probe);
      if (rc == SQLITE_OK) continue;
      if ((rc & 0xff) != SQLITE_ERROR)
        fail(conn.db, rc, path, "reading the schema of table " + std::string(table));
      throw Error(ErrorKind::kBadInput, path,
                  "table " + std::string(table) + " does not have the columns of schema version " +
                      std::to_string(found) + " (" + message + ")");
    }
    return found;
  }

  // Version 1 to 2, in place, in one transaction (another writer may have done it meanwhile).
  void migrate_schema() {
    std::string doing = "migrating the installed-state database to schema version " +
                        std::to_string(kStateDbSchemaVersion);
    Transaction txn(conn, path, "BEGIN IMMEDIATE", doing);
    if (check_schema() == 1) {
      exec(conn.db, path, kSchemaV2, doing);
      Statement s(conn, path, "UPDATE meta SET value = ?1 WHERE key = 'schema_version'", doing);
      s.bind(1, std::to_string(kStateDbSchemaVersion)).run();
    }
    txn.commit();
    version = kStateDbSchemaVersion;
  }

  void create_schema() {
    Transaction txn(conn, path, "BEGIN IMMEDIATE", "creating the installed-state database");
    if (!has_tables()) {  // another writer may have created it meanwhile
      exec(conn.db, path, kSchema, "creating the installed-state database");
      exec(conn.db, path, kSchemaV2, "creating the installed-state database");
      Statement s(conn, path, "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
                  "creating the installed-state database");
      s.bind(1, std::to_string(kStateDbSchemaVersion)).run();
    }
    txn.commit();
    version = kStateDbSchemaVersion;
  }

  // Outermost first.
  std::vector<std::string> dirs_of(const std::string& id) {
    if (version < 2) return {};
    Statement s(conn, path,
                "SELECT path FROM dirs WHERE hotfix_id = ?1 ORDER BY length(path), path",
                "reading the directories of hotfix " + quote(id));
    s.bind(1, id);
    std::vector<std::string> dirs;
    while (s.step()) {
      std::string dir = s.text(0);
      if (auto problem = file_path_problem(dir)) {
        throw Error(ErrorKind::kStateDamaged, path,
                    "state damaged: dirs row (hotfix " + quote(id) + "): " + quote(dir) + " " +
                        *problem +
                        " (the database was not written by this installer, or was "
                        "edited)");
      }
      dirs.push_back(std::move(dir));
    }
    return dirs;
  }

  void insert_dir(const std::string& id, const std::string& dir, const std::string& doing) {
    Statement(conn, path, "INSERT OR IGNORE INTO dirs(hotfix_id, path) VALUES (?1, ?2)",
              doing + ": directory " + quote(dir))
        .bind(1, id)
        .bind(2, dir)
        .run();
  }

  void update_layers(const std::vector<FileLayer>& updated, const std::string& doing) {
    for (const auto& [owner, f] : updated) {
      std::string what =
          doing + ": updating the record of " + quote(owner) + " over " + quote(f.path);
      Statement s(conn, path,
                  "UPDATE files SET manifest_path = ?3, action = ?4, version = ?5, size = ?6, "
                  "sha256 = ?7, mtime = ?8, mode = ?9, backup = ?10, layer = ?11 "
                  "WHERE hotfix_id = ?1 AND path = ?2",
                  what);
      s.bind(1, owner);
      bind_file(s, 2, f, path);
      s.run();
      if (sqlite3_changes(conn.db) != 1) {
        throw Error(ErrorKind::kInternal, path, what + ": no such record");
      }
    }
  }

  std::vector<InstalledFile> files_of(const std::string& id) {
    Statement s(
        conn, path,
        "SELECT " + std::string(kFileColumns) + " FROM files WHERE hotfix_id = ?1 ORDER BY path",
        "reading the files of hotfix " + quote(id));
    s.bind(1, id);
    std::vector<InstalledFile> files;
    while (s.step()) files.push_back(read_file_row(s, 0, path, id));
    return files;
  }

  std::int64_t insert_history(const HistoryEntry& e) {
    Statement s(conn, path,
                "INSERT INTO history(at, action, hotfix_id, revision, outcome, detail, txid) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                "recording history");
    s.bind(1, e.at)
        .bind(2, e.action)
        .bind(3, e.hotfix_id)
        .bind(4, to_db_integer(e.revision, path, "history revision"))
        .bind(5, e.outcome)
        .bind(6, e.detail)
        .bind(7, e.txid.empty() ? std::optional<std::string>() : std::optional(e.txid))
        .run();
    return sqlite3_last_insert_rowid(conn.db);
  }

  void store_restart(const RestartState& r) {
    Statement s(conn, path,
                "INSERT OR REPLACE INTO restart(id, " + std::string(kRestartColumns) +
                    ") VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                "recording the restart state");
    s.bind(1, std::int64_t{r.required ? 1 : 0})
        .bind(2, restart_token(r.kind))
        .bind(3, to_json_array(r.hotfixes, path, "the hotfixes needing a restart"))
        .bind(4, r.policy)
        .bind(5, r.scheduled_at)
        .bind(6, r.mechanism)
        .run();
  }
};

StateDb::StateDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateDb::StateDb(StateDb&&) noexcept = default;
StateDb& StateDb::operator=(StateDb&&) noexcept = default;
StateDb::~StateDb() = default;

StateDb StateDb::open(const std::string& path, Mode mode, std::chrono::milliseconds busy_timeout) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->mode = mode;
  impl->busy_timeout = busy_timeout;
  if (mode == Mode::kReadWrite) {
    impl->connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    impl->configure_writer();
    impl->version = impl->read("reading the installed-state database's schema",
                               [&] { return impl->check_schema(); });
    if (impl->version == 0) impl->create_schema();
    if (impl->version < kStateDbSchemaVersion) impl->migrate_schema();
    return StateDb(std::move(impl));
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return StateDb(std::move(impl));  // nothing installed yet
    throw SystemError(path, "opening the installed-state database", errno);
  }
  impl->connect_read_only();
  impl->version = impl->read("reading the installed-state database's schema",
                             [&] { return impl->check_schema(); });
  if (impl->version == 0) impl->close();  // created but never given a schema: nothing installed yet
  return StateDb(std::move(impl));
}

const std::string& StateDb::path() const { return impl_->path; }
StateDb::Mode StateDb::mode() const { return impl_->mode; }
bool StateDb::exists() const { return impl_->conn.db != nullptr; }

std::vector<InstalledHotfix> StateDb::hotfixes(bool with_files, bool with_manifest) const {
  if (!impl_->conn.db) return {};
  Impl& d = *impl_;
  return d.read("reading the installed hotfixes", [&] {
    std::vector<InstalledHotfix> hotfixes;
    {
      std::string columns(kHotfixColumns);
      if (!with_manifest) columns.replace(columns.find("manifest_json"), 13, "''");
      Statement s(d.conn, d.path, "SELECT " + columns + " FROM hotfixes ORDER BY installed_at, id",
                  "reading the installed hotfixes");
      while (s.step()) hotfixes.push_back(read_hotfix_row(s, d.path));
    }
    if (with_files) {
      for (auto& h : hotfixes) {
        h.files = d.files_of(h.id);
        h.created_dirs = d.dirs_of(h.id);
      }
    }
    return hotfixes;
  });
}

std::optional<InstalledHotfix> StateDb::hotfix(const std::string& id) const {
  if (!impl_->conn.db) return std::nullopt;
  Impl& d = *impl_;
  return d.read("reading hotfix " + quote(id), [&]() -> std::optional<InstalledHotfix> {
    std::optional<InstalledHotfix> hotfix;
    {
      Statement s(d.conn, d.path,
                  "SELECT " + std::string(kHotfixColumns) + " FROM hotfixes WHERE id = ?1",
                  "reading hotfix " + quote(id));
      s.bind(1, id);
      if (s.step()) hotfix = read_hotfix_row(s, d.path);
    }
    if (hotfix) {
      hotfix->files = d.files_of(id);
      hotfix->created_dirs = d.dirs_of(id);
    }
    return hotfix;
  });
}

bool StateDb::has_hotfix(const std::string& id) const {
  if (!impl_->conn.db) return false;
  Impl& d = *impl_;
  std::string doing = "reading hotfix " + quote(id);
  return d.read(doing, [&] {
    Statement s(d.conn, d.path, "SELECT 1 FROM hotfixes WHERE id = ?1", doing);
    s.bind(1, id);
    return s.step();
  });
}

void StateDb::each_file(
    const std::function<void(const std::string& hotfix_id, InstalledFile&& file)>& each) const {
  if (!impl_->conn.db) return;
  Impl& d = *impl_;
  // An immutable view may have to read again (see read()): the records are handed out only
  // once a whole read succeeded, so that none is seen twice.
  std::vector<FileLayer> held;
  d.read("reading the installed files", [&] {
    held.clear();
    std::vector<std::string> ids;
    {
      Statement s(d.conn, d.path, "SELECT id FROM hotfixes ORDER BY installed_at, id",
                  "reading the installed hotfixes");
      while (s.step()) ids.push_back(s.text(0));
    }
    for (const std::string& id : ids) {
      Statement s(
          d.conn, d.path,
          "SELECT " + std::string(kFileColumns) + " FROM files WHERE hotfix_id = ?1 ORDER BY path",
          "reading the files of hotfix " + quote(id));
      s.bind(1, id);
      while (s.step()) {
        InstalledFile file = read_file_row(s, 0, d.path, id);
        if (d.immutable) {
          held.emplace_back(id, std::move(file));
        } else {
          each(id, std::move(file));
        }
      }
    }
    return 0;
  });
  for (auto& [id, file] : held) each(id, std::move(file));
}

std::vector<FileLayer> StateDb::layers(const std::string& path, bool fold_case) const {
  if (!impl_->conn.db) return {};
  Impl& d = *impl_;
  std::string doing = "reading the records of path " + quote(path);
  return d.read(doing, [&] {
    // lower() folds ASCII letters only, like the rest of the installer's path matching.
    Statement s(d.conn, d.path,
                "SELECT hotfix_id, " + std::string(kFileColumns) + " FROM files WHERE " +
                    (fold_case ? "lower(path) = lower(?1)" : "path = ?1") +
                    " ORDER BY layer, hotfix_id",
                doing);
    s.bind(1, path);
    std::vector<FileLayer> layers;
    while (s.step()) {
      std::string id = s.text(0);
      InstalledFile file = read_file_row(s, 1, d.path, id);
      layers.emplace_back(std::move(id), std::move(file));
    }
    return layers;
  });
}

std::int64_t StateDb::next_layer() const {
  if (!impl_->conn.db) return 1;
  Impl& d = *impl_;
  return d.read("reading the layers", [&] {
    Statement s(d.conn, d.path, "SELECT coalesce(max(layer), 0) + 1 FROM files",
                "reading the layers");
    s.step();
    return s.integer(0);
  });
}

bool StateDb::transaction_committed(const std::string& txid) const {
  if (!impl_->conn.db || txid.empty()) return false;
  Impl& d = *impl_;
  std::string doing = "looking up transaction " + quote(txid);
  return d.read(doing, [&] {
    Statement s(d.conn, d.path, "SELECT 1 FROM history WHERE txid = ?1 LIMIT 1", doing);
    s.bind(1, txid);
    return s.step();
  });
}

std::vector<HistoryEntry> StateDb::history() const {
  if (!impl_->conn.db) return {};
  Impl& d = *impl_;
  return d.read("reading the history", [&] {
    Statement s(d.conn, d.path,
                "SELECT " + std::string(kHistoryColumns) + " FROM history ORDER BY seq",
                "reading the history");
    std::vector<HistoryEntry> entries;
    while (s.step()) entries.push_back(read_history_row(s, d.path));
    return entries;
  });
}

RestartState StateDb::restart() const {
  if (!impl_->conn.db) return {};
  Impl& d = *impl_;
  return d.read("reading the restart state", [&] {
    Statement s(d.conn, d.path,
                "SELECT " + std::string(kRestartColumns) + " FROM restart WHERE id = 1",
                "reading the restart state");
    RestartState r;
    if (!s.step()) return r;
    RowReader row(s, d.path, [] { return std::string("restart row"); });
    std::int64_t required = row.integer(0, "required");
    if (required != 0 && required != 1)
      row.bad("required", std::to_string(required) + " is not 0 or 1");
    r.required = required == 1;
    r.kind = row.restart(1, "kind");
    r.hotfixes = row.string_array(2, "hotfixes_json");
    r.policy = row.text(3);
    if (!s.is_null(4)) r.scheduled_at = s.integer(4);
    r.mechanism = row.text(5);
    return r;
  });
}

std::int64_t StateDb::record_apply(const InstalledHotfix& h, const HistoryEntry& entry,
                                   const RestartState& restart,
                                   const std::vector<FileLayer>& updated_layers) {
  Impl& d = *impl_;
  std::string doing = "recording hotfix " + quote(h.id);
  return d.write(doing, [&] {
    // An upgrade replaces the previous revision's row and all its file and directory records.
    Statement(d.conn, d.path, "DELETE FROM files WHERE hotfix_id = ?1", doing).bind(1, h.id).run();
    Statement(d.conn, d.path, "DELETE FROM dirs WHERE hotfix_id = ?1", doing).bind(1, h.id).run();
    Statement(d.conn, d.path, "DELETE FROM hotfixes WHERE id = ?1", doing).bind(1, h.id).run();
    Statement(d.conn, d.path,
              "INSERT INTO hotfixes(" + std::string(kHotfixColumns) +
                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
              doing)
        .bind(1, h.id)
        .bind(2, to_db_integer(h.revision, d.path, "revision of " + quote(h.id)))
        .bind(3, h.title)
        .bind(4, arch_token(h.arch))
        .bind(5, h.language)
        .bind(6, restart_token(h.restart))
        .bind(7, h.installed_at)
        .bind(8, h.key_id)
        .bind(9, h.manifest_json)
        .bind(10, to_json_array(h.supersedes, d.path, "supersedes of " + quote(h.id)))
        .bind(11, to_json_array(h.requires_hotfixes, d.path, "requires of " + quote(h.id)))
        .run();
    Statement insert(d.conn, d.path,
                     "INSERT INTO files(hotfix_id, " + std::string(kFileColumns) +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                     doing + ": recording its files");
    for (const InstalledFile& f : h.files) {
      insert.reset();
      insert.bind(1, h.id);
      bind_file(insert, 2, f, d.path);
      insert.run_for(doing + ": file " + quote(f.path));
    }
    for (const std::string& dir : h.created_dirs) d.insert_dir(h.id, dir, doing);
    d.update_layers(updated_layers, doing);
    std::int64_t seq = d.insert_history(entry);
    d.store_restart(restart);
    return seq;
  });
}

std::int64_t StateDb::record_uninstall(const std::string& id,
                                       const std::vector<FileLayer>& updated_layers,
                                       const HistoryEntry& entry, const RestartState& restart,
                                       const std::vector<DirOwner>& handed_on_dirs) {
  Impl& d = *impl_;
  std::string doing = "recording the uninstall of hotfix " + quote(id);
  return d.write(doing, [&] {
    Statement(d.conn, d.path, "DELETE FROM files WHERE hotfix_id = ?1", doing).bind(1, id).run();
    Statement(d.conn, d.path, "DELETE FROM dirs WHERE hotfix_id = ?1", doing).bind(1, id).run();
    Statement(d.conn, d.path, "DELETE FROM hotfixes WHERE id = ?1", doing).bind(1, id).run();
    if (sqlite3_changes(d.conn.db) != 1) {
      throw Error(ErrorKind::kInternal, d.path, doing + ": it is not installed");
    }
    d.update_layers(updated_layers, doing);
    for (const auto& [owner, dir] : handed_on_dirs) d.insert_dir(owner, dir, doing);
    std::int64_t seq = d.insert_history(entry);
    d.store_restart(restart);
    return seq;
  });
}

std::int64_t StateDb::add_history(const HistoryEntry& entry) {
  Impl& d = *impl_;
  return d.write("recording history", [&] { return d.insert_history(entry); });
}

void StateDb::set_restart(const RestartState& restart) {
  Impl& d = *impl_;
  d.write("recording the restart state", [&] {
    d.store_restart(restart);
    return 0;
  });
}

}  // namespace hotfix
