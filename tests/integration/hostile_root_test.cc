// The root is input (docs/transaction.md, "The root is input"): someone who may write the
// root but holds no key plants a journal, edits the database, or swaps a directory for a link,
// and the installer must neither change anything outside the root nor run anything it read
// there. Each attack gets its own root with a sentinel tree beside it; the command must end
// with one precise message and its documented exit code, the sentinel byte-identical, and
// the root as it was.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>

#include "installer/journal.h"
#include "tests/support/bundle_factory.h"
#include "tests/support/child_process.h"
#include "tests/support/hostile_roots.h"
#include "tests/support/hotfix_kit.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_copy.h"
#include "tests/support/tree_snapshot.h"

using hotfix::test::RunResult;
using hotfix::test::TempDir;
namespace fs = std::filesystem;
using Snapshot = std::map<std::string, std::string>;

namespace {

const std::string kState = "var/lib/hotfix";
constexpr int kBadInput = 2, kRestartRequired = 10, kStateDamaged = 8;

hotfix::test::BundleFactory& factory() {
  static hotfix::test::BundleFactory f;
  return f;
}

const std::string& first_bundle() {
  static std::string b = factory().build(
      "KB500001",
      {{"app/a.conf", "new a\n", 1700000040, {}}, {"app/lib/b.dll", "new b\n", 1700000040, {}}});
  return b;
}

const std::string& second_bundle() {
  static std::string b = factory().build("KB500002", {{"app/c.conf", "new c\n", 1700000040, {}}});
  return b;
}

// A root with KB500001 applied, and beside it a sentinel tree that a write following a planted
// path would reach.
struct Attack {
  TempDir tmp;
  std::string root = (tmp / "root").string();
  std::string outside = (tmp / "outside").string();
  Snapshot sentinel;

  Attack() {
    hotfix::test::make_linux_root(root);
    hotfix::test::write_tree(root, {{"app/a.conf", "old a\n", 1600000020, {}},
                                    {"app/lib/b.dll", "old b\n", 1600000020, {}}});
    hotfix::test::write_tree(outside, {{"victim.txt", "precious\n", 1600000020, {}},
                                       {"app/a.conf", "outside a\n", 1600000020, {}},
                                       {"state/keep", "outside state\n", 1600000020, {}}});
    REQUIRE(installer({"apply", first_bundle(), "--trust", factory().pub()}).exit_code == 0);
    sentinel = hotfix::test::snapshot_tree(outside);
  }

  RunResult installer(std::vector<std::string> args) const {
    args.insert(args.begin(), hotfix::test::installer_path());
    args.insert(args.end(), {"--root", root});
    return hotfix::test::run(args);
  }
  RunResult sql(const std::string& statement) const {
    return hotfix::test::run({"/usr/bin/sqlite3", root + "/" + kState + "/state.db", statement});
  }
  // The root without what every writer touches by taking the lock and opening the database.
  Snapshot tree() const {
    Snapshot s = hotfix::test::snapshot_tree(root);
    for (const char* f : {"lock", "state.db", "state.db-wal", "state.db-shm"}) {
      s.erase(kState + "/" + f);
    }
    return s;
  }
  void check_outside() const {
    Snapshot now = hotfix::test::snapshot_tree(outside);
    INFO(hotfix::test::describe_difference(sentinel, now));
    CHECK(now == sentinel);
  }
};

// One error line, naming what and why.
void check_refusal(const RunResult& r, int exit_code, const std::string& says) {
  INFO(r.out << r.err);
  CHECK(r.exit_code == exit_code);
  CHECK(r.err.find(says) != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

// ---------------------------------------------------------------------------------------
// The corpus (tests/support/hostile_roots.h, docs/hostile-input.md)

constexpr std::size_t kMinimumRootCorpus = 40;
constexpr auto kCommandTimeout = std::chrono::seconds(30);

struct CorpusFixture {
  TempDir dir;
  hotfix::test::HostileRootCorpus corpus = hotfix::test::build_hostile_root_corpus();
  std::string root_template = (dir / "template").string();

  CorpusFixture() {
    hotfix::test::write_attack_root(root_template);
    RunResult r = hotfix::test::run({hotfix::test::installer_path(), "apply", corpus.installed,
                                     "--trust", corpus.trusted_key, "--root", root_template});
    if (r.exit_code != 0) throw std::runtime_error("cannot install KB500001: " + r.err);
  }
};

CorpusFixture& corpus_fixture() {
  static CorpusFixture f;
  return f;
}

// The root as a command may leave it: everything but the lock (its holder's pid) and
// SQLite's shared-memory index, which every reader rewrites. The database file itself is
// compared, except where a refusal adds its history row.
Snapshot root_picture(const std::string& root, bool records_refusal) {
  Snapshot s = hotfix::test::snapshot_tree(root);
  for (const char* f : {"lock", "state.db-shm"}) s.erase(kState + "/" + f);
  // An empty write-ahead log is no change: SQLite makes one when a writer opens the database.
  if (std::error_code ec; fs::file_size(root + "/" + kState + "/state.db-wal", ec) == 0 && !ec) {
    s.erase(kState + "/state.db-wal");
  }
  if (records_refusal) {
    for (const char* f : {"state.db", "state.db-wal"}) s.erase(kState + "/" + f);
  }
  return s;
}

// The command with its placeholder for the sentinel directory filled in.
std::vector<std::string> command_line(std::vector<std::string> args, const std::string& root,
                                      const std::string& outside) {
  for (std::string& a : args) {
    if (a.rfind("OUTSIDE/", 0) == 0) a = outside + a.substr(7);
  }
  args.insert(args.begin(), hotfix::test::installer_path());
  args.insert(args.end(), {"--root", root});
  return args;
}

// Runs one case on a root of its own; true when every check passed. `line` gets its actual
// messages, for the table.
bool check_root_case(const hotfix::test::HostileRoot& c, std::string& line) {
  const CorpusFixture& f = corpus_fixture();
  TempDir tmp;
  const std::string root = (tmp / "root").string(), outside = (tmp / "outside").string();
  hotfix::test::copy_tree(f.root_template, root);
  hotfix::test::write_sentinel(outside);
  hotfix::test::RootSite site{root, outside, root + "/" + kState};
  c.plant(site);
  const Snapshot sentinel = hotfix::test::snapshot_tree(outside);
  const Snapshot before = root_picture(root, c.records_refusal);
  bool ok = true;
  auto check = [&](bool condition) {
    ok = ok && condition;
    return condition;
  };
  for (const auto& args : c.commands) {
    hotfix::test::Child child(command_line(args, root, outside));
    std::optional<RunResult> r = child.wait_for(kCommandTimeout);
    INFO("case " << c.name << " (" << c.what << "): " << args[0]);
    CHECK(check(r.has_value()));  // a hang is a failure, and the child is killed
    if (!r) continue;
    INFO("stdout: " << r->out << "\nstderr: " << r->err);
    CHECK(check(r->exit_code == c.exit_code));
    CHECK(check(std::count(r->err.begin(), r->err.end(), '\n') == 1));
    CHECK(check(r->err.rfind("hotfix-installer: error: ", 0) == 0));
    CHECK(check(r->err.find(c.message) != std::string::npos));
    line = r->err;
  }
  const Snapshot now_outside = hotfix::test::snapshot_tree(outside);
  INFO("case " << c.name
               << ": outside: " << hotfix::test::describe_difference(sentinel, now_outside));
  CHECK(check(now_outside == sentinel));
  const Snapshot after = root_picture(root, c.records_refusal);
  INFO("case " << c.name << ": root: " << hotfix::test::describe_difference(before, after));
  CHECK(check(after == before));
  return ok;
}

}  // namespace

TEST_CASE("every hostile root is refused with its documented exit code, nothing changed") {
  const CorpusFixture& f = corpus_fixture();
  REQUIRE(f.corpus.cases.size() >= kMinimumRootCorpus);
  std::set<std::string> names;
  std::size_t refused = 0, commands = 0;
  std::string table;
  for (const hotfix::test::HostileRoot& c : f.corpus.cases) {
    CHECK(names.insert(c.name).second);
    CHECK(c.exit_code != 0);
    std::string line;
    if (check_root_case(c, line)) ++refused;
    commands += c.commands.size();
    table += "| `" + c.name + "` | " + c.what + " | " + std::to_string(c.commands.size()) + " | " +
             std::to_string(c.exit_code) + " | `" + c.message + "` |\n";
    if (std::getenv("HOTFIX_PRINT_CORPUS")) std::cout << c.name << ": " << line;
  }
  // HOTFIX_PRINT_CORPUS=1 prints the corpus as the table in docs/hostile-input.md.
  if (std::getenv("HOTFIX_PRINT_CORPUS")) std::cout << table;
  std::cout << "hostile roots refused: " << refused << " of " << f.corpus.cases.size() << " ("
            << commands << " commands)" << std::endl;
}

// ---------------------------------------------------------------------------------------
// What the corpus does not cover: attacks that are not refusals

TEST_CASE("a restart command planted in the database is never run") {
  Attack a;
  const std::string owned = a.outside + "/owned";
  REQUIRE(a.sql("UPDATE restart SET required = 1, kind = 'reboot', scheduled_at = 4102444800, "
                "policy = 'delay=5', mechanism = 'command: touch " +
                owned + "'")
              .exit_code == 0);
  // Cancelling asks for the command again instead of running the recorded one.
  check_refusal(a.installer({"status", "--cancel-restart"}), kBadInput,
                "give it again with --restart-command");
  CHECK_FALSE(fs::exists(owned));
  CHECK(a.installer({"status"}).exit_code == kRestartRequired);
  CHECK_FALSE(fs::exists(owned));
  a.check_outside();
}

// One file in trusted.d that is not a public key is skipped with a warning, not a veto; the
// refusals of the trust store are in the corpus.
TEST_CASE("a bad file in trusted.d is skipped with a warning naming it") {
  Attack a;
  const fs::path trusted = fs::path(a.root) / "etc/hotfix/trusted.d";
  fs::create_directories(trusted);
  fs::permissions(fs::path(a.root) / "etc/hotfix", fs::perms(0755));
  fs::permissions(trusted, fs::perms(0755));
  const fs::path key_dir = fs::path(factory().pub()).parent_path();
  const std::string apply_second[] = {"apply", second_bundle()};

  SECTION("garbage or a private key in trusted.d is skipped with a warning naming it") {
    fs::copy_file(factory().pub(), trusted / "release.pub");
    hotfix::test::write_file(trusted / "garbage.pub", "not a key\n");
    fs::copy_file(key_dir / "k.key", trusted / "leaked.pem");
    fs::permissions(trusted / "leaked.pem", fs::perms(0644));
    RunResult r = a.installer({apply_second[0], apply_second[1]});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("trusted.d/garbage.pub: not a PEM public key") != std::string::npos);
    CHECK(r.err.find("trusted.d/leaked.pem: holds a private key") != std::string::npos);
    CHECK(r.err.find("skipped: it is not trusted") != std::string::npos);
  }
  a.check_outside();
}

// A replaced file keeps its permission bits but not its privilege: setuid, setgid and sticky
// come only from the manifest's mode.
TEST_CASE("setuid, setgid and sticky bits are installed only where the manifest asks") {
  TempDir tmp;
  const std::string root = (tmp / "root").string();
  hotfix::test::make_linux_root(root);
  hotfix::test::write_tree(root, {{"usr/bin/tool", "old tool\n", 1600000020, 04755},
                                  {"usr/bin/other", "old other\n", 1600000020, 02755}});
  ::chmod((root + "/usr/bin/tool").c_str(), 04755);  // as a package manager would have left it
  ::chmod((root + "/usr/bin/other").c_str(), 02755);
  const std::string bundle =
      factory().build("KB500003", {{"usr/bin/tool", "new tool\n", 1700000040, {}},
                                   {"usr/bin/other", "new other\n", 1700000040, 02755}});
  RunResult r = hotfix::test::run({hotfix::test::installer_path(), "apply", bundle, "--trust",
                                   factory().pub(), "--root", root});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto mode = [&](const char* rel) {
    struct stat st {};
    REQUIRE(::stat((root + "/" + rel).c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  CHECK(mode("usr/bin/tool") == 0755);    // the old file's bits, not its setuid
  CHECK(mode("usr/bin/other") == 02755);  // the manifest asked for setgid
  CHECK(hotfix::test::run({hotfix::test::installer_path(), "verify", "--root", root}).exit_code ==
        0);
}
