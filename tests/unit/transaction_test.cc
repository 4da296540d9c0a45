// The transaction engine on a real filesystem: success, failure with rollback, and a crash or
// a power loss at every operation followed by recovery, each ending in the complete old or new
// set.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "installer/transaction.h"
#include "manifests/errors.h"
#include "tests/support/fault_disk.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_copy.h"

using namespace hotfix;
using hotfix::test::FaultDisk;
using hotfix::test::FaultKind;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

using Tree = std::map<std::string, std::string>;  // relative path -> content ("<dir>" for dirs)

Tree snapshot(const fs::path& root, bool skip_state = true) {
  Tree t;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), root).generic_string();
    if (skip_state && rel.rfind("var", 0) == 0) continue;
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    t[rel] = it->is_directory() ? "<dir>"
                                : hotfix::test::read_file(it->path()) +
                                      "|mode=" + std::to_string(st.st_mode & 07777) +
                                      "|mtime=" + std::to_string(st.st_mtim.tv_sec);
  }
  return t;
}

struct Fixture {
  TempDir dir;
  std::string root = (dir / "root").string();
  std::string state = "var/lib/hotfix";  // relative to the root, as the Disk takes paths
  std::string state_path = root + "/" + state;
  std::unique_ptr<Disk> real;
  Journal journal;
  bool committed = false;

  Fixture() {
    hotfix::test::write_file(fs::path(root) / "app/a.dll", "old a");
    hotfix::test::write_file(fs::path(root) / "app/b.dll", "old b");
    hotfix::test::write_file(fs::path(root) / "app/gone.txt", "to be removed");
    fs::create_directories(state_path);
    real = make_root_disk(Root::open(root));
    journal.txid = new_txid();
    journal.action = "apply";
    journal.hotfix_id = "KB1";
    std::string b = "backups/" + journal.txid + "/";
    journal.ops = {
        {JournalOp::Kind::kPut, "app/a.dll", "app/.a.dll.hotfix-" + journal.txid, b + "0", true},
        {JournalOp::Kind::kPut, "app/b.dll", "app/.b.dll.hotfix-" + journal.txid, b + "1", true},
        {JournalOp::Kind::kPut, "app/new/c.dll", "app/new/.c.dll.hotfix-" + journal.txid,
         std::nullopt, true},
        {JournalOp::Kind::kRemove, "app/gone.txt", "", b + "2", false},
    };
    journal.created_dirs = {"app/new"};
  }

  Disk& disk() { return *real; }
  Stager stager() { return stager(*real); }
  Stager stager(Disk& disk) {
    return [this, &disk](const Journal& j) {
      int i = 0;
      for (const JournalOp& op : j.ops) {
        if (op.kind != JournalOp::Kind::kPut) continue;
        auto f = disk.create(op.stage, 0600);
        std::string data = "new " + std::to_string(i++);
        f->append(data.data(), data.size());
        f->close();
        disk.set_metadata(op.stage, {0755, 1229142420, {}, {}});
      }
    };
  }

  Tree expected_new() const {
    Tree t{{"app", "<dir>"},
           {"app/a.dll", "new 0|mode=493|mtime=1229142420"},
           {"app/b.dll", "new 1|mode=493|mtime=1229142420"},
           {"app/new", "<dir>"},
           {"app/new/c.dll", "new 2|mode=493|mtime=1229142420"}};
    return t;
  }
};

bool no_leftovers(const std::string& root) {
  for (auto& e : fs::recursive_directory_iterator(root)) {
    std::string name = e.path().filename().string();
    if (name.find(".hotfix-") != std::string::npos || name == "journal.json" ||
        name == "journal.json.tmp") {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("A transaction replaces, creates and removes files, keeping backups") {
  Fixture fx;
  run_transaction(fx.disk(), fx.state, fx.journal, fx.stager(), [&] { fx.committed = true; });
  CHECK(fx.committed);
  CHECK(snapshot(fx.root) == fx.expected_new());
  CHECK(no_leftovers(fx.root));
  // Kept backups hold the old content; the removed file's temporary backup is gone.
  std::string b = fx.state_path + "/backups/" + fx.journal.txid + "/";
  CHECK(hotfix::test::read_file(b + "0") == "old a");
  CHECK(hotfix::test::read_file(b + "1") == "old b");
  CHECK_FALSE(fs::exists(b + "2"));
}

TEST_CASE("A failing commit rolls everything back, leaving nothing behind") {
  Fixture fx;
  Tree before = snapshot(fx.root);
  CHECK_THROWS_WITH(run_transaction(fx.disk(), fx.state, fx.journal, fx.stager(),
                                    [] { throw Error(ErrorKind::kSystem, "db", "disk full"); }),
                    "db: disk full");
  CHECK(snapshot(fx.root) == before);
  CHECK(no_leftovers(fx.root));
  CHECK_FALSE(fs::exists(fx.state_path + "/backups/" + fx.journal.txid));
}

TEST_CASE("A failing stager rolls back before anything was swapped") {
  Fixture fx;
  Tree before = snapshot(fx.root);
  auto stage = fx.stager();
  CHECK_THROWS(run_transaction(
      fx.disk(), fx.state, fx.journal,
      [&](const Journal& j) {
        stage(j);
        throw Error(ErrorKind::kVerification, "payload", "bad hash");
      },
      [] {}));
  CHECK(snapshot(fx.root) == before);
  CHECK(no_leftovers(fx.root));
}

// A name the file system cannot hold once staged (the manifest rules refuse it now, but a
// journal of an older installer may hold one) must not make the rollback fail for good.
TEST_CASE("A stage whose name is too long to exist is absent to the rollback, not a wedge") {
  Fixture fx;
  Tree before = snapshot(fx.root);
  std::string long_name(240, 'n');  // its stage, "." + name + ".hotfix-" + txid, is 274 bytes
  fx.journal.ops.push_back({JournalOp::Kind::kPut, "app/" + long_name,
                            stage_name("app/" + long_name, fx.journal.txid), std::nullopt, true});
  auto stage = fx.stager();
  try {
    run_transaction(fx.disk(), fx.state, fx.journal, stage, [] {});
    FAIL("the stage of a 240-byte name was created");
  } catch (const hotfix::SystemError& e) {
    CHECK(e.error_number() == ENAMETOOLONG);
  }
  CHECK(snapshot(fx.root) == before);  // rolled back whole, the journal gone
  CHECK(no_leftovers(fx.root));
  CHECK(recover(fx.disk(), fx.state, [](const std::string&) { return false; }) ==
        RecoveryOutcome::kNothing);
}

TEST_CASE("A crash or a power loss at every operation recovers to the complete old or new set") {
  std::uint64_t operations = 0;
  {
    Fixture fx;
    std::string original = (fx.dir / "original").string();
    hotfix::test::copy_tree(fx.root, original);
    FaultDisk disk(fx.root, original, {}, (fx.dir / "report").string());
    run_transaction(disk, fx.state, fx.journal, fx.stager(disk), [] {});
    operations = disk.operations();
  }
  REQUIRE(operations > 20);
  int checked = 0;
  for (std::uint64_t k = 1; k <= operations; ++k) {
    for (FaultKind kind : {FaultKind::kCrash, FaultKind::kPowerLoss}) {
      Fixture fx;
      Tree before = snapshot(fx.root);
      std::string original = (fx.dir / "original").string();
      hotfix::test::copy_tree(fx.root, original);
      std::string marker = (fx.dir / "committed").string();  // the database, outside the tree
      std::string report = (fx.dir / "report").string();
      pid_t pid = ::fork();
      if (pid == 0) {
        try {
          FaultDisk disk(fx.root, original, {}, report);
          disk.arm(k, kind);
          run_transaction(disk, fx.state, fx.journal, fx.stager(disk),
                          [&] { hotfix::test::write_file(marker, "yes"); });
        } catch (...) {
          ::_exit(3);
        }
        ::_exit(0);
      }
      int status = 0;
      ::waitpid(pid, &status, 0);
      INFO(hotfix::test::fault_kind_name(kind) << " at operation " << k << " of " << operations);
      INFO((fs::exists(report) ? hotfix::test::read_file(report) : ""));
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == hotfix::test::kStoppedDead);

      bool in_db = fs::exists(marker);
      RecoveryOutcome outcome =
          recover(fx.disk(), fx.state, [&](const std::string&) { return in_db; });
      if (in_db) {
        CHECK(outcome != RecoveryOutcome::kRolledBack);
        CHECK(snapshot(fx.root) == fx.expected_new());
      } else {
        CHECK(outcome != RecoveryOutcome::kRolledForward);
        CHECK(snapshot(fx.root) == before);
      }
      CHECK(no_leftovers(fx.root));
      CHECK(recover(fx.disk(), fx.state, [](const std::string&) { return false; }) ==
            RecoveryOutcome::kNothing);
      ++checked;
    }
  }
  CHECK(checked == static_cast<int>(operations) * 2);
}

TEST_CASE("A journal survives a round trip and a corrupt one is a clear error") {
  Fixture fx;
  fx.journal.state = Journal::State::kPrepared;
  fx.journal.discard_after_commit = {"backups/20240101T000000Z-0123abcd/1"};
  fx.journal.remove_dirs_after_commit = {"app/old/sub", "app/old"};
  CHECK(journal_from_json(journal_to_json(fx.journal), "j") == fx.journal);
  // A journal written before directories were removed on uninstall has no such list.
  std::string text = journal_to_json(fx.journal);
  std::string key = "\"remove_dirs_after_commit\"";
  REQUIRE(text.find(key) != std::string::npos);
  text.replace(text.find(key), key.size(), "\"something_else\"");
  Journal older = journal_from_json(text, "j");
  CHECK(older.remove_dirs_after_commit.empty());
  CHECK(older.discard_after_commit == fx.journal.discard_after_commit);
  CHECK_THROWS_WITH(journal_from_json("{\"txid\": 1}", "journal.json"),
                    Catch::Contains("journal.json: state damaged: the journal is unreadable"));
}

TEST_CASE("Directories to remove go once committed, deepest first, unless they hold something") {
  Fixture fx;
  fs::create_directories(fs::path(fx.root) / "app/old/sub");
  hotfix::test::write_file(fs::path(fx.root) / "app/kept/notes.txt", "someone's");
  fx.journal.remove_dirs_after_commit = {"app/old/sub", "app/old", "app/kept"};

  SECTION("committed") {
    run_transaction(fx.disk(), fx.state, fx.journal, fx.stager(), [&] { fx.committed = true; });
    CHECK_FALSE(fs::exists(fs::path(fx.root) / "app/old"));
    CHECK(fs::exists(fs::path(fx.root) / "app/kept/notes.txt"));
  }
  SECTION("not committed") {
    CHECK_THROWS(run_transaction(fx.disk(), fx.state, fx.journal, fx.stager(),
                                 [] { throw Error(ErrorKind::kSystem, "db", "disk full"); }));
    CHECK(fs::is_directory(fs::path(fx.root) / "app/old/sub"));
  }
  CHECK(no_leftovers(fx.root));
}
