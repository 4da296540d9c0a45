// libFuzzer target: reading back the installer's database (installer/state_schema.h,
// installer/state_rows.h), which anyone who can write the root can edit. The input is SQL, as
// such a person would run it with sqlite3, applied to a database of the current schema that
// holds two installed hotfixes, their files, directories, history and a pending restart; then
// every read the installer makes runs over the result. Besides sanitizer findings it checks
// that only hotfix::Error(kStateDamaged) escapes, and that what is accepted obeys the rules
// the rows are held to. The SQL cannot reach outside the scratch database (no ATTACH, so no
// VACUUM INTO; no extensions) and is bounded in steps and sizes.
#include <sqlite3.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "installer/state_checks.h"
#include "installer/state_db.h"
#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/sha256.h"

namespace {

namespace fs = std::filesystem;
using hotfix::StateDb;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "state_rows_fuzzer: %s\n", what);
    std::abort();
  }
}

hotfix::InstalledFile file(const std::string& path, std::int64_t layer, bool backup) {
  hotfix::InstalledFile f;
  f.path = path;
  f.manifest_path = path;
  f.action = backup ? hotfix::FileAction::kReplaced : hotfix::FileAction::kInstalled;
  f.version = hotfix::Version(7, 0, 6001, 22329);
  f.size = 51712;
  f.sha256 = hotfix::Sha256::of(path);
  f.mtime = 1229142420;
  if (backup) f.backup = "backups/20260101T000000Z-0badf00d/" + std::to_string(layer);
  f.layer = layer;
  return f;
}

hotfix::InstalledHotfix hotfix_record(const std::string& id, std::int64_t layer) {
  hotfix::InstalledHotfix h;
  h.id = id;
  h.revision = 2;
  h.title = "Update for " + id;
  h.arch = hotfix::Arch::kX64;
  h.language = "en-US";
  h.restart = hotfix::RestartRequirement::kReboot;
  h.installed_at = 1700000000 + layer;
  h.key_id = std::string(64, 'a');
  h.manifest_json = "{\"id\": \"" + id + "\"}";
  h.supersedes = {"KB1"};
  h.requires_hotfixes = {"KB2"};
  h.files = {file("Windows/System32/inetsrv/Admwprox.dll", layer, true),
             file("Windows/System32/inetsrv/new" + id + ".dll", layer, false)};
  h.created_dirs = {"Windows/System32/inetsrv/" + id};
  return h;
}

// The database every input starts from, written once and copied.
const std::string& template_bytes(const fs::path& dir) {
  static const std::string bytes = [&] {
    const fs::path path = dir / "template.db";
    {
      StateDb db = StateDb::open(path.string(), StateDb::Mode::kReadWrite);
      hotfix::RestartState restart;
      restart.required = true;
      restart.kind = hotfix::RestartRequirement::kReboot;
      restart.hotfixes = {"KB967131"};
      restart.policy = "never";
      restart.mechanism = "none";
      for (auto [id, layer] : {std::pair{"KB967131", 1}, std::pair{"KB967132", 2}}) {
        hotfix::HistoryEntry entry{0, 1700000000, "apply", id, 2, "applied", "applied", ""};
        entry.txid = "20260101T000000Z-0000000" + std::to_string(layer);
        db.record_apply(hotfix_record(id, layer), entry, restart);
      }
    }
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  return bytes;
}

int deny_attach(void*, int action, const char*, const char*, const char*, const char*) {
  return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK;
}

int stop_after_budget(void* steps) { return --*static_cast<int*>(steps) < 0; }

// Runs the input on the database file as a person with sqlite3 would; errors are ignored.
void edit(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return;
  }
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1 << 16);
  sqlite3_set_authorizer(db, deny_attach, nullptr);
  int steps = 2000;  // of 1,000 virtual-machine instructions each
  sqlite3_progress_handler(db, 1000, stop_after_budget, &steps);
  char* error = nullptr;
  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  if (error && std::getenv("STATE_ROWS_FUZZER_VERBOSE")) std::fprintf(stderr, "sql: %s\n", error);
  sqlite3_free(error);
  sqlite3_close(db);
}

void check_hotfix(const hotfix::InstalledHotfix& h) {
  check(hotfix::is_valid_id(h.id), "an accepted hotfix id breaks the id rule");
  for (const hotfix::InstalledFile& f : h.files) {
    check(!hotfix::file_path_problem(f.path), "an accepted file path breaks the path rules");
    check(!f.backup || hotfix::is_backup_name(*f.backup), "an accepted backup is not ours");
  }
}

// Every read the installer makes of the database, as list, history, status, verify,
// uninstall and apply make them.
void read_everything(const fs::path& path) {
  StateDb db = StateDb::open(path.string(), StateDb::Mode::kReadOnly);
  for (const hotfix::InstalledHotfix& h : db.hotfixes(true, true)) {
    check_hotfix(h);
    if (auto again = db.hotfix(h.id)) check_hotfix(*again);
    for (const hotfix::InstalledFile& f : h.files) {
      db.layers(f.path, false);
      db.layers(f.path, true);
    }
  }
  db.each_file([](const std::string&, hotfix::InstalledFile&& f) {
    check(!hotfix::file_path_problem(f.path), "each_file accepted a bad path");
  });
  db.has_hotfix("KB967131");
  db.next_layer();
  db.transaction_committed("20260101T000000Z-00000001");
  db.history();
  db.restart();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir = [] {
    // In memory where there is a tmpfs for it: each input writes the database afresh.
    std::string name = fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path();
    name += "/state_rows_fuzzer.XXXXXX";
    check(::mkdtemp(name.data()) != nullptr, "mkdtemp failed");
    static std::string made = name;
    std::atexit([] { std::filesystem::remove_all(made); });
    return fs::path(name);
  }();
  const fs::path path = dir / "state.db";
  const std::string& start = template_bytes(dir);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(path.string() + suffix);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(start.data(), static_cast<std::streamsize>(start.size()));
  }
  edit(path, std::string(reinterpret_cast<const char*>(data), size));
  try {
    read_everything(path);
  } catch (const hotfix::Error& error) {
    if (std::getenv("STATE_ROWS_FUZZER_VERBOSE")) std::fprintf(stderr, "%s\n", error.what());
    check(error.kind() == hotfix::ErrorKind::kStateDamaged, "a database error that is not damage");
  }
  return 0;
}
