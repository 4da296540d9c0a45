// The root is input (docs/transaction.md, "The root is input"): someone who may write the
// root but holds no key plants a journal, edits the database, or swaps a directory for a link,
// and the installer must neither change anything outside the root nor run anything it read
// there. Each attack gets its own root with a sentinel tree beside it; the command must end
// with one precise message and its documented exit code, the sentinel byte-identical, and
// the root as it was.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>

#include "installer/journal.h"
#include "tests/support/bundle_factory.h"
#include "tests/support/hotfix_kit.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
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

// A journal as an interrupted apply of KB500002 would leave it, changed by `edit`.
std::string planted_journal(const std::function<void(hotfix::Journal&)>& edit) {
  hotfix::Journal j;
  j.txid = "20260101T000000Z-0badf00d";
  j.action = "apply";
  j.hotfix_id = "KB500002";
  j.state = hotfix::Journal::State::kSwapped;
  j.ops.push_back({hotfix::JournalOp::Kind::kPut, "app/c.conf",
                   hotfix::stage_name("app/c.conf", j.txid), std::nullopt, false});
  edit(j);
  return hotfix::journal_to_json(j);
}

}  // namespace

TEST_CASE("a planted journal is refused field by field: every command recovers first") {
  using hotfix::Journal;
  using hotfix::JournalOp;
  struct Plant {
    const char* what;
    std::function<void(Journal&)> edit;
    const char* says;
  };
  const std::vector<Plant> plants = {
      {"a path out of the root", [](Journal& j) { j.ops[0].path = "../outside/victim.txt"; },
       "path \"../outside/victim.txt\" has a \"..\" component"},
      {"an absolute path", [](Journal& j) { j.ops[0].path = "/etc/passwd"; }, "is absolute"},
      {"a stage out of the root", [](Journal& j) { j.ops[0].stage = "../outside/victim.txt"; },
       "is not the name this transaction stages it under"},
      {"a backup out of the state directory",
       [](Journal& j) { j.ops[0].backup = "../../../../outside/victim.txt"; },
       "is not a backup name of this transaction"},
      {"another transaction's backup",
       [](Journal& j) { j.ops[0].backup = "backups/20250101T000000Z-00000001/0"; },
       "is not a backup name of this transaction"},
      {"a created directory out of the root",
       [](Journal& j) { j.created_dirs = {"../outside/state"}; }, "created directory"},
      {"a directory to remove out of the root",
       [](Journal& j) { j.remove_dirs_after_commit = {"../outside/state"}; },
       "directory to remove"},
      {"a backup to discard out of the state directory",
       [](Journal& j) { j.discard_after_commit = {"../../../../outside/victim.txt"}; },
       "backup to discard"},
      {"the installer's own database as a path",
       [](Journal& j) { j.ops[0].path = "var/lib/hotfix/state.db"; }, "the installer's own"},
      {"a malformed transaction id", [](Journal& j) { j.txid = "../x"; }, "is malformed"},
  };
  for (const Plant& p : plants) {
    SECTION(p.what) {
      Attack a;
      hotfix::test::write_file(a.root + "/" + kState + "/journal.json", planted_journal(p.edit));
      const Snapshot before = a.tree();
      for (std::vector<std::string> cmd :
           {std::vector<std::string>{"apply", second_bundle(), "--trust", factory().pub()},
            {"uninstall", "KB500001"},
            {"recover"}}) {
        INFO(cmd[0]);
        check_refusal(a.installer(cmd), kStateDamaged, "state damaged");
        check_refusal(a.installer(cmd), kStateDamaged, p.says);
      }
      a.check_outside();
      CHECK(a.tree() == before);
    }
  }
}

TEST_CASE("planted database rows are refused before uninstall uses them") {
  struct Plant {
    const char* what;
    const char* statement;
    const char* says;
  };
  const std::vector<Plant> plants = {
      {"a file out of the root",
       "UPDATE files SET path = '../outside/victim.txt' WHERE path = 'app/a.conf'",
       "has a \"..\" component"},
      {"an absolute file", "UPDATE files SET path = '/etc/passwd' WHERE path = 'app/a.conf'",
       "is absolute"},
      {"a backup out of the state directory",
       "UPDATE files SET backup = '../../../../outside/victim.txt'", "not a backup's name"},
      {"a created directory out of the root",
       "INSERT INTO dirs(hotfix_id, path) VALUES ('KB500001', '../outside/state')", "dirs row"},
  };
  for (const Plant& p : plants) {
    SECTION(p.what) {
      Attack a;
      REQUIRE(a.sql(p.statement).exit_code == 0);
      const Snapshot before = a.tree();
      check_refusal(a.installer({"uninstall", "KB500001"}), kStateDamaged, p.says);
      a.check_outside();
      CHECK(a.tree() == before);
    }
  }
}

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

TEST_CASE(
    "an installed directory swapped for a link out of the root is not followed by "
    "uninstall") {
  Attack a;
  fs::rename(a.root + "/app/lib", a.root + "/app/lib.moved");
  fs::create_symlink(a.outside + "/state", a.root + "/app/lib");
  const Snapshot before = a.tree();
  check_refusal(a.installer({"uninstall", "KB500001"}), kBadInput,
                "is a symbolic link, and none is followed here");
  a.check_outside();
  CHECK(a.tree() == before);
  CHECK(a.installer({"list"}).out.find("KB500001") != std::string::npos);  // still installed
}

TEST_CASE("the installer's own directories and files are never followed out of the root") {
  SECTION("the state directory is a link") {
    Attack a;
    fs::rename(a.root + "/" + kState, a.root + "/var/lib/hotfix.moved");
    fs::create_symlink(a.outside + "/state", a.root + "/" + kState);
    check_refusal(a.installer({"apply", second_bundle(), "--trust", factory().pub()}), kBadInput,
                  "is a symbolic link where a directory is needed");
    check_refusal(a.installer({"list"}), kStateDamaged, "is a symbolic link or not a directory");
    check_refusal(a.installer({"recover"}), kStateDamaged, "is a symbolic link");
    a.check_outside();
  }
  SECTION("var is a link") {
    Attack a;
    fs::rename(a.root + "/var", a.root + "/var.moved");
    fs::create_directories(a.outside + "/var");
    a.sentinel = hotfix::test::snapshot_tree(a.outside);
    fs::create_symlink(a.outside + "/var", a.root + "/var");
    check_refusal(a.installer({"apply", second_bundle(), "--trust", factory().pub()}), kBadInput,
                  "/var: is a symbolic link where a directory is needed");
    a.check_outside();
  }
  SECTION("the lock is a link to a file outside, which is not truncated") {
    Attack a;
    fs::remove(a.root + "/" + kState + "/lock");
    fs::create_symlink(a.outside + "/victim.txt", a.root + "/" + kState + "/lock");
    check_refusal(a.installer({"apply", second_bundle(), "--trust", factory().pub()}),
                  kStateDamaged, "lock: state damaged: is not a regular file");
    a.check_outside();
  }
  SECTION("the journal is a FIFO: refused, without waiting for a writer") {
    Attack a;
    REQUIRE(::mkfifo((a.root + "/" + kState + "/journal.json").c_str(), 0600) == 0);
    check_refusal(a.installer({"apply", second_bundle(), "--trust", factory().pub()}),
                  kStateDamaged, "journal.json: state damaged: is not a regular file");
    check_refusal(a.installer({"recover"}), kStateDamaged, "is not a regular file");
    a.check_outside();
  }
}

TEST_CASE("a run that is a link is refused before a hotfix that needs a reboot changes anything") {
  hotfix::test::HotfixKit kit;
  hotfix::test::KitHotfix h{"KB500003", 1, hotfix::RestartRequirement::kReboot, {}, {}, {}, {}};
  h.arch = hotfix::Arch::kX64;
  h.prerequisites = hotfix::Prerequisite::always();
  h.files = {{"app/d.conf", std::nullopt, "new d\n"}};
  const std::string bundle = kit.build(h);
  const std::string root = kit.make_root("root", {{"app/d.conf", std::nullopt, "old d\n"}});
  const std::string outside = (kit.dir() / "outside").string();
  fs::create_directories(outside + "/run");
  fs::create_symlink(outside + "/run", root + "/run");
  const Snapshot sentinel = hotfix::test::snapshot_tree(outside);
  const Snapshot before = hotfix::test::snapshot_tree(root, kState);
  check_refusal(
      hotfix::test::run_installer({"apply", bundle, "--trust", kit.pub(), "--root", root}),
      kBadInput, "/run: is a symbolic link");
  CHECK(hotfix::test::snapshot_tree(outside) == sentinel);
  CHECK(hotfix::test::snapshot_tree(root, kState) == before);
}
