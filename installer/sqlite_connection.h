// A thin C++ layer over the SQLite C API for the installed-state database: a connection with
// its prepared statements kept for reuse, statements whose parameters are always bound (never
// spliced into SQL), and transactions that roll back unless committed. Every failure becomes a
// hotfix::Error naming the database (`path`, as shown to the user) and what was being done.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hotfix::sqlite {

// Maps an SQLite failure to the error family the caller's exit code depends on: kBusy (locked
// longer than the busy timeout), kSystem (I/O, disk full, permission), kStateDamaged (not a
// database, or a damaged one), kInternal (misuse).
[[noreturn]] void fail(sqlite3* db, int rc, const std::string& path, const std::string& doing);

// SQLite's message for `rc` on `db`.
std::string message(sqlite3* db, int rc);

// A connection and its prepared statements not in use: the installer asks about every file of
// a bundle, and preparing costs more than running.
struct Connection {
  sqlite3* db = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> idle;

  void close();
};

// A prepared statement, taken from the connection's idle ones when it was prepared before and
// given back when done.
class Statement {
 public:
  Statement(Connection& connection, const std::string& path, std::string_view sql,
            std::string doing);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) {
    return bind(index, std::string_view(text));
  }
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, const std::optional<std::string>& text);
  Statement& bind(int index, const std::optional<std::int64_t>& value);

  bool step();                            // true while there is a row
  void run();                             // to the end
  void run_for(const std::string& what);  // to the end, naming `what` on failure
  void reset();                           // ready to run again with new parameters

  bool is_null(int column) const;
  int type(
      int column) const;  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL
  std::int64_t integer(int column) const;
  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;

 private:
  void check_bind(int rc);

  Connection& connection_;
  sqlite3* db_;
  const std::string& path_;
  std::string doing_;
  std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs one statement (cached).
void run(Connection& connection, const std::string& path, std::string_view sql,
         const std::string& doing);
// Runs several statements (not cached).
void exec(sqlite3* db, const std::string& path, std::string_view sql, const std::string& doing);

// A transaction that rolls back unless committed.
class Transaction {
 public:
  Transaction(Connection& connection, const std::string& path, std::string_view begin,
              std::string doing);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Connection& connection_;
  sqlite3* db_;
  const std::string& path_;
  std::string doing_;
};

// "file:" URI of an absolute path for sqlite3_open_v2 with SQLITE_OPEN_URI, every byte that is
// not plainly safe percent-encoded, so that paths with '?', '#' or '%' stay paths.
std::string file_uri(std::string_view absolute_path);

}  // namespace hotfix::sqlite
