#include "installer/state_db.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <limits>
#include <thread>

#include "manifests/errors.h"
#include "tests/support/temp_dir.h"

using namespace hotfix;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

using Mode = StateDb::Mode;

// <tmp>/var/lib/hotfix/state.db, its directory created.
std::string state_path(const TempDir& dir) {
  fs::path state_dir = dir.path() / "var/lib/hotfix";
  fs::create_directories(state_dir);
  return (state_dir / "state.db").string();
}

InstalledFile make_file(const std::string& path, std::int64_t layer, std::uint16_t seed) {
  InstalledFile f;
  f.path = path;
  f.manifest_path = path;
  f.action = FileAction::kReplaced;
  f.version = Version(7, 0, 6001, seed);
  f.size = 1000u + seed;
  f.sha256 = Sha256::of(path + std::to_string(seed));
  f.mtime = 1'230'000'000 + seed;
  f.mode = 0644;
  char txid[32];
  std::snprintf(txid, sizeof txid, "20240101T000000Z-%08x", static_cast<unsigned>(seed));
  f.backup = "backups/" + std::string(txid) + "/" + std::to_string(layer);
  f.layer = layer;
  return f;
}

InstalledHotfix make_hotfix(const std::string& id, std::int64_t installed_at,
                            std::vector<InstalledFile> files = {}) {
  InstalledHotfix h;
  h.id = id;
  h.revision = 1;
  h.title = "Update for " + id;
  h.arch = Arch::kX64;
  h.language = "en-us";
  h.restart = RestartRequirement::kReboot;
  h.installed_at = installed_at;
  h.key_id = "ed25519:0123456789abcdef";
  h.manifest_json = "{\"id\": \"" + id + "\"}";
  h.files = std::move(files);
  return h;
}

HistoryEntry make_entry(const std::string& action, const std::string& id, const std::string& txid,
                        std::int64_t at = 1'700'000'000) {
  HistoryEntry e;
  e.at = at;
  e.action = action;
  e.hotfix_id = id;
  e.revision = 1;
  e.outcome = action == "apply" ? "applied" : action == "uninstall" ? "uninstalled" : "refused";
  e.detail = action + " " + id;
  e.txid = txid;
  return e;
}

void check_same(const InstalledFile& got, const InstalledFile& want) {
  INFO("file " << want.path);
  CHECK(got.path == want.path);
  CHECK(got.manifest_path == want.manifest_path);
  CHECK(got.action == want.action);
  CHECK(got.version.has_value() == want.version.has_value());
  if (got.version && want.version) CHECK(got.version->to_string() == want.version->to_string());
  CHECK(got.size == want.size);
  CHECK(to_hex(got.sha256) == to_hex(want.sha256));
  CHECK(got.mtime == want.mtime);
  CHECK(got.mode == want.mode);
  CHECK(got.backup == want.backup);
  CHECK(got.layer == want.layer);
}

std::vector<InstalledFile> sorted_by_path(std::vector<InstalledFile> files) {
  std::sort(files.begin(), files.end(),
            [](const InstalledFile& a, const InstalledFile& b) { return a.path < b.path; });
  return files;
}

void check_same(const InstalledHotfix& got, const InstalledHotfix& want, bool with_files = true) {
  INFO("hotfix " << want.id);
  CHECK(got.id == want.id);
  CHECK(got.revision == want.revision);
  CHECK(got.title == want.title);
  CHECK(got.arch == want.arch);
  CHECK(got.language == want.language);
  CHECK(got.restart == want.restart);
  CHECK(got.installed_at == want.installed_at);
  CHECK(got.key_id == want.key_id);
  CHECK(got.manifest_json == want.manifest_json);
  CHECK(got.supersedes == want.supersedes);
  CHECK(got.requires_hotfixes == want.requires_hotfixes);
  if (!with_files) {
    CHECK(got.files.empty());
    return;
  }
  auto want_files = sorted_by_path(want.files);
  REQUIRE(got.files.size() == want_files.size());
  for (std::size_t i = 0; i < want_files.size(); ++i) check_same(got.files[i], want_files[i]);
}

void check_same(const HistoryEntry& got, const HistoryEntry& want) {
  CHECK(got.at == want.at);
  CHECK(got.action == want.action);
  CHECK(got.hotfix_id == want.hotfix_id);
  CHECK(got.revision == want.revision);
  CHECK(got.outcome == want.outcome);
  CHECK(got.detail == want.detail);
  CHECK(got.txid == want.txid);
}

void check_same(const RestartState& got, const RestartState& want) {
  CHECK(got.required == want.required);
  CHECK(got.kind == want.kind);
  CHECK(got.hotfixes == want.hotfixes);
  CHECK(got.policy == want.policy);
  CHECK(got.scheduled_at == want.scheduled_at);
  CHECK(got.mechanism == want.mechanism);
}

std::vector<std::string> ids(const std::vector<InstalledHotfix>& hotfixes) {
  std::vector<std::string> out;
  for (const auto& h : hotfixes) out.push_back(h.id);
  return out;
}

std::vector<std::string> owners(const std::vector<FileLayer>& layers) {
  std::vector<std::string> out;
  for (const auto& [id, file] : layers) out.push_back(id);
  return out;
}

// Runs `action`, requiring a hotfix::Error of `kind` whose text contains every fragment.
void require_error(const std::function<void()>& action, ErrorKind kind,
                   const std::vector<std::string>& fragments) {
  try {
    action();
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(static_cast<int>(e.kind()) == static_cast<int>(kind));
    for (const auto& fragment : fragments) CHECK_THAT(e.what(), Catch::Contains(fragment));
    return;
  }
  FAIL("no error was thrown");
}

// A plain SQLite connection, to act as another process: hold locks, edit, inspect.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) == SQLITE_OK);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    std::string text = message ? message : "";
    sqlite3_free(message);
    INFO(sql << ": " << text);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t count(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    std::int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

TEST_CASE("The state database round-trips every field") {
  TempDir dir;
  std::string path = state_path(dir);

  InstalledFile versioned = make_file("Windows/System32/inetsrv/Admwprox.dll", 1, 22329);
  InstalledFile unversioned =
      make_file("Windows/System32/inetsrv/config/schema/IIS_schema.xml", 1, 7);
  unversioned.version.reset();
  unversioned.backup.reset();  // did not exist before
  unversioned.action = FileAction::kInstalled;
  InstalledFile kept = make_file("Windows/System32/inetsrv/config/applicationHost.config", 1, 3);
  kept.action = FileAction::kKept;
  InstalledFile skipped = make_file("Windows/System32/inetsrv/appcmd.exe", 1, 4);
  skipped.manifest_path = "Windows/System32/inetsrv/Appcmd.exe";  // on disk spelled otherwise
  skipped.action = FileAction::kSkipped;
  InstalledFile non_ascii = make_file("opt/ünïcødé/日本語/файл.dll", 1, 5);
  InstalledFile odd = make_file("odd dir/it's \"quoted\" 100% ?#;--\n\tname*_.dll", 1, 6);
  odd.backup = "backups/20240101T000000Z-0000000a/6";
  InstalledFile raw_bytes = make_file(std::string("bytes/\xff\xfe\x80 not utf-8"), 1, 8);
  InstalledFile extremes = make_file("big/file.bin", 1, 9);
  extremes.size = std::uint64_t{5} << 32;  // over 4 GiB
  extremes.mtime = -86'400;                // before 1970
  extremes.mode = 04755;
  extremes.layer = std::numeric_limits<std::int64_t>::max() - 1;
  extremes.version = Version(65535, 65535, 65535, 65535);

  InstalledHotfix full =
      make_hotfix("KB967131", 1'700'000'100,
                  {versioned, unversioned, kept, skipped, non_ascii, odd, raw_bytes, extremes});
  full.revision = 3;
  full.title = "FIX: IIS 7.0 \"quoted\" — ünïcødé";
  full.arch = Arch::kIa64;
  full.language = "ja-jp";
  full.restart = RestartRequirement::kServices;
  full.manifest_json = "{\"id\":\"KB967131\",\"note\":\"it's\\n\\u00e9\"}";
  full.supersedes = {"KB950001", "KB950002"};
  full.requires_hotfixes = {"KB940000"};

  InstalledHotfix plain = make_hotfix("KB100000", 1'700'000'000);
  plain.arch = Arch::kNeutral;
  plain.restart = RestartRequirement::kNone;
  plain.key_id = "";

  HistoryEntry applied = make_entry("apply", "KB967131", "tx-0001");
  applied.detail = "applied: 8 files, \"quoted\", ünïcødé";
  HistoryEntry refused = make_entry("apply", "KB100001", "");  // refusals have no transaction
  refused.outcome = "refused";
  RestartState restart;
  restart.required = true;
  restart.kind = RestartRequirement::kReboot;
  restart.hotfixes = {"KB967131", "KB100000"};
  restart.policy = "at=03:30";
  restart.scheduled_at = 1'700'050'000;
  restart.mechanism = "systemd-run unit hotfix-restart-1";

  {
    StateDb db = StateDb::open(path, Mode::kReadWrite);
    CHECK(db.exists());
    CHECK(db.record_apply(plain, make_entry("apply", "KB100000", "tx-0000"), RestartState{}) > 0);
    db.record_apply(full, applied, restart);
    db.add_history(refused);
  }

  for (Mode mode : {Mode::kReadWrite, Mode::kReadOnly}) {
    INFO("reopened " << (mode == Mode::kReadOnly ? "read-only" : "read-write"));
    StateDb db = StateDb::open(path, mode);
    CHECK(db.exists());
    auto got = db.hotfix("KB967131");
    REQUIRE(got);
    check_same(*got, full);
    auto got_plain = db.hotfix("KB100000");
    REQUIRE(got_plain);
    check_same(*got_plain, plain);
    CHECK_FALSE(db.hotfix("KB999999"));

    auto all = db.hotfixes(true);
    REQUIRE(ids(all) == std::vector<std::string>{"KB100000", "KB967131"});
    check_same(all[1], full);
    auto summaries = db.hotfixes(false);
    REQUIRE(summaries.size() == 2);
    check_same(summaries[1], full, false);
    // Without the manifest: everything else as recorded, manifest_json empty.
    REQUIRE_FALSE(full.manifest_json.empty());
    auto lean = db.hotfixes(true, false);
    REQUIRE(ids(lean) == std::vector<std::string>{"KB100000", "KB967131"});
    CHECK(lean[1].manifest_json.empty());
    InstalledHotfix full_without_manifest = full;
    full_without_manifest.manifest_json.clear();
    check_same(lean[1], full_without_manifest);
    // Streamed, every field as recorded.
    std::vector<InstalledFile> streamed;
    db.each_file([&](const std::string& id, InstalledFile&& f) {
      if (id == "KB967131") streamed.push_back(std::move(f));
    });
    REQUIRE(streamed.size() == all[1].files.size());
    for (std::size_t i = 0; i < streamed.size(); ++i) check_same(streamed[i], all[1].files[i]);

    auto history = db.history();
    REQUIRE(history.size() == 3);
    check_same(history[1], applied);
    check_same(history[2], refused);
    check_same(db.restart(), restart);

    for (const InstalledFile& f : full.files) {
      auto layers = db.layers(f.path, false);
      REQUIRE(layers.size() == 1);
      CHECK(layers[0].first == "KB967131");
      check_same(layers[0].second, f);
    }
  }
}

TEST_CASE("Every architecture and restart requirement round-trips") {
  TempDir dir;
  StateDb db = StateDb::open(state_path(dir), Mode::kReadWrite);
  int n = 0;
  for (Arch arch : {Arch::kX86, Arch::kX64, Arch::kIa64, Arch::kArm64, Arch::kNeutral}) {
    for (auto restart :
         {RestartRequirement::kNone, RestartRequirement::kServices, RestartRequirement::kReboot}) {
      ++n;
      InstalledHotfix h = make_hotfix("KB" + std::to_string(n), n);
      h.arch = arch;
      h.restart = restart;
      db.record_apply(h, make_entry("apply", h.id, "tx" + std::to_string(n)), RestartState{});
      auto got = db.hotfix(h.id);
      REQUIRE(got);
      CHECK(got->arch == arch);
      CHECK(got->restart == restart);
    }
  }
}

TEST_CASE("Installed hotfixes are listed by installation time, then id") {
  TempDir dir;
  StateDb db = StateDb::open(state_path(dir), Mode::kReadWrite);
  db.record_apply(make_hotfix("KB3", 300), make_entry("apply", "KB3", "t3"), {});
  db.record_apply(make_hotfix("KB2", 100), make_entry("apply", "KB2", "t2"), {});
  db.record_apply(make_hotfix("KB1", 300), make_entry("apply", "KB1", "t1"), {});
  db.record_apply(make_hotfix("KB0", 200), make_entry("apply", "KB0", "t0"), {});
  CHECK(ids(db.hotfixes(false)) == std::vector<std::string>{"KB2", "KB0", "KB1", "KB3"});
}

TEST_CASE("each_file hands out every file record once, in the order of hotfixes(true)") {
  TempDir dir;
  StateDb db = StateDb::open(state_path(dir), Mode::kReadWrite);
  auto records = [&] {
    std::vector<std::pair<std::string, std::string>> out;
    db.each_file([&](const std::string& id, InstalledFile&& f) { out.emplace_back(id, f.path); });
    return out;
  };
  CHECK(records().empty());
  CHECK_FALSE(db.has_hotfix("KB2"));
  db.record_apply(make_hotfix("KB2", 200, {make_file("b/x.dll", 2, 1), make_file("a/y.dll", 2, 2)}),
                  make_entry("apply", "KB2", "t2"), {});
  db.record_apply(make_hotfix("KB1", 100, {make_file("b/x.dll", 1, 3)}),
                  make_entry("apply", "KB1", "t1"), {});
  db.record_apply(make_hotfix("KB3", 300), make_entry("apply", "KB3", "t3"), {});
  using Record = std::pair<std::string, std::string>;
  CHECK(records() ==
        std::vector<Record>{{"KB1", "b/x.dll"}, {"KB2", "a/y.dll"}, {"KB2", "b/x.dll"}});
  std::vector<Record> expected;
  for (const InstalledHotfix& h : db.hotfixes(true)) {
    for (const InstalledFile& f : h.files) expected.emplace_back(h.id, f.path);
  }
  CHECK(records() == expected);
  // The records are whole, not only their paths.
  db.each_file([&](const std::string& id, InstalledFile&& f) {
    if (id == "KB1") check_same(f, make_file("b/x.dll", 1, 3));
  });
  CHECK(db.has_hotfix("KB2"));
  CHECK(db.has_hotfix("KB3"));
  CHECK(db.has_hotfix("kb2"));  // ids compare ignoring case

  StateDb missing = StateDb::open((dir.path() / "none.db").string(), Mode::kReadOnly);
  CHECK_FALSE(missing.has_hotfix("KB2"));
  missing.each_file([](const std::string&, InstalledFile&&) { FAIL("no records"); });
}

TEST_CASE("Re-applying a hotfix at a higher revision replaces its row and its file records") {
  TempDir dir;
  std::string path = state_path(dir);
  StateDb db = StateDb::open(path, Mode::kReadWrite);
  InstalledHotfix r1 =
      make_hotfix("KB967131", 100, {make_file("a/one.dll", 1, 1), make_file("a/two.dll", 1, 2)});
  db.record_apply(r1, make_entry("apply", r1.id, "tx1"), {});

  InstalledHotfix r2 =
      make_hotfix("KB967131", 200, {make_file("a/two.dll", 2, 3), make_file("a/three.dll", 2, 4)});
  r2.revision = 2;
  r2.title = "revision two";
  db.record_apply(r2, make_entry("apply", r2.id, "tx2"), {});

  auto all = db.hotfixes(true);
  REQUIRE(all.size() == 1);
  check_same(all[0], r2);
  CHECK(db.layers("a/one.dll", false).empty());  // revision 1's file record is gone
  auto two = db.layers("a/two.dll", false);
  REQUIRE(two.size() == 1);
  check_same(two[0].second, r2.files[0]);
  CHECK(db.next_layer() == 3);

  RawDb raw(path);
  CHECK(raw.count("SELECT count(*) FROM files") == 2);
  CHECK(raw.count("SELECT count(*) FROM hotfixes") == 1);
}

TEST_CASE("Uninstall removes the hotfix and its files and corrects the layers above it") {
  TempDir dir;
  std::string path = state_path(dir);
  StateDb db = StateDb::open(path, Mode::kReadWrite);
  const std::string shared = "Windows/System32/inetsrv/appcmd.exe";

  // KB1 replaced the original (kept as its backup), then KB2 replaced KB1's file.
  InstalledFile first = make_file(shared, db.next_layer(), 1);
  first.backup = "backups/20240101T000000Z-00000001/0";
  db.record_apply(make_hotfix("KB1", 100, {first, make_file("only/one.dll", 1, 5)}),
                  make_entry("apply", "KB1", "tx1"), {});
  InstalledFile second = make_file(shared, db.next_layer(), 2);
  second.backup = "backups/20240101T000000Z-00000002/0";  // holds KB1's file
  CHECK(second.layer == 2);
  db.record_apply(make_hotfix("KB2", 200, {second}), make_entry("apply", "KB2", "tx2"), {});
  CHECK(owners(db.layers(shared, false)) == std::vector<std::string>{"KB1", "KB2"});

  SECTION("an update naming a record that does not exist changes nothing") {
    InstalledFile ghost = second;
    ghost.path = "no/such/file.dll";
    require_error(
        [&] {
          db.record_uninstall("KB1", {{"KB2", ghost}}, make_entry("uninstall", "KB1", "tx3"), {});
        },
        ErrorKind::kInternal, {"no such record", "no/such/file.dll"});
    CHECK(db.hotfix("KB1"));
    CHECK(db.layers(shared, false).size() == 2);
    CHECK_FALSE(db.transaction_committed("tx3"));
  }

  SECTION("uninstalling the lower layer hands the true original to the one above") {
    InstalledFile corrected = second;
    corrected.backup = first.backup;  // uninstalling KB2 later must restore the original
    corrected.layer = 1;
    RestartState restart;
    restart.required = true;
    restart.kind = RestartRequirement::kServices;
    restart.hotfixes = {"KB1"};
    restart.policy = "never";
    std::int64_t seq = db.record_uninstall("KB1", {{"KB2", corrected}},
                                           make_entry("uninstall", "KB1", "tx3"), restart);
    CHECK(seq == 3);
    CHECK_FALSE(db.hotfix("KB1"));
    CHECK(ids(db.hotfixes(false)) == std::vector<std::string>{"KB2"});
    auto layers = db.layers(shared, false);
    REQUIRE(layers.size() == 1);
    CHECK(layers[0].first == "KB2");
    check_same(layers[0].second, corrected);
    CHECK(db.layers("only/one.dll", false).empty());
    CHECK(db.transaction_committed("tx3"));
    check_same(db.restart(), restart);
    RawDb raw(path);
    CHECK(raw.count("SELECT count(*) FROM files WHERE hotfix_id = 'KB1'") == 0);

    // And then the upper one: nothing is left.
    db.record_uninstall("KB2", {}, make_entry("uninstall", "KB2", "tx4"), RestartState{});
    CHECK(db.hotfixes(true).empty());
    CHECK(db.layers(shared, false).empty());
    CHECK(db.next_layer() == 1);
  }

  SECTION("uninstalling the upper layer first leaves the lower one as it was") {
    db.record_uninstall("KB2", {}, make_entry("uninstall", "KB2", "tx3"), {});
    auto layers = db.layers(shared, false);
    REQUIRE(layers.size() == 1);
    check_same(layers[0].second, first);
  }

  SECTION("a hotfix that is not installed cannot be uninstalled") {
    require_error(
        [&] { db.record_uninstall("KB9", {}, make_entry("uninstall", "KB9", "tx3"), {}); },
        ErrorKind::kInternal, {"KB9", "not installed"});
    CHECK(db.history().size() == 2);
  }
}

TEST_CASE("layers() folds ASCII case only when asked, and compares everything else exactly") {
  TempDir dir;
  StateDb db = StateDb::open(state_path(dir), Mode::kReadWrite);
  db.record_apply(make_hotfix("KB1", 1,
                              {make_file("Windows/System32/inetsrv/Appcmd.exe", 1, 1),
                               make_file("opt/Ä-Lib.dll", 1, 2), make_file("opt/a_b%.dll", 1, 3)}),
                  make_entry("apply", "KB1", "t1"), {});
  db.record_apply(make_hotfix("KB2", 2, {make_file("WINDOWS/system32/INETSRV/appcmd.EXE", 3, 4)}),
                  make_entry("apply", "KB2", "t2"), {});
  db.record_apply(make_hotfix("KB3", 3, {make_file("windows/system32/inetsrv/appcmd.exe", 2, 5)}),
                  make_entry("apply", "KB3", "t3"), {});

  CHECK(owners(db.layers("Windows/System32/inetsrv/Appcmd.exe", false)) ==
        std::vector<std::string>{"KB1"});
  CHECK(db.layers("windows/system32/inetsrv/APPCMD.exe", false).empty());
  // Folded: every spelling, ordered by layer (KB1 = 1, KB3 = 2, KB2 = 3).
  auto folded = db.layers("windows/system32/inetsrv/APPCMD.exe", true);
  CHECK(owners(folded) == std::vector<std::string>{"KB1", "KB3", "KB2"});
  REQUIRE(folded.size() == 3);
  CHECK(folded[0].second.path == "Windows/System32/inetsrv/Appcmd.exe");  // spelled as recorded
  CHECK(folded[2].second.layer == 3);

  CHECK(owners(db.layers("OPT/Ä-lib.DLL", true)) == std::vector<std::string>{"KB1"});
  CHECK(db.layers("opt/ä-lib.dll", true).empty());  // non-ASCII letters are not folded
  // No pattern matching: '_' and '%' are plain characters.
  CHECK(db.layers("opt/axbyz.dll", true).empty());
  CHECK(owners(db.layers("OPT/A_B%.DLL", true)) == std::vector<std::string>{"KB1"});
}

TEST_CASE("next_layer is one above the highest recorded layer") {
  TempDir dir;
  StateDb db = StateDb::open(state_path(dir), Mode::kReadWrite);
  CHECK(db.next_layer() == 1);
  db.record_apply(make_hotfix("KB1", 1, {make_file("a", 1, 1), make_file("b", 7, 1)}),
                  make_entry("apply", "KB1", "t1"), {});
  CHECK(db.next_layer() == 8);
  db.record_apply(make_hotfix("KB2", 2, {make_file("a", 8, 2)}), make_entry("apply", "KB2", "t2"),
                  {});
  CHECK(db.next_layer() == 9);
}

TEST_CASE("History keeps every entry in order and knows committed transactions") {
  TempDir dir;
  std::string path = state_path(dir);
  StateDb db = StateDb::open(path, Mode::kReadWrite);
  CHECK(db.history().empty());
  CHECK_FALSE(db.transaction_committed("tx1"));

  std::int64_t s1 = db.add_history(make_entry("apply", "KB2", "", 300));  // refused, no txid
  std::int64_t s2 =
      db.record_apply(make_hotfix("KB1", 100), make_entry("apply", "KB1", "tx1", 100), {});
  HistoryEntry recovered = make_entry("recover", "KB3", "tx2", 50);
  recovered.outcome = "rolled back";
  std::int64_t s3 = db.add_history(recovered);
  std::int64_t s4 = db.record_uninstall("KB1", {}, make_entry("uninstall", "KB1", "tx3", 200), {});
  CHECK(s1 < s2);
  CHECK(s2 < s3);
  CHECK(s3 < s4);

  auto history = db.history();
  REQUIRE(history.size() == 4);
  // In the order recorded, whatever their timestamps say.
  CHECK(history[0].seq == s1);
  CHECK(history[0].hotfix_id == "KB2");
  CHECK(history[0].txid.empty());
  CHECK(history[1].seq == s2);
  CHECK(history[2].seq == s3);
  check_same(history[2], recovered);
  CHECK(history[3].seq == s4);
  CHECK(history[3].outcome == "uninstalled");

  CHECK(db.transaction_committed("tx1"));
  CHECK(db.transaction_committed("tx2"));
  CHECK(db.transaction_committed("tx3"));
  CHECK_FALSE(db.transaction_committed("tx4"));
  CHECK_FALSE(db.transaction_committed(""));  // refusals are not transactions

  // Sequence numbers are never reused, even after the last entry is deleted by hand.
  RawDb(path).exec("DELETE FROM history WHERE seq = " + std::to_string(s4));
  CHECK(db.add_history(make_entry("apply", "KB5", "")) > s4);
}

TEST_CASE("The restart state starts empty and keeps what was set") {
  TempDir dir;
  StateDb db = StateDb::open(state_path(dir), Mode::kReadWrite);
  check_same(db.restart(), RestartState{});

  RestartState scheduled;
  scheduled.required = true;
  scheduled.kind = RestartRequirement::kReboot;
  scheduled.hotfixes = {"KB967131"};
  scheduled.policy = "delay=15";
  scheduled.scheduled_at = 1'700'000'900;
  scheduled.mechanism = "shutdown -r +15";
  db.set_restart(scheduled);
  check_same(db.restart(), scheduled);

  RestartState cancelled = scheduled;
  cancelled.scheduled_at.reset();
  cancelled.mechanism = "";
  cancelled.policy = "never";
  db.set_restart(cancelled);
  check_same(db.restart(), cancelled);

  RestartState services;
  services.required = true;
  services.kind = RestartRequirement::kServices;
  services.hotfixes = {"KB1", "KB2"};
  services.policy = "never";
  db.record_apply(make_hotfix("KB2", 1), make_entry("apply", "KB2", "t"), services);
  check_same(db.restart(), services);
}

TEST_CASE("A read-only open of a missing database is an empty view and creates nothing") {
  TempDir dir;
  for (std::string path :
       {(dir / "var/lib/hotfix/state.db").string(), (dir / "no/such/dir/state.db").string()}) {
    INFO(path);
    if (path.find("var/lib") != std::string::npos) fs::create_directories(dir / "var/lib/hotfix");
    StateDb db = StateDb::open(path, Mode::kReadOnly);
    CHECK_FALSE(db.exists());
    CHECK(db.hotfixes(true).empty());
    CHECK_FALSE(db.hotfix("KB1"));
    CHECK(db.layers("a", true).empty());
    CHECK(db.next_layer() == 1);
    CHECK(db.history().empty());
    CHECK_FALSE(db.transaction_committed("tx"));
    check_same(db.restart(), RestartState{});
    require_error([&] { db.add_history(make_entry("apply", "KB1", "")); }, ErrorKind::kInternal,
                  {"read-only"});
    require_error([&] { db.set_restart(RestartState{}); }, ErrorKind::kInternal, {"read-only"});
  }
  CHECK(fs::is_empty(dir / "var/lib/hotfix"));
  CHECK_FALSE(fs::exists(dir / "no"));
}

TEST_CASE("A database file without tables reads as empty and gets its schema from a writer") {
  TempDir dir;
  std::string path = state_path(dir);
  test::write_file(path, "");  // SQLite's empty database
  CHECK_FALSE(StateDb::open(path, Mode::kReadOnly).exists());
  {
    StateDb db = StateDb::open(path, Mode::kReadWrite);
    db.add_history(make_entry("apply", "KB1", ""));
  }
  StateDb reader = StateDb::open(path, Mode::kReadOnly);
  CHECK(reader.exists());
  CHECK(reader.history().size() == 1);
  CHECK(RawDb(path).count("SELECT value FROM meta WHERE key = 'schema_version'") ==
        kStateDbSchemaVersion);
  CHECK(fs::exists(path + "-wal"));  // the writer's log stays (empty) for unprivileged readers
  CHECK(fs::exists(path + "-shm"));
  CHECK(fs::file_size(path + "-wal") == 0);
}

TEST_CASE("A read-write open where the directory is missing is a system error") {
  TempDir dir;
  std::string path = (dir / "missing/state.db").string();
  require_error([&] { StateDb::open(path, Mode::kReadWrite); }, ErrorKind::kSystem,
                {path, "No such file or directory"});
}

TEST_CASE("A reader sees the last commit while a writer's transaction is open, without waiting") {
  TempDir dir;
  std::string path = state_path(dir);
  {
    StateDb::open(path, Mode::kReadWrite)
        .record_apply(make_hotfix("KB1", 1), make_entry("apply", "KB1", "t1"), {});
  }

  RawDb writer(path);
  writer.exec("BEGIN IMMEDIATE");
  writer.exec(
      "INSERT INTO hotfixes VALUES ('KB2', 1, 't', 'x64', 'en-us', 'none', 2, '', '{}', '[]', "
      "'[]')");

  // Another thread, another connection. Had it to wait for the writer, it would fail with
  // "busy" after its (short) timeout instead of returning the old state.
  StateDb reader = StateDb::open(path, Mode::kReadOnly, std::chrono::milliseconds(1));
  auto during = std::async(std::launch::async, [&] { return ids(reader.hotfixes(false)); });
  CHECK(during.get() == std::vector<std::string>{"KB1"});

  writer.exec("COMMIT");
  auto after = std::async(std::launch::async, [&] { return ids(reader.hotfixes(false)); });
  CHECK(after.get() == std::vector<std::string>{"KB1", "KB2"});
}

TEST_CASE("A writer commits while a reader holds a snapshot, and the reader keeps its snapshot") {
  TempDir dir;
  std::string path = state_path(dir);
  StateDb db = StateDb::open(path, Mode::kReadWrite, std::chrono::milliseconds(1));
  db.record_apply(make_hotfix("KB1", 1), make_entry("apply", "KB1", "t1"), {});

  RawDb reader(path);
  reader.exec("BEGIN");
  CHECK(reader.count("SELECT count(*) FROM hotfixes") == 1);

  auto write = std::async(std::launch::async, [&] {
    return db.record_apply(make_hotfix("KB2", 2), make_entry("apply", "KB2", "t2"), {});
  });
  CHECK(write.get() > 0);  // with a 1 ms busy timeout: it did not wait for the reader
  CHECK(reader.count("SELECT count(*) FROM hotfixes") == 1);
  reader.exec("COMMIT");
  CHECK(reader.count("SELECT count(*) FROM hotfixes") == 2);
}

TEST_CASE("A second writer gives up with a busy error after the timeout, changing nothing") {
  TempDir dir;
  std::string path = state_path(dir);
  StateDb db = StateDb::open(path, Mode::kReadWrite, std::chrono::milliseconds(50));
  RawDb other(path);
  other.exec("BEGIN IMMEDIATE");
  require_error(
      [&] { db.record_apply(make_hotfix("KB1", 1), make_entry("apply", "KB1", "t1"), {}); },
      ErrorKind::kBusy, {path, "locked"});
  other.exec("ROLLBACK");
  CHECK(db.hotfixes(false).empty());
  db.record_apply(make_hotfix("KB1", 1), make_entry("apply", "KB1", "t1"), {});
  CHECK(db.hotfixes(false).size() == 1);
}

TEST_CASE("A file that is not a database is refused with a clear error") {
  TempDir dir;
  std::string path = state_path(dir);
  test::write_file(path, std::string(8192, 'x'));
  for (Mode mode : {Mode::kReadOnly, Mode::kReadWrite}) {
    require_error([&] { StateDb::open(path, mode); }, ErrorKind::kStateDamaged,
                  {path, "not a hotfix state database"});
  }
}

TEST_CASE("A damaged database is reported, not misread") {
  TempDir dir;
  std::string path = state_path(dir);
  {
    StateDb db = StateDb::open(path, Mode::kReadWrite);
    std::vector<InstalledFile> files;
    for (int i = 0; i < 200; ++i) files.push_back(make_file("dir/file" + std::to_string(i), 1, 1));
    db.record_apply(make_hotfix("KB1", 1, files), make_entry("apply", "KB1", "t1"), {});
  }
  REQUIRE(fs::file_size(path + "-wal") == 0);  // everything is in the main file
  std::string bytes = test::read_file(path);
  REQUIRE(bytes.size() > 4 * 4096);
  for (std::size_t i = 4096; i < bytes.size(); ++i) bytes[i] = '\xa5';  // all pages but the first
  test::write_file(path, bytes);

  for (Mode mode : {Mode::kReadOnly, Mode::kReadWrite}) {
    require_error(
        [&] {
          StateDb db = StateDb::open(path, mode);
          db.hotfixes(true);
        },
        ErrorKind::kStateDamaged, {path, "damaged"});
  }
}

TEST_CASE("A database of another schema version or shape is refused") {
  TempDir dir;
  std::string path = state_path(dir);
  { StateDb::open(path, Mode::kReadWrite); }

  SECTION("a newer schema version") {
    RawDb(path).exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    for (Mode mode : {Mode::kReadOnly, Mode::kReadWrite}) {
      require_error([&] { StateDb::open(path, mode); }, ErrorKind::kStateDamaged,
                    {path, "schema version \"99\"", "newer installer"});
    }
  }
  SECTION("no schema version") {
    RawDb(path).exec("DELETE FROM meta");
    require_error([&] { StateDb::open(path, Mode::kReadOnly); }, ErrorKind::kStateDamaged,
                  {"no schema_version"});
  }
  SECTION("some other program's database") {
    RawDb(path).exec("DROP TABLE meta");
    require_error([&] { StateDb::open(path, Mode::kReadWrite); }, ErrorKind::kStateDamaged,
                  {"not a hotfix state database"});
  }
  SECTION("a table without a column this program needs") {
    RawDb(path).exec("ALTER TABLE files DROP COLUMN backup");
    require_error([&] { StateDb::open(path, Mode::kReadOnly); }, ErrorKind::kStateDamaged,
                  {"table files", "backup"});
  }
  SECTION("a trigger, which would run on the installer's own writes") {
    RawDb(path).exec(
        "CREATE TRIGGER rewrite AFTER INSERT ON history BEGIN UPDATE files SET backup = "
        "'../../etc/shadow'; END");
    for (Mode mode : {Mode::kReadOnly, Mode::kReadWrite}) {
      require_error([&] { StateDb::open(path, mode); }, ErrorKind::kStateDamaged,
                    {"it holds the trigger \"rewrite\"", "schema version 4 does not have"});
    }
  }
  SECTION("a view in a table's place") {
    RawDb(path).exec("DROP TABLE dirs; CREATE VIEW dirs AS SELECT hotfix_id, path FROM files");
    require_error([&] { StateDb::open(path, Mode::kReadOnly); }, ErrorKind::kStateDamaged,
                  {"it holds the view \"dirs\""});
  }
  SECTION("a table of its own") {
    RawDb(path).exec("CREATE TABLE extra(x)");
    require_error([&] { StateDb::open(path, Mode::kReadOnly); }, ErrorKind::kStateDamaged,
                  {"it holds the table \"extra\""});
  }
}

TEST_CASE("Each column holds the type this program writes there") {
  TempDir dir;
  std::string path = state_path(dir);
  StateDb db = StateDb::open(path, Mode::kReadWrite);
  RestartState restart;
  restart.hotfixes = {"KB1", "KB0 (uninstalled)"};
  db.record_apply(make_hotfix("KB1", 1, {make_file("a/b.dll", 1, 1)}),
                  make_entry("apply", "KB1", "t1"), restart);
  struct Case {
    std::string sql;
    std::function<void()> read;
    std::vector<std::string> says;
  };
  auto hotfixes = [&] { db.hotfixes(true); };
  auto history = [&] { db.history(); };
  auto restart_row = [&] { db.restart(); };
  const std::vector<Case> cases = {
      {"UPDATE files SET layer = 'top'", hotfixes, {"column layer", "text where an integer"}},
      {"UPDATE files SET size = 1.5", hotfixes, {"column size", "a real number where an integer"}},
      {"UPDATE files SET mtime = x'00'", hotfixes, {"column mtime", "a blob where an integer"}},
      {"UPDATE files SET manifest_path = x'61'",
       hotfixes,
       {"column manifest_path", "a blob where text"}},
      {"UPDATE files SET version = x'372e30'", hotfixes, {"column version", "a blob where text"}},
      {"DROP TABLE restart; CREATE TABLE restart(id, required, kind, hotfixes_json, policy, "
       "scheduled_at, mechanism, since, boot); "
       "INSERT INTO restart VALUES (1, 0, 'none', '[]', NULL, NULL, '', NULL, '')",
       restart_row,
       {"column policy", "NULL where text"}},
      {"PRAGMA ignore_check_constraints = 1; UPDATE files SET kind = 'script'",
       hotfixes,
       {"column kind", "\"script\" is not a file kind"}},
      {"UPDATE restart SET boot = 'marker $(reboot)'",
       restart_row,
       {"column boot", "is not a boot this installer records"}},
      {"UPDATE restart SET since = 'yesterday'",
       restart_row,
       {"column since", "text where an integer"}},
      {"PRAGMA foreign_keys = OFF; UPDATE hotfixes SET id = 'KB 1; reboot'",
       hotfixes,
       {"column id", "\"KB 1; reboot\" is not a hotfix id"}},
      {"UPDATE hotfixes SET revision = 0", hotfixes, {"column revision", "0 is not a revision"}},
      {"UPDATE hotfixes SET supersedes_json = '[\"../x\"]'",
       hotfixes,
       {"column supersedes_json", "\"../x\" is not a hotfix id"}},
      {"UPDATE history SET hotfix_id = ''", history, {"history row 1", "column hotfix_id"}},
      {"UPDATE history SET at = '2026-01-01'", history, {"column at", "text where an integer"}},
      {"UPDATE restart SET scheduled_at = 'soon'",
       restart_row,
       {"restart row", "column scheduled_at", "text where an integer"}},
      {"UPDATE restart SET hotfixes_json = '[\"KB1 (later)\"]'",
       restart_row,
       {"column hotfixes_json", "\"KB1 (later)\" is not a hotfix id"}},
      {"PRAGMA ignore_check_constraints = 1; UPDATE restart SET required = 'yes'",
       restart_row,
       {"column required", "text where an integer"}},
  };
  for (const Case& c : cases) {
    SECTION(c.sql) {
      RawDb(path).exec(c.sql);
      require_error(c.read, ErrorKind::kStateDamaged, c.says);
    }
  }
  SECTION("what this program writes reads back") {
    CHECK(db.restart().hotfixes == restart.hotfixes);
    CHECK(db.hotfixes(true).size() == 1);
  }
}

TEST_CASE("A stored value this program would never write is reported with its row and column") {
  TempDir dir;
  std::string path = state_path(dir);
  StateDb db = StateDb::open(path, Mode::kReadWrite);
  db.record_apply(make_hotfix("KB1", 1, {make_file("a/b.dll", 1, 1)}),
                  make_entry("apply", "KB1", "t1"), {});
  SECTION("version") {
    RawDb(path).exec("UPDATE files SET version = '7.0.banana'");
    require_error([&] { db.hotfix("KB1"); }, ErrorKind::kStateDamaged,
                  {"KB1", "a/b.dll", "column version", "7.0.banana"});
  }
  SECTION("architecture") {
    RawDb(path).exec("UPDATE hotfixes SET architecture = 'mips'");
    require_error([&] { db.hotfixes(false); }, ErrorKind::kStateDamaged,
                  {"KB1", "column architecture", "mips"});
  }
  SECTION("a path out of the root") {
    RawDb(path).exec("UPDATE files SET path = '../../outside/victim.txt'");
    require_error([&] { db.hotfix("KB1"); }, ErrorKind::kStateDamaged,
                  {"state damaged", "column path", "has a \"..\" component"});
  }
  SECTION("a path in the installer's own places") {
    RawDb(path).exec("UPDATE files SET path = 'var/lib/hotfix/state.db'");
    require_error([&] { db.each_file([](const std::string&, InstalledFile&&) {}); },
                  ErrorKind::kStateDamaged, {"column path", "the installer's own"});
  }
  SECTION("a backup that is not a backup's own name") {
    RawDb(path).exec("UPDATE files SET backup = '../../../outside/victim.txt'");
    require_error([&] { db.layers("a/b.dll", false); }, ErrorKind::kStateDamaged,
                  {"column backup", "not a backup's name"});
  }
  SECTION("a created directory out of the root") {
    RawDb(path).exec("INSERT INTO dirs VALUES ('KB1', '/etc')");
    require_error([&] { db.hotfix("KB1"); }, ErrorKind::kStateDamaged, {"dirs row", "is absolute"});
  }
  SECTION("supersedes") {
    RawDb(path).exec("UPDATE hotfixes SET supersedes_json = '{\"a\": 1}'");
    require_error([&] { db.hotfixes(false); }, ErrorKind::kStateDamaged,
                  {"column supersedes_json"});
  }
}

TEST_CASE("Writes refuse what cannot be stored and leave nothing half recorded") {
  TempDir dir;
  StateDb db = StateDb::open(state_path(dir), Mode::kReadWrite);
  InstalledHotfix huge = make_hotfix("KB1", 1, {make_file("a", 1, 1)});
  huge.revision = std::numeric_limits<std::uint64_t>::max();
  require_error([&] { db.record_apply(huge, make_entry("apply", "KB1", "t1"), {}); },
                ErrorKind::kBadInput, {"revision", "too large"});

  InstalledHotfix twice =
      make_hotfix("KB2", 1, {make_file("a/x.dll", 1, 1), make_file("a/x.dll", 1, 2)});
  require_error([&] { db.record_apply(twice, make_entry("apply", "KB2", "t2"), {}); },
                ErrorKind::kInternal, {"KB2", "a/x.dll"});
  CHECK(db.hotfixes(true).empty());
  CHECK(db.history().empty());
  CHECK_FALSE(db.transaction_committed("t2"));
}

TEST_CASE("A full disk fails the write with a system error and keeps the last commit") {
  TempDir dir;
  std::string path = state_path(dir);
  StateDb db = StateDb::open(path, Mode::kReadWrite);
  db.record_apply(make_hotfix("KB1", 1), make_entry("apply", "KB1", "t1"), {});
  InstalledHotfix big = make_hotfix("KB2", 2);
  big.manifest_json = std::string(4 << 20, 'm');

  // The file size limit stands in for a full disk: writes past it fail like ENOSPC's do.
  struct rlimit saved {};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto previous_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit limited = saved;
  limited.rlim_cur = 256 * 1024;
  REQUIRE(limited.rlim_cur < (saved.rlim_cur == RLIM_INFINITY ? RLIM_INFINITY : saved.rlim_cur));
  REQUIRE(setrlimit(RLIMIT_FSIZE, &limited) == 0);
  bool failed = false;
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  try {
    db.record_apply(big, make_entry("apply", "KB2", "t2"), {});
  } catch (const Error& e) {
    failed = true;
    kind = e.kind();
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, previous_handler);

  INFO(message);
  REQUIRE(failed);
  CHECK(kind == ErrorKind::kSystem);
  CHECK_THAT(message, Catch::Contains(path));
  CHECK(ids(db.hotfixes(false)) == std::vector<std::string>{"KB1"});
  CHECK_FALSE(db.transaction_committed("t2"));
  // The connection is still good once there is room again.
  db.record_apply(big, make_entry("apply", "KB2", "t2"), {});
  CHECK(StateDb::open(path, Mode::kReadOnly).hotfix("KB2")->manifest_json.size() == 4u << 20);
}

namespace {

// Starts `body` in a child process as the unprivileged user "nobody".
pid_t start_as_nobody(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int code = 90;
    try {
      if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(91);
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
      code = 92;
    }
    _exit(code);
  }
  return pid;
}

int exit_status(pid_t pid) {
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("An unprivileged reader reads where it cannot create the -wal and -shm files") {
  if (geteuid() != 0) {
    WARN("SKIPPED: needs root, to run a reader as another user");
    return;
  }
  TempDir dir;
  fs::permissions(dir.path(), fs::perms(0755));
  // A directory name SQLite's URI syntax would misread unless escaped.
  fs::path state_dir = dir.path() / "state ?#%3F dir";
  fs::create_directories(state_dir);
  std::string path = (state_dir / "state.db").string();
  {
    StateDb::open(path, Mode::kReadWrite)
        .record_apply(make_hotfix("KB1", 1, {make_file("a.dll", 1, 1)}),
                      make_entry("apply", "KB1", "t1"), {});
  }
  // As after `sqlite3 state.db` (the shell removes both when it closes) or a copied database.
  fs::remove(path + "-wal");
  fs::remove(path + "-shm");

  int to_parent[2];
  int to_child[2];
  REQUIRE(pipe(to_parent) == 0);
  REQUIRE(pipe(to_child) == 0);
  pid_t pid = start_as_nobody([&] {
    close(to_parent[0]);
    close(to_child[1]);
    if (access(state_dir.c_str(), W_OK) == 0) return 10;  // the premise: it may not write
    // By a relative path, which must not be taken for a URI's host name.
    if (chdir(dir.path().c_str()) != 0) return 17;
    StateDb db =
        StateDb::open("state ?#%3F dir/state.db", Mode::kReadOnly, std::chrono::milliseconds(1));
    if (ids(db.hotfixes(false)) != std::vector<std::string>{"KB1"}) return 11;
    if (fs::exists(path + "-wal") || fs::exists(path + "-shm")) return 12;
    char go = 'r';
    if (write(to_parent[1], &go, 1) != 1 || read(to_child[0], &go, 1) != 1) return 13;
    // A root writer has committed meanwhile (and left -wal and -shm behind): the same view
    // must see it, not serve stale pages.
    if (ids(db.hotfixes(false)) != std::vector<std::string>{"KB1", "KB2"}) return 14;
    if (!db.hotfix("KB2") || !db.has_hotfix("KB2")) return 15;
    // Streamed records come from one whole read: each once, even if it had to read again.
    int records = 0;
    db.each_file([&](const std::string&, InstalledFile&&) { ++records; });
    if (records != 2) return 18;
    // A fresh reader reads through the companions the writer left.
    StateDb fresh = StateDb::open(path, Mode::kReadOnly, std::chrono::milliseconds(1));
    if (fresh.hotfixes(false).size() != 2) return 16;
    return 0;
  });
  REQUIRE(pid > 0);
  close(to_parent[1]);
  close(to_child[0]);
  char got = 0;
  bool child_read = read(to_parent[0], &got, 1) == 1;
  if (child_read) {
    StateDb::open(path, Mode::kReadWrite)
        .record_apply(make_hotfix("KB2", 2, {make_file("b.dll", 2, 2)}),
                      make_entry("apply", "KB2", "t2"), {});
    auto previous = signal(SIGPIPE, SIG_IGN);  // the child may have died meanwhile
    char go = 'w';
    CHECK(write(to_child[1], &go, 1) == 1);
    signal(SIGPIPE, previous);
  }
  close(to_parent[0]);
  close(to_child[1]);
  int status = exit_status(pid);
  INFO("child exit status " << status
                            << " (10 may write, 11 first read, 12 created files, 13 pipe, "
                               "14 stale after a commit, 15 hotfix(), 16 fresh reader, 17 chdir, "
                               "18 each_file)");
  CHECK(child_read);
  CHECK(status == 0);
}

// Schema version 1 as the first installers wrote it (without the dirs table).
constexpr const char* kSchemaVersion1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE hotfixes(id TEXT PRIMARY KEY NOT NULL, revision INTEGER NOT NULL,
  title TEXT NOT NULL, architecture TEXT NOT NULL, language TEXT NOT NULL,
  restart TEXT NOT NULL, installed_at INTEGER NOT NULL, key_id TEXT NOT NULL,
  manifest_json TEXT NOT NULL, supersedes_json TEXT NOT NULL, requires_json TEXT NOT NULL);
CREATE TABLE files(
  hotfix_id TEXT NOT NULL REFERENCES hotfixes(id) ON DELETE CASCADE, path TEXT NOT NULL,
  manifest_path TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('installed', 'replaced', 'kept', 'skipped')),
  version TEXT, size INTEGER NOT NULL, sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  mtime INTEGER NOT NULL, mode INTEGER NOT NULL, backup TEXT, layer INTEGER NOT NULL,
  PRIMARY KEY (hotfix_id, path));
CREATE INDEX files_path ON files(path);
CREATE INDEX files_path_folded ON files(lower(path));
CREATE INDEX files_layer ON files(layer);
CREATE TABLE history(seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
  action TEXT NOT NULL, hotfix_id TEXT NOT NULL, revision INTEGER NOT NULL,
  outcome TEXT NOT NULL, detail TEXT NOT NULL, txid TEXT);
CREATE INDEX history_txid ON history(txid);
CREATE TABLE restart(id INTEGER PRIMARY KEY CHECK (id = 1),
  required INTEGER NOT NULL CHECK (required IN (0, 1)), kind TEXT NOT NULL,
  hotfixes_json TEXT NOT NULL, policy TEXT NOT NULL, scheduled_at INTEGER,
  mechanism TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO hotfixes VALUES ('KB1', 2, 'old', 'x64', 'en-us', 'none', 1700000000, 'k',
  '{"architectures": {"x64": {"files": [{"name": "core.dll", "destination": "app",
   "kind": "binary"}, {"name": "App.conf", "destination": "etc/app", "kind": "config"}]}}}',
  '[]', '[]');
INSERT INTO files VALUES ('KB1', 'app/core.dll', 'app/core.dll', 'replaced', '1.2.3.4', 10,
  '0000000000000000000000000000000000000000000000000000000000000000', 1700000000, 420,
  'backups/20240101T000000Z-00000001/0', 7);
INSERT INTO files VALUES ('KB1', 'etc/app/app.conf', 'etc/app/App.conf', 'skipped', NULL, 3,
  '0000000000000000000000000000000000000000000000000000000000000000', 1700000000, 420,
  NULL, 7);
INSERT INTO restart VALUES (1, 1, 'reboot', '["KB1"]', 'never', NULL, '');
INSERT INTO history(at, action, hotfix_id, revision, outcome, detail, txid)
  VALUES (1700000000, 'apply', 'KB1', 2, 'applied', '1 replaced', 'tx1');
)sql";

TEST_CASE("A schema version 1 database is read as it is, and migrated in place by a writer") {
  TempDir dir;
  std::string path = state_path(dir);
  RawDb(path).exec(kSchemaVersion1);

  {
    StateDb reader = StateDb::open(path, Mode::kReadOnly);
    auto h = reader.hotfix("KB1");
    REQUIRE(h);
    CHECK(h->revision == 2);
    REQUIRE(h->files.size() == 2);
    CHECK(h->files[0].backup == "backups/20240101T000000Z-00000001/0");
    // The kind and the restart's date, derived as the migration would derive them.
    CHECK(h->files[0].kind == hotfix::FileKind::kBinary);
    CHECK(h->files[1].kind == hotfix::FileKind::kConfig);
    CHECK(reader.restart().since == 1700000000);
    CHECK(reader.restart().boot.empty());
    CHECK(h->created_dirs.empty());
  }
  // A reader changes nothing.
  CHECK(RawDb(path).count("SELECT value FROM meta WHERE key = 'schema_version'") == 1);
  CHECK(RawDb(path).count("SELECT count(*) FROM sqlite_master WHERE name = 'dirs'") == 0);

  {
    StateDb db = StateDb::open(path, Mode::kReadWrite);
    CHECK(RawDb(path).count("SELECT value FROM meta WHERE key = 'schema_version'") ==
          kStateDbSchemaVersion);
    auto h = db.hotfix("KB1");
    REQUIRE(h);
    CHECK(h->files.size() == 2);
    CHECK(h->files[0].layer == 7);
    CHECK(RawDb(path).count("SELECT count(*) FROM files WHERE kind = 'config' AND "
                            "path = 'etc/app/app.conf'") == 1);
    CHECK(RawDb(path).count("SELECT since FROM restart") == 1700000000);
    CHECK(db.history().size() == 1);
    CHECK(db.transaction_committed("tx1"));
    // The new table works: an upgrade records its directories, an uninstall hands one on.
    InstalledHotfix up = *h;
    up.revision = 3;
    up.created_dirs = {"app/new", "app/new/sub"};
    db.record_apply(up, make_entry("apply", "KB1", "tx2"), {});
    InstalledHotfix other = make_hotfix("KB2", 1'700'000'500, {make_file("app/new/x.dll", 1, 9)});
    db.record_apply(other, make_entry("apply", "KB2", "tx3"), {});
    CHECK(db.hotfix("KB1")->created_dirs == std::vector<std::string>{"app/new", "app/new/sub"});
    db.record_uninstall("KB1", {}, make_entry("uninstall", "KB1", "tx4"), {}, {{"KB2", "app/new"}});
    CHECK(db.hotfix("KB2")->created_dirs == std::vector<std::string>{"app/new"});
    db.record_uninstall("KB2", {}, make_entry("uninstall", "KB2", "tx5"), {});
    CHECK(RawDb(path).count("SELECT count(*) FROM dirs") == 0);
  }
  // Opening again finds the current version and changes nothing.
  StateDb again = StateDb::open(path, Mode::kReadWrite);
  CHECK(again.history().size() == 5);
  CHECK(RawDb(path).count("SELECT value FROM meta WHERE key = 'schema_version'") ==
        kStateDbSchemaVersion);
}

// The database is reached through the descriptor of the directory that was checked: a
// directory swapped for a link afterwards, a link or a FIFO where the database goes, are not
// followed, opened or waited on (installer/sqlite_directory.h).
TEST_CASE("The database is opened through its directory's descriptor, never through a link") {
  TempDir dir;
  fs::path real = dir.path() / "state";
  fs::path elsewhere = dir.path() / "elsewhere";
  fs::create_directories(real);
  fs::create_directories(elsewhere);
  {
    StateDb other = StateDb::open((elsewhere / "state.db").string(), Mode::kReadWrite);
    other.record_apply(make_hotfix("KB-ELSEWHERE", 1), make_entry("apply", "KB-ELSEWHERE", ""), {});
  }
  auto open_dir = [](const fs::path& p) {
    int fd = ::open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return FileDescriptor(fd);
  };

  SECTION("the directory swapped for a link after opening") {
    StateDb db = StateDb::open(open_dir(real), "state.db", "shown/state.db", Mode::kReadWrite);
    fs::rename(real, dir.path() / "moved");
    fs::create_directory_symlink(elsewhere, real);
    db.record_apply(make_hotfix("KB1", 1), make_entry("apply", "KB1", ""), {});
    CHECK(db.has_hotfix("KB1"));
    CHECK_FALSE(db.has_hotfix("KB-ELSEWHERE"));
    StateDb reader = StateDb::open((elsewhere / "state.db").string(), Mode::kReadOnly);
    CHECK_FALSE(reader.has_hotfix("KB1"));  // nothing was written through the link
    CHECK(fs::exists(dir.path() / "moved/state.db"));
  }
  SECTION("a link where the database goes") {
    fs::create_symlink(elsewhere / "state.db", real / "state.db");
    for (Mode mode : {Mode::kReadOnly, Mode::kReadWrite}) {
      CHECK_THROWS_AS(StateDb::open(open_dir(real), "state.db", "shown/state.db", mode),
                      hotfix::Error);
    }
    StateDb reader = StateDb::open((elsewhere / "state.db").string(), Mode::kReadOnly);
    CHECK(reader.hotfixes(false).size() == 1);
  }
  SECTION("a FIFO where the database or its log goes fails at once") {
    std::string name = GENERATE("state.db", "state.db-wal", "state.db-shm");
    if (name != "state.db") {  // a database in use, its companions replaced
      StateDb db = StateDb::open((real / "state.db").string(), Mode::kReadWrite);
      db.record_apply(make_hotfix("KB1", 1), make_entry("apply", "KB1", ""), {});
    }
    fs::remove(real / name);
    REQUIRE(::mkfifo((real / name).c_str(), 0600) == 0);
    auto result = std::async(std::launch::async, [&] {
      try {
        StateDb db = StateDb::open(open_dir(real), "state.db", "shown/state.db", Mode::kReadWrite);
        db.hotfixes(false);
        return std::string("opened");
      } catch (const hotfix::Error& e) {
        return std::string(e.what());
      }
    });
    REQUIRE(result.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    std::string what = result.get();
    INFO(what);
    CHECK(what.find("shown/state.db") != std::string::npos);
    CHECK(what != "opened");
  }
  SECTION("names SQLite is given never reach the system") {
    StateDb db = StateDb::open(open_dir(real), "state.db", "shown/state.db", Mode::kReadWrite);
    CHECK(db.exists());
    // Another process's view: the database is where the descriptor points.
    CHECK(fs::is_regular_file(real / "state.db"));
    CHECK_FALSE(fs::exists("/.hotfix-sqlite-dir"));
  }
}
