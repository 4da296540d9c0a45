// Exhaustive fault injection (docs/transaction.md): every filesystem operation of apply and
// uninstall, for the KB967131 x64 sample, for two hotfixes layered over the same files and for
// an upgrade of the lower one, is in turn failed with EIO or ENOSPC, cut by a crash, and cut
// by a power loss that drops all that was not durable; one more power loss comes right after
// the command has finished. Recovery, as the next command runs it, must then leave the
// complete old set or the complete new set, byte for byte with modes and times, the database
// agreeing, and nothing temporary.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "installer/installer.h"
#include "installer/state_db.h"
#include "manifests/errors.h"
#include "manifests/manifest_json.h"
#include "tests/support/fault_disk.h"
#include "tests/support/kb967131_sample.h"
#include "tests/support/root_image.h"
#include "tests/support/run.h"
#include "tests/support/small_layered.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_copy.h"
#include "tests/support/tree_snapshot.h"

using namespace hotfix;
using hotfix::test::copy_root_linked;
using hotfix::test::database_summary;
using hotfix::test::describe_difference;
using hotfix::test::FaultDisk;
using hotfix::test::FaultKind;
using hotfix::test::root_image;
using hotfix::test::RootImage;
using hotfix::test::TempDir;
using hotfix::test::transaction_leftovers_under;
namespace fs = std::filesystem;

namespace {

const std::string& kState = hotfix::test::kStateDirectory;
const std::set<std::string>& kUntracked = hotfix::test::untracked_state_files();

struct Step {
  std::string name;
  std::function<void(const InstallerContext&)> run;
};

struct Tally {
  std::uint64_t operations = 0, points = 0, failures = 0;
};

// Decodes the child's exit status: the command's outcome and whether the fault fired.
enum class Outcome { kSucceeded = 0, kFailedCleanly = 1, kFailedOddly = 2 };
constexpr int kFiredBit = 16;

// Runs `step` on a copy of `old_root` once cleanly (leaving the new set in `new_root`), then
// once per operation and fault kind, checking each ending.
Tally check_step(const std::string& scenario, const Step& step, const std::string& old_root,
                 const std::string& new_root, const fs::path& work) {
  const std::string root = (work / "root").string();
  const std::string report = (work / "report").string();
  const std::string error_file = (work / "error").string();

  hotfix::test::copy_tree(old_root, new_root);
  std::vector<std::string> log;
  {
    FaultDisk clean(new_root, old_root, kUntracked, report);
    step.run({new_root, &clean, true});
    INFO(scenario << ": " << step.name);
    REQUIRE(clean.model_mismatch() == "");
    log = clean.log();
  }
  const std::uint64_t n = log.size();
  const std::set<std::string> known = hotfix::test::known_txids(old_root);  // earlier steps
  const RootImage old_state = root_image(old_root, known);
  const RootImage new_state = root_image(new_root, known);
  REQUIRE_FALSE(old_state == new_state);
  REQUIRE(transaction_leftovers_under(new_root) == "");

  Tally tally;
  tally.operations = n;
  std::vector<std::pair<std::uint64_t, FaultKind>> points;
  const std::uint64_t stride = hotfix::test::fault_stride();
  for (std::uint64_t k = 1; k <= n; ++k) {
    if ((k - 1) % stride != 0 && k != n) continue;  // the last operation always
    for (FaultKind kind : {FaultKind::kError, FaultKind::kCrash, FaultKind::kPowerLoss}) {
      points.emplace_back(k, kind);
    }
  }
  points.emplace_back(n + 1, FaultKind::kPowerLoss);  // right after the command finished

  for (const auto& [k, kind] : points) {
    fs::remove_all(root);
    fs::remove(report);
    fs::remove(error_file);
    copy_root_linked(old_root, root);
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = static_cast<int>(Outcome::kSucceeded);
      bool fired = false;
      try {
        FaultDisk disk(root, old_root, kUntracked, report);
        disk.arm(k, kind);
        try {
          step.run({root, &disk, true});
        } catch (const hotfix::Error& e) {
          hotfix::test::write_file(error_file, e.what());
          code = static_cast<int>(Outcome::kFailedCleanly);
        }
        if (k > n) disk.lose_power();
        fired = disk.fired();
      } catch (const std::exception& e) {
        hotfix::test::write_file(error_file, e.what());
        code = static_cast<int>(Outcome::kFailedOddly);
      }
      ::_exit(code | (fired ? kFiredBit : 0));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

    std::string where = scenario + ": " + step.name + ": " +
                        std::string(hotfix::test::fault_kind_name(kind)) + " at operation " +
                        std::to_string(k) + " of " + std::to_string(n) + " (" +
                        (k <= n ? log[k - 1] : std::string("after the command finished")) + ")";
    INFO(where);
    auto message = [&](const std::string& file) {
      return fs::exists(file) ? hotfix::test::read_file(file) : std::string();
    };
    bool ok = true;
    bool succeeded = false;
    auto expect = [&](bool condition, const std::string& what) {
      if (!condition) {
        ok = false;
        FAIL_CHECK(what);
      }
    };
    if (kind == FaultKind::kError) {
      expect(code == (kFiredBit | static_cast<int>(Outcome::kFailedCleanly)) ||
                 code == (kFiredBit | static_cast<int>(Outcome::kSucceeded)),
             "exit " + std::to_string(code) + " " + message(error_file) + message(report));
      if (code == (kFiredBit | static_cast<int>(Outcome::kFailedCleanly))) {
        // The command undid its own change: the old set, with no recovery needed.
        std::string text = message(error_file);
        expect(text.find(std::strerror(FaultDisk::error_for(k))) != std::string::npos,
               "the error does not name the cause: " + text);
        RootImage now = root_image(root, known);
        expect(now == old_state,
               "not the old set after a reported error:\n" + describe_difference(old_state, now));
        expect(transaction_leftovers_under(root) == "",
               "left behind after a reported error:\n" + transaction_leftovers_under(root));
      } else if (code == kFiredBit) {
        // Only a fault after the commit may leave the command successful: the database has
        // the change (a reinstall changes only files: then recovery below must give the new set).
        succeeded = true;
        expect(database_summary(root) != database_summary(old_root) ||
                   new_state.database == old_state.database,
               "the command succeeded but the database does not have the change");
      }
    } else {
      expect(code == hotfix::test::kStoppedDead,
             "exit " + std::to_string(code) + " " + message(error_file) + message(report));
    }

    try {
      recover_root(InstallerContext(root));
      RootImage now = root_image(root, known);
      expect(!succeeded || now == new_state,
             "the command succeeded but recovery did not give the new set:\n" +
                 describe_difference(new_state, now));
      expect(now == old_state || now == new_state,
             "neither the old nor the new set after recovery:\nagainst the old set:\n" +
                 describe_difference(old_state, now) + "against the new set:\n" +
                 describe_difference(new_state, now));
      expect(transaction_leftovers_under(root) == "",
             "left behind after recovery:\n" + transaction_leftovers_under(root));
      expect(recover_root(InstallerContext(root)) == "nothing to recover",
             "a second recovery still had something to do");
    } catch (const std::exception& e) {
      expect(false, std::string("recovery failed: ") + e.what());
    }
    ++tally.points;
    if (!ok) ++tally.failures;
  }
  std::cout << scenario << ": " << step.name << ": " << n << " operations, " << tally.points
            << " fault points checked"
            << (stride == 1 ? "" : " (one operation in " + std::to_string(stride) + ")") << ", "
            << tally.failures << " failed\n";
  CHECK(tally.points == points.size());
  if (stride == 1) CHECK(tally.points == n * 3 + 1);
  return tally;
}

// The KB967131 manifest as published, with each file cut to at most 8 KiB so that the
// thousands of roots this test makes stay small: names, versions, dates, destinations,
// kinds and prerequisites are the article's.
struct Kb967131 {
  hotfix::test::Kb967131Sample sample{{"x64"}, 8192};
  TrustStore trust;
  std::string bundle = sample.bundle("x64");
  Kb967131() { trust.add_path(sample.pub()); }
};

Step apply_step(const std::string& bundle, const TrustStore& trust, const std::string& id) {
  return {"apply " + id,
          [bundle, &trust](const InstallerContext& ctx) { apply_bundle(ctx, bundle, trust, {}); }};
}

Step uninstall_step(const std::string& id) {
  return {"uninstall " + id, [id](const InstallerContext& ctx) { uninstall_hotfix(ctx, id); }};
}

// The test's power losses are simulated, so real fsyncs (SQLite's) only cost time: roots go
// on the memory filesystem when there is one and TMPDIR does not say otherwise.
void prefer_memory_filesystem() {
  if (std::getenv("TMPDIR") == nullptr && ::access("/dev/shm", W_OK) == 0) {
    ::setenv("TMPDIR", "/dev/shm", 0);
  }
}

// Runs the steps one after another, each from the state the previous one left; the steps
// before `first_checked` only run, cleanly, to reach the state the checked ones start from.
void check_scenario(const std::string& scenario, const std::string& first_root,
                    const std::vector<Step>& steps, std::size_t first_checked = 0) {
  TempDir work;
  std::string old_root = first_root;
  std::uint64_t points = 0, failures = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    std::string new_root = (work / ("after-" + std::to_string(i))).string();
    if (i < first_checked) {
      hotfix::test::copy_tree(old_root, new_root);
      steps[i].run(InstallerContext(new_root));
    } else {
      Tally t = check_step(scenario, steps[i], old_root, new_root, work.path());
      points += t.points;
      failures += t.failures;
    }
    old_root = new_root;
  }
  std::cout << scenario << ": " << points << " fault points checked in all, " << failures
            << " failed\n";
  CHECK(failures == 0);
}

}  // namespace

// Two test cases, so that CTest can run them side by side.
TEST_CASE("KB967131 x64: every fault at every operation of apply recovers") {
  prefer_memory_filesystem();
  Kb967131 kb;
  check_scenario("KB967131 x64", kb.sample.image("x64"),
                 {apply_step(kb.bundle, kb.trust, "KB967131")});
}

TEST_CASE("KB967131 x64: every fault at every operation of uninstall recovers") {
  prefer_memory_filesystem();
  Kb967131 kb;
  check_scenario("KB967131 x64", kb.sample.image("x64"),
                 {apply_step(kb.bundle, kb.trust, "KB967131"), uninstall_step("KB967131")}, 1);
}

TEST_CASE("Two layered hotfixes: every fault at every operation recovers") {
  prefer_memory_filesystem();
  hotfix::test::SmallLayered l;
  check_scenario("layered", l.root,
                 {apply_step(l.bundle("KB100001"), l.trust, "KB100001"),
                  apply_step(l.bundle("KB100002"), l.trust, "KB100002"), uninstall_step("KB100001"),
                  uninstall_step("KB100002")});
}

// The upgrade takes its older revision's place from under KB100002 (a record of another
// hotfix changes, an obsolete backup goes), keeps the configuration file again, and creates
// directories; then both hotfixes go, the upgraded one first (the other order is the
// uninstall of a lower layer the test above checks).
TEST_CASE("An upgrade under a later hotfix: every fault at every operation recovers") {
  prefer_memory_filesystem();
  hotfix::test::SmallLayered l;
  check_scenario("layered upgrade", l.root,
                 {apply_step(l.bundle("KB100001"), l.trust, "KB100001"),
                  apply_step(l.bundle("KB100002"), l.trust, "KB100002"),
                  apply_step(l.bundle("KB100001", 2), l.trust, "KB100001 revision 2"),
                  uninstall_step("KB100001"), uninstall_step("KB100002")},
                 2);
}

// A reinstall after damage: one file rewritten, one removed, one re-moded; the reinstall puts
// them back from the bundle, and a fault anywhere leaves the damaged set or the repaired one.
TEST_CASE("KB967131 x64: every fault at every operation of a reinstall recovers") {
  prefer_memory_filesystem();
  Kb967131 kb;
  Step damage{"damage", [](const InstallerContext& ctx) {
                const std::string dir = ctx.root.path() + "/Windows/System32/inetsrv/";
                hotfix::test::write_file(dir + "iisres.dll", "not the hotfix's\n");
                std::filesystem::remove(dir + "appcmd.exe");
                REQUIRE(::chmod((dir + "iisutil.dll").c_str(), 0600) == 0);
              }};
  Step reinstall{"reinstall KB967131", [&kb](const InstallerContext& ctx) {
                   apply_bundle(ctx, kb.bundle, kb.trust, {false, false, true});
                 }};
  check_scenario("KB967131 x64", kb.sample.image("x64"),
                 {apply_step(kb.bundle, kb.trust, "KB967131"), damage, reinstall}, 2);
}
