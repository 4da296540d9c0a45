// The journal read back from the root is input (installer/state_checks.h): what the installer
// writes passes, anything it would not have written is "state damaged".
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "installer/disk.h"
#include "installer/journal.h"
#include "installer/state_checks.h"
#include "installer/transaction.h"
#include "manifests/errors.h"
#include "tests/support/temp_dir.h"

using hotfix::ErrorKind;
using hotfix::Journal;
using hotfix::JournalOp;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kState = "var/lib/hotfix";

Journal written() {
  Journal j;
  j.txid = hotfix::new_txid();
  j.action = "uninstall";
  j.hotfix_id = "KB967131";
  std::string b = "backups/" + j.txid + "/";
  j.ops = {{JournalOp::Kind::kPut, "Windows/System32/a.dll",
            hotfix::stage_name("Windows/System32/a.dll", j.txid), b + "0", false},
           {JournalOp::Kind::kRemove, "Windows/a.config.hotfix-new", "", b + "1", false},
           {JournalOp::Kind::kPut, "top.txt", hotfix::stage_name("top.txt", j.txid), std::nullopt,
            false}};
  j.created_dirs = {"Windows/New"};
  j.discard_after_commit = {"backups/20200101T000000Z-00c0ffee/3"};
  j.remove_dirs_after_commit = {"Windows/New/Deep", "Windows/New"};
  return j;
}

void check_damaged(const Journal& j, const std::string& says) {
  try {
    hotfix::check_journal(j, kState, "journal.json");
    FAIL("accepted: " << says);
  } catch (const hotfix::Error& e) {
    CHECK(e.kind() == ErrorKind::kStateDamaged);
    CHECK_THAT(e.what(), Catch::Contains("state damaged") && Catch::Contains(says));
  }
}

}  // namespace

TEST_CASE("Transaction ids, stage names and backup names have one form") {
  std::string txid = hotfix::new_txid();
  CHECK(hotfix::is_valid_txid(txid));
  CHECK_FALSE(hotfix::is_valid_txid("20240101T000000Z-0123abc"));
  CHECK_FALSE(hotfix::is_valid_txid("20240101T000000Z-0123ABCD"));
  CHECK_FALSE(hotfix::is_valid_txid("../../../../etc/cron.d"));
  CHECK(hotfix::stage_name("a/b/c.dll", "T") == "a/b/.c.dll.hotfix-T");
  CHECK(hotfix::stage_name("c.dll", "T") == ".c.dll.hotfix-T");
  CHECK(hotfix::is_backup_name("backups/" + txid + "/12"));
  CHECK(hotfix::is_backup_name("backups/" + txid + "/12", txid));
  CHECK_FALSE(hotfix::is_backup_name("backups/" + txid + "/12", "20240101T000000Z-0123abcd"));
  CHECK_FALSE(hotfix::is_backup_name("backups/" + txid + "/../../x"));
  CHECK_FALSE(hotfix::is_backup_name("backups/" + txid));
  CHECK_FALSE(hotfix::is_backup_name("../backups/" + txid + "/1"));
}

TEST_CASE("A journal the installer writes passes its own checks") {
  CHECK_NOTHROW(hotfix::check_journal(written(), kState, "journal.json"));
}

TEST_CASE("A journal field the installer would not write is state damaged") {
  Journal j = written();
  SECTION("path with ..") {
    j.ops[0].path = "Windows/../../etc/shadow";
    check_damaged(j, "has a \"..\" component");
  }
  SECTION("path in the state directory") {
    j.ops[2].path = "var/lib/hotfix/state.db";
    j.ops[2].stage = hotfix::stage_name(j.ops[2].path, j.txid);
    check_damaged(j, "the installer's own");
  }
  SECTION("stage elsewhere") {
    j.ops[0].stage = "Windows/System32/.b.dll.hotfix-" + j.txid;
    check_damaged(j, "is not the name this transaction stages it under");
  }
  SECTION("a removal with a stage") {
    j.ops[1].stage = "x";
    check_damaged(j, "is not the name");
  }
  SECTION("another transaction's backup") {
    j.ops[0].backup = "backups/20200101T000000Z-00c0ffee/0";
    check_damaged(j, "is not a backup name of this transaction");
  }
  SECTION("a created directory that is absolute") {
    j.created_dirs = {"/etc"};
    check_damaged(j, "created directory \"/etc\" is absolute");
  }
  SECTION("a directory to remove that is the state directory") {
    j.remove_dirs_after_commit = {"var/lib/hotfix"};
    check_damaged(j, "directory to remove");
  }
  SECTION("a backup to discard out of the state directory") {
    j.discard_after_commit = {"../../etc/passwd"};
    check_damaged(j, "backup to discard");
  }
  SECTION("an unknown action") {
    j.action = "format";
    check_damaged(j, "unknown action");
  }
  SECTION("a malformed hotfix id") {
    j.hotfix_id = "../KB1";
    check_damaged(j, "hotfix id");
  }
}

TEST_CASE("A journal that is not a regular file, or too large, is refused unread") {
  TempDir dir;
  const std::string root = (dir / "root").string();
  fs::create_directories(root + "/" + kState);
  auto disk = hotfix::make_root_disk(hotfix::Root::open(root));
  const std::string path = root + "/" + kState + "/journal.json";
  SECTION("a FIFO") {
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(hotfix::read_journal(*disk, kState),
                      Catch::Contains("the journal is not a regular file"));
  }
  SECTION("larger than any the installer writes") {
    REQUIRE(::truncate((hotfix::test::write_file(path, ""), path).c_str(),
                       static_cast<off_t>(hotfix::kMaxJournalBytes + 1)) == 0);
    CHECK_THROWS_WITH(hotfix::read_journal(*disk, kState),
                      Catch::Contains("more than any this installer writes"));
  }
  SECTION("one it wrote is read back as it was") {
    Journal j = written();
    hotfix::write_journal(*disk, kState, j);
    CHECK(hotfix::read_journal(*disk, kState) == j);
    CHECK_FALSE(fs::exists(path + ".tmp"));
  }
}
