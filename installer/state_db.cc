#include "installer/state_db.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <functional>

#include "installer/sqlite_connection.h"
#include "installer/sqlite_directory.h"
#include "installer/state_rows.h"
#include "installer/state_schema.h"
#include "manifests/errors.h"
#include "manifests/json_context.h"

namespace hotfix {

namespace {

using Mode = StateDb::Mode;
using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

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

FileStamp stamp(int dir, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return {};
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

}  // namespace

struct StateDb::Impl {
  std::string path;                      // as shown in messages
  std::unique_ptr<SqliteDirectory> dir;  // null: a view of a database that does not exist
  std::string file;                      // the database's name in `dir`
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

  DbStamp stamp_database() const {
    return {stamp(dir->fd(), file), stamp(dir->fd(), file + "-wal"),
            stamp(dir->fd(), file + "-shm")};
  }

  void connect(const std::string& target, int flags) {
    close();
    int rc = sqlite3_open_v2(target.c_str(), &conn.db, flags | SQLITE_OPEN_NOFOLLOW, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3* failed = conn.db;
      conn.db = nullptr;
      try {
        sqlite::fail(failed, rc, path, "opening the installed-state database");
      } catch (...) {
        sqlite3_close_v2(failed);
        throw;
      }
    }
    sqlite3_extended_result_codes(conn.db, 1);
    sqlite3_busy_timeout(conn.db, static_cast<int>(busy_timeout.count()));
    // The database is input (docs/state-database.md, "The database is input"): nothing in its
    // schema may run a function with side effects, and no SQL may corrupt it on purpose.
    sqlite3_db_config(conn.db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    sqlite3_db_config(conn.db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(conn.db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
    sqlite3_limit(conn.db, SQLITE_LIMIT_ATTACHED, 0);
  }

  // Opens a reader. SQLite reads a write-ahead-log database only where its -shm companion
  // exists or can be created; where neither holds (an unprivileged user, a read-only mount)
  // and the log is empty, the main file alone is the whole database: read it immutable.
  void connect_read_only() {
    connect(dir->name(file), SQLITE_OPEN_READONLY);
    int rc = sqlite3_exec(conn.db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    int primary = rc & 0xff;
    FileStamp wal = stamp(dir->fd(), file + "-wal");
    if ((primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN) && wal.size == 0) {
      DbStamp before = stamp_database();
      connect(sqlite::file_uri(dir->name(file)) + "?immutable=1",
              SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
      immutable = true;
      immutable_stamp = before;
      return;
    }
    sqlite::fail(conn.db, rc, path, "reading the installed-state database");
  }

  void configure_writer() {
    sqlite::exec(conn.db, path, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
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
    sqlite::exec(conn.db, path, "PRAGMA journal_size_limit = 0",
                 "configuring the installed-state database");
  }

  // Runs `read` in one read transaction (one snapshot). An immutable view re-checks that the
  // files did not change meanwhile and reconnects when they did.
  template <class Read>
  auto read(const std::string& doing, Read&& read_fn) {
    constexpr int kAttempts = 5;
    for (int attempt = 1;; ++attempt) {
      if (immutable && stamp_database() != immutable_stamp) connect_read_only();
      Transaction txn(conn, path, "BEGIN", doing);
      auto result = read_fn();
      txn.commit();
      if (!immutable || stamp_database() == immutable_stamp) return result;
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

  int check_schema() {
    return read("reading the installed-state database's schema",
                [&] { return state_schema::check(conn, path); });
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
      std::string d = s.text(0);
      state_rows::check_dir(d, path, id);
      dirs.push_back(std::move(d));
    }
    return dirs;
  }

  void insert_dir(const std::string& id, const std::string& d, const std::string& doing) {
    Statement(conn, path, "INSERT OR IGNORE INTO dirs(hotfix_id, path) VALUES (?1, ?2)",
              doing + ": directory " + quote(d))
        .bind(1, id)
        .bind(2, d)
        .run();
  }

  void update_layers(const std::vector<FileLayer>& updated, const std::string& doing) {
    for (const auto& [owner, f] : updated) {
      std::string what =
          doing + ": updating the record of " + quote(owner) + " over " + quote(f.path);
      Statement s(conn, path,
                  "UPDATE files SET manifest_path = ?3, action = ?4, version = ?5, size = ?6, "
                  "sha256 = ?7, mtime = ?8, mode = ?9, backup = ?10, layer = ?11, kind = ?12 "
                  "WHERE hotfix_id = ?1 AND path = ?2",
                  what);
      s.bind(1, owner);
      state_rows::bind_file(s, 2, f, path);
      s.run();
      if (sqlite3_changes(conn.db) != 1) {
        throw Error(ErrorKind::kInternal, path, what + ": no such record");
      }
    }
  }

  std::vector<InstalledFile> files_of(const std::string& id) {
    Statement s(conn, path,
                "SELECT " + state_schema::file_columns(version) +
                    " FROM files WHERE hotfix_id = ?1 ORDER BY path",
                "reading the files of hotfix " + quote(id));
    s.bind(1, id);
    std::vector<InstalledFile> files;
    while (s.step()) files.push_back(state_rows::read_file(s, 0, path, id));
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
        .bind(4, state_rows::to_db_integer(e.revision, path, "history revision"))
        .bind(5, e.outcome)
        .bind(6, e.detail)
        .bind(7, e.txid.empty() ? std::optional<std::string>() : std::optional(e.txid))
        .run();
    return sqlite3_last_insert_rowid(conn.db);
  }

  void store_restart(const RestartState& r) {
    Statement s(conn, path,
                "INSERT OR REPLACE INTO restart(id, " + std::string(state_schema::kRestartColumns) +
                    ") VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                "recording the restart state");
    s.bind(1, std::int64_t{r.required ? 1 : 0})
        .bind(2, restart_token(r.kind))
        .bind(3, state_rows::to_json_array(r.hotfixes, path, "the hotfixes needing a restart"))
        .bind(4, r.policy)
        .bind(5, r.scheduled_at)
        .bind(6, r.mechanism)
        .bind(7, r.since)
        .bind(8, r.boot)
        .run();
  }
};

StateDb::StateDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateDb::StateDb(StateDb&&) noexcept = default;
StateDb& StateDb::operator=(StateDb&&) noexcept = default;
StateDb::~StateDb() = default;

StateDb StateDb::none(std::string shown) {
  auto impl = std::make_unique<Impl>();
  impl->path = std::move(shown);
  return StateDb(std::move(impl));
}

StateDb StateDb::open(FileDescriptor dir, std::string_view name, std::string shown, Mode mode,
                      std::chrono::milliseconds busy_timeout,
                      const std::function<void()>& on_empty) {
  auto impl = std::make_unique<Impl>();
  impl->path = std::move(shown);
  impl->dir = std::make_unique<SqliteDirectory>(std::move(dir));
  impl->file = std::string(name);
  impl->mode = mode;
  impl->busy_timeout = busy_timeout;
  if (mode == Mode::kReadWrite) {
    impl->connect(impl->dir->name(impl->file), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    impl->configure_writer();
    impl->version = impl->check_schema();
    if (impl->version == 0 && on_empty) on_empty();
    if (impl->version == 0) impl->version = state_schema::create(impl->conn, impl->path);
    if (impl->version < kStateDbSchemaVersion) {
      impl->version = state_schema::migrate(impl->conn, impl->path);
    }
    return StateDb(std::move(impl));
  }
  struct stat st {};
  if (::fstatat(impl->dir->fd(), impl->file.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) {
      if (on_empty) on_empty();
      return none(impl->path);  // nothing installed yet
    }
    throw SystemError(impl->path, "opening the installed-state database", errno);
  }
  impl->connect_read_only();
  impl->version = impl->check_schema();
  if (impl->version == 0) {  // created but never given a schema: nothing installed yet
    if (on_empty) on_empty();
    impl->close();
  }
  return StateDb(std::move(impl));
}

StateDb StateDb::open(const std::string& path, Mode mode, std::chrono::milliseconds busy_timeout) {
  std::size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  int fd = ::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && mode == Mode::kReadOnly) return none(path);
    throw SystemError(path, "opening the installed-state database's directory", errno);
  }
  return open(FileDescriptor(fd), name, path, mode, busy_timeout);
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
      std::string columns(state_schema::kHotfixColumns);
      if (!with_manifest) columns.replace(columns.find("manifest_json"), 13, "''");
      Statement s(d.conn, d.path, "SELECT " + columns + " FROM hotfixes ORDER BY installed_at, id",
                  "reading the installed hotfixes");
      while (s.step()) hotfixes.push_back(state_rows::read_hotfix(s, d.path));
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
      Statement s(
          d.conn, d.path,
          "SELECT " + std::string(state_schema::kHotfixColumns) +
              // Ids compare ignoring (ASCII) case, as NOCASE does; the exact spelling first.
              " FROM hotfixes WHERE id = ?1 COLLATE NOCASE ORDER BY id = ?1 DESC LIMIT 1",
          "reading hotfix " + quote(id));
      s.bind(1, id);
      if (s.step()) hotfix = state_rows::read_hotfix(s, d.path);
    }
    if (hotfix) {
      hotfix->files = d.files_of(hotfix->id);
      hotfix->created_dirs = d.dirs_of(hotfix->id);
    }
    return hotfix;
  });
}

bool StateDb::has_hotfix(const std::string& id) const {
  if (!impl_->conn.db) return false;
  Impl& d = *impl_;
  std::string doing = "reading hotfix " + quote(id);
  return d.read(doing, [&] {
    Statement s(d.conn, d.path, "SELECT 1 FROM hotfixes WHERE id = ?1 COLLATE NOCASE", doing);
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
      Statement s(d.conn, d.path,
                  "SELECT " + state_schema::file_columns(d.version) +
                      " FROM files WHERE hotfix_id = ?1 ORDER BY path",
                  "reading the files of hotfix " + quote(id));
      s.bind(1, id);
      while (s.step()) {
        InstalledFile file = state_rows::read_file(s, 0, d.path, id);
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
                "SELECT hotfix_id, " + state_schema::file_columns(d.version) +
                    " FROM files WHERE " + (fold_case ? "lower(path) = lower(?1)" : "path = ?1") +
                    " ORDER BY layer, hotfix_id",
                doing);
    s.bind(1, path);
    std::vector<FileLayer> layers;
    while (s.step()) {
      std::string id = s.text(0);
      InstalledFile file = state_rows::read_file(s, 1, d.path, id);
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

std::uint64_t StateDb::file_count(const std::optional<std::string>& hotfix_id) const {
  if (!impl_->conn.db) return 0;
  Impl& d = *impl_;
  return d.read("counting the files", [&] {
    Statement s(d.conn, d.path,
                hotfix_id ? "SELECT count(*) FROM files WHERE hotfix_id = ?1 COLLATE NOCASE"
                          : "SELECT count(*) FROM files",
                "counting the files");
    if (hotfix_id) s.bind(1, *hotfix_id);
    s.step();
    return static_cast<std::uint64_t>(s.integer(0));
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
    Statement s(
        d.conn, d.path,
        "SELECT " + std::string(state_schema::kHistoryColumns) + " FROM history ORDER BY seq",
        "reading the history");
    std::vector<HistoryEntry> entries;
    while (s.step()) entries.push_back(state_rows::read_history(s, d.path));
    return entries;
  });
}

RestartState StateDb::restart() const {
  if (!impl_->conn.db) return {};
  Impl& d = *impl_;
  return d.read("reading the restart state", [&] {
    Statement s(d.conn, d.path,
                "SELECT " + state_schema::restart_columns(d.version) + " FROM restart WHERE id = 1",
                "reading the restart state");
    if (!s.step()) return RestartState{};
    return state_rows::read_restart(s, d.path);
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
              "INSERT INTO hotfixes(" + std::string(state_schema::kHotfixColumns) +
                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
              doing)
        .bind(1, h.id)
        .bind(2, state_rows::to_db_integer(h.revision, d.path, "revision of " + quote(h.id)))
        .bind(3, h.title)
        .bind(4, arch_token(h.arch))
        .bind(5, h.language)
        .bind(6, restart_token(h.restart))
        .bind(7, h.installed_at)
        .bind(8, h.key_id)
        .bind(9, h.manifest_json)
        .bind(10, state_rows::to_json_array(h.supersedes, d.path, "supersedes of " + quote(h.id)))
        .bind(11,
              state_rows::to_json_array(h.requires_hotfixes, d.path, "requires of " + quote(h.id)))
        .run();
    Statement insert(d.conn, d.path,
                     "INSERT INTO files(hotfix_id, " + std::string(state_schema::kFileColumns) +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                     doing + ": recording its files");
    for (const InstalledFile& f : h.files) {
      insert.reset();
      insert.bind(1, h.id);
      state_rows::bind_file(insert, 2, f, d.path);
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

std::vector<RepositoryVersion> StateDb::repository_versions(const std::string& source) const {
  if (!impl_->conn.db || impl_->version < 4) return {};
  Impl& d = *impl_;
  return d.read("reading the repository versions", [&] {
    Statement s(d.conn, d.path,
                "SELECT role, version, expires, sha256, updated_at FROM repository_metadata "
                "WHERE source = ?1 ORDER BY role",
                "reading the repository versions");
    s.bind(1, source);
    std::vector<RepositoryVersion> out;
    while (s.step()) {
      std::int64_t version = s.integer(1);
      if (version < 1) {
        throw Error(ErrorKind::kStateDamaged, d.path,
                    "state damaged: repository_metadata holds version " + std::to_string(version));
      }
      out.push_back(
          {s.text(0), static_cast<std::uint64_t>(version), s.integer(2), s.text(3), s.integer(4)});
    }
    return out;
  });
}

std::int64_t StateDb::record_sync(const std::string& source,
                                  const std::vector<RepositoryVersion>& versions,
                                  const HistoryEntry& entry,
                                  const std::vector<std::string>& reset_roles) {
  Impl& d = *impl_;
  std::string doing = "recording the metadata of source " + quote(source);
  return d.write(doing, [&] {
    for (const std::string& role : reset_roles) {
      Statement(d.conn, d.path, "DELETE FROM repository_metadata WHERE source = ?1 AND role = ?2",
                doing)
          .bind(1, source)
          .bind(2, role)
          .run();
    }
    for (const RepositoryVersion& v : versions) {
      Statement q(d.conn, d.path,
                  "SELECT version FROM repository_metadata WHERE source = ?1 AND role = ?2", doing);
      q.bind(1, source).bind(2, v.role);
      if (q.step() && static_cast<std::uint64_t>(q.integer(0)) > v.version) {
        throw Error(ErrorKind::kMetadata, "source " + quote(source),
                    v.role + " version " + std::to_string(v.version) + " is older than version " +
                        std::to_string(q.integer(0)) + ", trusted before: a rollback");
      }
      Statement(d.conn, d.path,
                "INSERT OR REPLACE INTO repository_metadata(source, role, version, expires, "
                "sha256, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                doing)
          .bind(1, source)
          .bind(2, v.role)
          .bind(3, static_cast<std::int64_t>(v.version))
          .bind(4, v.expires)
          .bind(5, v.sha256)
          .bind(6, v.updated_at)
          .run();
    }
    return d.insert_history(entry);
  });
}

std::int64_t StateDb::forget_source(const std::string& source, const HistoryEntry& entry) {
  Impl& d = *impl_;
  std::string doing = "forgetting source " + quote(source);
  return d.write(doing, [&] {
    Statement(d.conn, d.path, "DELETE FROM repository_metadata WHERE source = ?1", doing)
        .bind(1, source)
        .run();
    return d.insert_history(entry);
  });
}

}  // namespace hotfix
