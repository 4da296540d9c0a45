#include "installer/sqlite_connection.h"

#include <cerrno>

#include "manifests/errors.h"

namespace hotfix::sqlite {

std::string message(sqlite3* db, int rc) {
  if (db && sqlite3_extended_errcode(db) == rc) return sqlite3_errmsg(db);
  return sqlite3_errstr(rc);
}

void fail(sqlite3* db, int rc, const std::string& path, const std::string& doing) {
  std::string text = message(db, rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw Error(ErrorKind::kBusy, path,
                  doing + ": " + text +
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
      if (error_number != 0) throw SystemError(path, doing + " (" + text + ")", error_number);
      throw Error(ErrorKind::kSystem, path, doing + ": " + text);
    }
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      throw Error(ErrorKind::kStateDamaged, path,
                  "state damaged: " + doing + ": " + text +
                      " (not a hotfix state database, or a damaged one)");
    default:
      throw Error(ErrorKind::kInternal, path, doing + ": " + text);
  }
}

void Connection::close() {
  for (auto& [sql, stmt] : idle) sqlite3_finalize(stmt);
  idle.clear();
  sqlite3_close_v2(db);
  db = nullptr;
}

Statement::Statement(Connection& connection, const std::string& path, std::string_view sql,
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

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (!stmt_ || !connection_.idle.emplace(std::move(sql_), stmt_).second) {
    sqlite3_finalize(stmt_);
  }
}

Statement& Statement::bind(int index, std::string_view text) {
  check_bind(
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  if (text) return bind(index, std::string_view(*text));
  check_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
  if (value) return bind(index, *value);
  check_bind(sqlite3_bind_null(stmt_, index));
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, path_, doing_);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::run_for(const std::string& what) {
  int rc = sqlite3_step(stmt_);
  while (rc == SQLITE_ROW) rc = sqlite3_step(stmt_);
  if (rc != SQLITE_DONE) fail(db_, rc, path_, what);
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int Statement::type(int column) const { return sqlite3_column_type(stmt_, column); }

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

void Statement::check_bind(int rc) {
  if (rc != SQLITE_OK) fail(db_, rc, path_, doing_ + " (binding a parameter)");
}

void run(Connection& connection, const std::string& path, std::string_view sql,
         const std::string& doing) {
  Statement(connection, path, sql, doing).run();
}

void exec(sqlite3* db, const std::string& path, std::string_view sql, const std::string& doing) {
  int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, path, doing);
}

Transaction::Transaction(Connection& connection, const std::string& path, std::string_view begin,
                         std::string doing)
    : connection_(connection), db_(connection.db), path_(path), doing_(std::move(doing)) {
  sqlite::run(connection_, path_, begin, doing_);
}

Transaction::~Transaction() {
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() { sqlite::run(connection_, path_, "COMMIT", doing_ + " (committing)"); }

std::string file_uri(std::string_view absolute_path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file://";
  for (unsigned char c : absolute_path) {
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

}  // namespace hotfix::sqlite
