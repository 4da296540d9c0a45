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

// Backups exist only for what the database records: a database truncated or removed while
// they are kept is damage, and taken for "nothing installed" it would orphan the originals.
TEST_CASE("a database emptied or removed while backups are kept is state damaged") {
  const std::string variant = GENERATE("emptied", "removed");
  Attack a;
  const std::string db = a.root + "/" + kState + "/state.db";
  for (const char* companion : {"-wal", "-shm"}) fs::remove(db + companion);
  if (variant == "emptied") {
    fs::resize_file(db, 0);
  } else {
    fs::remove(db);
  }
  auto whole = [&] {
    Snapshot s = hotfix::test::snapshot_tree(a.root);
    s.erase(kState + "/lock");
    return s;
  };
  const Snapshot before = whole();
  const std::vector<std::vector<std::string>> commands = {
      {"list"},
      {"verify"},
      {"history"},
      {"status"},
      {"recover"},
      {"uninstall", "KB500001"},
      {"apply", second_bundle(), "--trust", factory().pub()},
      {"apply", second_bundle(), "--trust", factory().pub(), "--dry-run"}};
  for (const auto& command : commands) {
    INFO(variant << ": " << command[0]);
    check_refusal(a.installer(command), kStateDamaged,
                  "the database is missing or empty, but backups/ holds the originals");
    Snapshot now = whole();
    INFO(hotfix::test::describe_difference(before, now));
    CHECK(now == before);
  }
  a.check_outside();
}

// The root's trusted.d is held to sshd's StrictModes: whoever can write there can make the
// installer trust a key. One file there that is not a public key is skipped, not a veto.
TEST_CASE("trusted.d is trusted only when root's alone, and a bad file in it is skipped") {
  Attack a;
  const fs::path trusted = fs::path(a.root) / "etc/hotfix/trusted.d";
  fs::create_directories(trusted);
  fs::permissions(fs::path(a.root) / "etc/hotfix", fs::perms(0755));
  fs::permissions(trusted, fs::perms(0755));
  const fs::path key_dir = fs::path(factory().pub()).parent_path();
  const std::string apply_second[] = {"apply", second_bundle()};

  SECTION("a group- or world-writable directory on the way") {
    const char* where = GENERATE("etc/hotfix/trusted.d", "etc/hotfix", "etc");
    fs::permissions(fs::path(a.root) / where, fs::perms(0777));
    const Snapshot before = a.tree();
    check_refusal(a.installer({"apply", second_bundle(), "--trust", factory().pub()}), kBadInput,
                  std::string(where) + ": is writable by everyone (mode 0777)");
    CHECK(a.tree() == before);
  }
  SECTION("a key owned by another user, or writable by its group") {
    fs::copy_file(factory().pub(), trusted / "release.pub");
    const bool chown_it = GENERATE(true, false);
    if (chown_it) {
      REQUIRE(::chown((trusted / "release.pub").c_str(), 1234, 1234) == 0);
    } else {
      fs::permissions(trusted / "release.pub", fs::perms(0664));
    }
    const Snapshot before = a.tree();
    check_refusal(a.installer({apply_second[0], apply_second[1]}), kBadInput,
                  chown_it ? "release.pub: is owned by uid 1234, not by root"
                           : "release.pub: is writable by its group (mode 0664)");
    CHECK(a.tree() == before);
  }
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
  SECTION("a file holding the private and the public key given as --trust") {
    const std::string both = (a.tmp / "both.pem").string();
    hotfix::test::write_file(both, hotfix::test::read_file(key_dir / "k.key") +
                                       hotfix::test::read_file(factory().pub()));
    const Snapshot before = a.tree();
    check_refusal(a.installer({"apply", second_bundle(), "--trust", both}), kBadInput,
                  "both.pem: holds a private key");
    CHECK(a.tree() == before);
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
