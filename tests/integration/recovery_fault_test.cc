// Faults injected into recovery itself (docs/transaction.md, "Recovery under faults"). For two
// small hotfixes layered over the same files, each step (apply, uninstall) is first cut by a
// crash or a power loss at operations chosen from its clean run to cover every phase the
// journal distinguishes. Recovery of each such root is then itself failed with EIO or ENOSPC,
// cut by a crash, or cut by a power loss at every one of its operations in turn. A clean
// recovery after that must leave the complete old set (when the interrupted step had not
// committed) or the complete new set (when it had), byte for byte with modes and times, the
// database agreeing, verify passing and nothing temporary left.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>

#include "installer/installer.h"
#include "installer/state_db.h"
#include "installer/verify.h"
#include "manifests/errors.h"
#include "tests/support/fault_disk.h"
#include "tests/support/root_image.h"
#include "tests/support/run.h"
#include "tests/support/small_layered.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_copy.h"
#include "tests/support/tree_snapshot.h"

using namespace hotfix;
using namespace hotfix::test;
namespace fs = std::filesystem;

namespace {

struct Step {
  std::string name;
  std::function<void(const InstallerContext&)> run;
};

// Where the interrupted step is cut: before operation `k` (counted from 1) of its clean run.
struct Cut {
  std::string phase;
  std::uint64_t k = 0;
};

// "rename /root/a" -> {"rename", "/root/a"}; "commit state database" -> {"commit", ...}.
std::pair<std::string, std::string> split(const std::string& entry) {
  auto at = entry.find(" /");
  if (at == std::string::npos) return {entry.substr(0, entry.find(' ')), ""};
  return {entry.substr(0, at), entry.substr(at + 1)};
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Picks the cuts from the clean run's operation log by operation name. `every`: every
// operation from the first journal write to the end, instead of one per phase.
std::vector<Cut> choose_cuts(const std::vector<std::string>& log, bool every) {
  const std::size_t none = log.size();
  auto find = [&](std::size_t from,
                  const std::function<bool(const std::string&, const std::string&)>& match) {
    for (std::size_t i = from; i < log.size(); ++i) {
      auto [op, path] = split(log[i]);
      if (match(op, path)) return i;
    }
    return none;
  };
  auto journal_rename = [](const std::string& op, const std::string& path) {
    return op == "rename" && ends_with(path, "/journal.json");
  };
  auto dir_sync = [](const std::string& op, const std::string&) { return op == "fsync directory"; };
  auto syncfs = [](const std::string& op, const std::string&) { return op == "syncfs"; };
  // Indexes into the log (operation i + 1); a cut "after i" is at k = i + 2.
  std::size_t j1 = find(0, journal_rename);
  std::size_t d1 = find(j1, dir_sync);
  std::size_t j2 = find(d1, journal_rename);
  std::size_t d2 = find(j2, dir_sync);
  std::size_t commit =
      find(d2, [](const std::string& op, const std::string&) { return op == "commit"; });
  std::size_t last_journal_remove = none;
  for (std::size_t i = 0; i < log.size(); ++i) {
    auto [op, path] = split(log[i]);
    if (op == "remove" && ends_with(path, "/journal.json")) last_journal_remove = i;
  }
  REQUIRE(commit != none);
  REQUIRE(d2 != none);
  REQUIRE(last_journal_remove != none);

  std::vector<Cut> cuts;
  if (every) {
    for (std::size_t i = j1; i <= last_journal_remove + 1; ++i) {
      cuts.push_back({"operation " + std::to_string(i + 1) + " (" + log[i] + ")", i + 1});
    }
    return cuts;
  }
  // One cut per phase the journal distinguishes (HOTFIX_RECOVERY_FAULTS=all for every one).
  std::size_t staged = find(d1, [](const std::string& op, const std::string& path) {
    return (op == "create" || op == "link") && path.find(".hotfix-") != std::string::npos;
  });
  if (staged < j2) {
    if (split(log[staged + 1]).first == "write") ++staged;
    cuts.push_back({"mid-staging, the first staged file written", staged + 2});
  } else {
    cuts.push_back({"journal 'preparing' durable, nothing to stage", d1 + 2});
  }
  cuts.push_back({"journal 'prepared' durable, nothing swapped", d2 + 2});
  std::size_t s2 = find(d2, syncfs);
  if (d2 + 2 < s2) cuts.push_back({"mid-swap, one file swapped", d2 + 3});
  cuts.push_back({"everything swapped, before its sync", s2 + 1});
  cuts.push_back({"just before the database commit", commit + 1});
  cuts.push_back({"just after the database commit", commit + 2});
  if (commit + 2 < last_journal_remove) cuts.push_back({"mid-cleanup", commit + 3});
  cuts.push_back({"journal removed, its directory not yet synced", last_journal_remove + 2});
  return cuts;
}

// The child's exit status: the command's outcome, and whether the fault fired.
enum class Outcome { kSucceeded = 0, kFailedCleanly = 1, kFailedOddly = 2 };
constexpr int kFiredBit = 16;

std::string read_if_any(const std::string& file) {
  return fs::exists(file) ? read_file(file) : std::string();
}

// A root's state apart from the transaction ids the step made: for interrupted roots that are
// the same whatever the id, recovery has the same work to do.
std::string interrupted_key(const std::string& root, const std::set<std::string>& known) {
  std::string text;
  for (const auto& [path, value] : snapshot_tree(root)) {
    if (untracked_state_files().count(path)) continue;
    std::string what = value;
    if (ends_with(path, "/journal.json")) {
      what = read_file(root + "/" + path);
    } else if (path.find(".hotfix-") != std::string::npos) {
      what = what.substr(0, what.find_last_of(' '));  // a staged file's time is the clock's
    }
    text += path + " " + what + "\n";
  }
  text += database_summary(root);
  std::string out;
  std::set<std::string> ids = txids_in(text);
  for (const std::string& id : ids) {
    if (known.count(id)) continue;
    for (std::size_t at = text.find(id); at != std::string::npos; at = text.find(id, at)) {
      text.replace(at, id.size(), "NEW");
    }
  }
  return text;
}

bool verify_passes(const std::string& root, std::string& detail) {
  StateDb db = StateDb::open(root + "/" + kStateDirectory + "/state.db", StateDb::Mode::kReadOnly);
  VerifyOptions options;
  options.threads = 1;
  VerifyReport report = verify_installed(Root::open(root), db.hotfixes(true, false), options);
  for (const FileCheck& f : report.files) {
    if (!f.ok()) detail += f.hotfix_id + " " + f.path + " " + f.codes() + " " + f.detail + "\n";
  }
  return report.intact();
}

struct Tally {
  std::uint64_t interrupted = 0, duplicates = 0, points = 0, failures = 0;
};

class RecoveryChecker {
 public:
  RecoveryChecker(std::string scenario, const fs::path& work)
      : scenario_(std::move(scenario)), work_(work) {}

  // Runs `step` on a copy of `old_root` cleanly (leaving the new set in `new_root`), then cuts
  // it at each chosen operation, and checks every fault in the recovery of each cut.
  void check_step(const Step& step, const std::string& old_root, const std::string& new_root,
                  bool every_cut) {
    copy_tree(old_root, new_root);
    std::vector<std::string> log;
    {
      FaultDisk clean(new_root, old_root, untracked_state_files(), path("report"));
      step.run({new_root, &clean, true});
      REQUIRE(clean.model_mismatch() == "");
      log = clean.log();
    }
    known_ = known_txids(old_root);
    old_ = root_image(old_root, known_);
    new_ = root_image(new_root, known_);
    REQUIRE_FALSE(old_ == new_);

    std::uint64_t commit_at = 0;  // the commit's operation number
    for (std::size_t i = 0; i < log.size(); ++i) {
      if (split(log[i]).first == "commit") commit_at = i + 1;
    }
    std::set<std::string> seen;
    Tally tally;
    const std::vector<Cut> cuts = choose_cuts(log, every_cut);
    if (!every_cut) {
      for (const Cut& cut : cuts) {
        std::cout << scenario_ << ": " << step.name << ": cut at operation " << cut.k << ", "
                  << cut.phase << "\n";
      }
    }
    for (const Cut& cut : cuts) {
      for (FaultKind kind : {FaultKind::kCrash, FaultKind::kPowerLoss}) {
        std::string where = scenario_ + ": " + step.name + " cut by " +
                            std::string(fault_kind_name(kind)) + " at operation " +
                            std::to_string(cut.k) + " of " + std::to_string(log.size()) + ", " +
                            cut.phase + " (" +
                            (cut.k <= log.size() ? log[cut.k - 1] : std::string("the end")) + ")";
        INFO(where);
        const std::string interrupted = path("interrupted");
        fs::remove_all(interrupted);
        copy_root_linked(old_root, interrupted);
        int code = run_child([&] {
          FaultDisk disk(interrupted, old_root, untracked_state_files(), path("report"));
          disk.arm(cut.k, kind);
          step.run({interrupted, &disk, true});
          return static_cast<int>(Outcome::kSucceeded) | (disk.fired() ? kFiredBit : 0);
        });
        REQUIRE(code == kStoppedDead);
        if (!seen.insert(interrupted_key(interrupted, known_)).second) {
          ++tally.duplicates;
          continue;
        }
        ++tally.interrupted;
        check_recovery(interrupted, cut.k >= commit_at + 1, where, tally);
      }
    }
    std::cout << scenario_ << ": " << step.name << ": " << log.size() << " operations, "
              << tally.interrupted << " distinct interrupted roots (" << tally.duplicates
              << " duplicates), " << tally.points << " recovery fault points checked, "
              << tally.failures << " failed\n";
    CHECK(tally.failures == 0);
    CHECK(tally.interrupted > 0);
  }

 private:
  std::string path(const std::string& name) const { return (work_ / name).string(); }

  void clear_messages() {
    fs::remove(path("report"));
    fs::remove(path("error"));
    fs::remove(path("result"));
  }

  // Runs `body` here, as run_child would in a child.
  int run_here(const std::function<int()>& body) {
    clear_messages();
    try {
      return body();
    } catch (const std::exception& e) {
      write_file(path("error"), e.what());
      return static_cast<int>(Outcome::kFailedOddly);
    }
  }

  // Runs `body` in a fork()ed child and returns its exit status (the FaultDisk may stop it
  // dead: kStoppedDead); an exception escaping `body` is written to the error file.
  int run_child(const std::function<int()>& body) {
    clear_messages();
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = static_cast<int>(Outcome::kFailedOddly);
      try {
        code = body();
      } catch (const std::exception& e) {
        write_file(path("error"), e.what());
      }
      ::_exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // Recovers `interrupted` once cleanly to count its operations, then once per operation and
  // fault kind, each followed by a clean recovery and the checks.
  void check_recovery(const std::string& interrupted, bool committed, const std::string& where,
                      Tally& tally) {
    const RootImage& expected = committed ? new_ : old_;
    std::vector<std::string> log;
    {
      const std::string probe = path("probe");
      fs::remove_all(probe);
      copy_root_linked(interrupted, probe);
      FaultDisk clean(probe, interrupted, untracked_state_files(), path("report"));
      recover_root({probe, &clean, true});
      log = clean.log();
      // Named as in the roots the faults are injected into.
      for (std::string& entry : log) {
        if (auto at = entry.find(probe); at != std::string::npos) {
          entry.replace(at, probe.size(), path("root"));
        }
      }
    }
    const std::uint64_t m = log.size();
    std::vector<std::pair<std::uint64_t, FaultKind>> points;
    const std::uint64_t stride = hotfix::test::fault_stride();
    for (std::uint64_t j = 1; j <= m; ++j) {
      if ((j - 1) % stride != 0 && j != m) continue;  // the last operation always
      for (FaultKind kind : {FaultKind::kError, FaultKind::kCrash, FaultKind::kPowerLoss}) {
        points.emplace_back(j, kind);
      }
    }
    points.emplace_back(m + 1, FaultKind::kPowerLoss);  // right after recovery finished

    const std::string root = path("root");
    for (const auto& [j, kind] : points) {
      fs::remove_all(root);
      copy_root_linked(interrupted, root);
      auto faulty_recovery = [&, j = j, kind = kind] {
        int outcome = static_cast<int>(Outcome::kSucceeded);
        FaultDisk disk(root, interrupted, untracked_state_files(), path("report"));
        disk.arm(j, kind);
        try {
          write_file(path("result"), recover_root({root, &disk, true}));
        } catch (const hotfix::Error& e) {
          write_file(path("error"), std::to_string(static_cast<int>(e.kind())) + " " + e.what());
          outcome = static_cast<int>(Outcome::kFailedCleanly);
        }
        if (j > m) disk.lose_power();
        return outcome | (disk.fired() ? kFiredBit : 0);
      };
      // An error stops nothing: it runs here, saving a third of the forks (the cost of the
      // test, under AddressSanitizer most of all).
      int code = kind == FaultKind::kError ? run_here(faulty_recovery) : run_child(faulty_recovery);

      INFO(where);
      INFO("recovery: " << fault_kind_name(kind) << " at operation " << j << " of " << m << " ("
                        << (j <= m ? log[j - 1] : std::string("after recovery finished")) << ")");
      bool ok = true;
      auto expect = [&](bool condition, const std::string& what) {
        if (!condition) {
          ok = false;
          FAIL_CHECK(what);
        }
      };
      const std::string error = read_if_any(path("error"));
      const std::string report = read_if_any(path("report"));
      std::vector<std::string> messages;  // what each recovery that finished said
      if (kind == FaultKind::kError) {
        // Recovery must not hide an I/O error: it fails, as a system error (exit code
        // kSystem), naming the cause.
        expect(code == (kFiredBit | static_cast<int>(Outcome::kFailedCleanly)),
               "exit " + std::to_string(code) + " " + error + report);
        std::string kind_prefix = std::to_string(static_cast<int>(ErrorKind::kSystem)) + " ";
        expect(error.rfind(kind_prefix, 0) == 0,
               "not reported as a system error (exit code " +
                   std::to_string(static_cast<int>(exit_code_for(ErrorKind::kSystem))) +
                   "): " + error);
        expect(error.find(std::strerror(FaultDisk::error_for(j))) != std::string::npos,
               "the error does not name the cause: " + error);
      } else {
        expect(code == kStoppedDead, "exit " + std::to_string(code) + " " + error + report);
        if (fs::exists(path("result"))) messages.push_back(read_file(path("result")));
      }

      try {
        if (j == 1) {
          // Once per interrupted root, the clean recovery is the real program's.
          RunResult r = run({installer_path(), "recover", "--root", root});
          expect(r.exit_code == 0,
                 "hotfix-installer recover: exit " + std::to_string(r.exit_code) + " " + r.err);
          messages.push_back(r.out);
        } else {
          messages.push_back(recover_root(InstallerContext(root)));
        }
        RootImage now = root_image(root, known_);
        expect(now == expected, std::string("not the ") + (committed ? "new" : "old") +
                                    " set after recovery:\n" + describe_difference(expected, now));
        std::string left = transaction_leftovers_under(root);
        expect(left.empty(), "left behind after recovery:\n" + left);
        std::string detail;
        expect(verify_passes(root, detail), "verify fails after recovery:\n" + detail);
        expect(recover_root(InstallerContext(root)) == "nothing to recover",
               "a second recovery still had something to do");
        const char* direction = committed ? "rolled forward" : "rolled back";
        for (const std::string& said : messages) {
          if (said.find("nothing to recover") != std::string::npos) continue;
          expect(said.find(direction) != std::string::npos,
                 std::string("recovery should have ") + direction + ": " + said);
        }
      } catch (const std::exception& e) {
        expect(false, std::string("recovery failed: ") + e.what());
      }
      ++tally.points;
      if (!ok) ++tally.failures;
    }
    if (stride == 1) CHECK(points.size() == m * 3 + 1);
  }

  std::string scenario_;
  fs::path work_;
  std::set<std::string> known_;
  RootImage old_, new_;
};

Step apply_step(const SmallLayered& l, const std::string& id, std::uint64_t revision = 1) {
  return {"apply " + id + (revision > 1 ? " revision " + std::to_string(revision) : ""),
          [bundle = l.bundle(id, revision), &l](const InstallerContext& ctx) {
            apply_bundle(ctx, bundle, l.trust, {});
          }};
}

Step uninstall_step(const std::string& id, const std::string& label = "") {
  return {"uninstall " + id + label,
          [id](const InstallerContext& ctx) { uninstall_hotfix(ctx, id); }};
}

// Power losses are simulated, so SQLite's real fsyncs only cost time: roots go on the memory
// filesystem when there is one and TMPDIR does not say otherwise.
void prefer_memory_filesystem() {
  if (std::getenv("TMPDIR") == nullptr && ::access("/dev/shm", W_OK) == 0) {
    ::setenv("TMPDIR", "/dev/shm", 0);
  }
}

// HOTFIX_RECOVERY_FAULTS=all: cut each step at every operation while its journal is in
// force, not once per phase.
bool every_cut() {
  const char* v = std::getenv("HOTFIX_RECOVERY_FAULTS");
  return v != nullptr && std::string(v) == "all";
}

// Runs the steps in order from the original tree; the ones before `checked` only run, cleanly,
// to reach the state it starts from.
void check_layered_step(const std::function<std::vector<Step>(const SmallLayered&)>& steps_of,
                        std::size_t checked) {
  prefer_memory_filesystem();
  SmallLayered l;
  std::vector<Step> steps = steps_of(l);
  TempDir work;
  std::string old_root = l.root;
  for (std::size_t i = 0; i <= checked; ++i) {
    std::string new_root = (work / ("after-" + std::to_string(i))).string();
    if (i < checked) {
      copy_tree(old_root, new_root);
      steps[i].run(InstallerContext(new_root));
    } else {
      RecoveryChecker("layered", work.path()).check_step(steps[i], old_root, new_root, every_cut());
    }
    old_root = new_root;
  }
}

// Apply KB100001, apply KB100002, uninstall KB100001 from under KB100002, uninstall KB100002.
std::vector<Step> layered(const SmallLayered& l) {
  return {apply_step(l, "KB100001"), apply_step(l, "KB100002"), uninstall_step("KB100001"),
          uninstall_step("KB100002")};
}

// Apply KB100001, apply KB100002, upgrade KB100001 to revision 2 under KB100002, uninstall
// KB100001.
std::vector<Step> upgraded(const SmallLayered& l) {
  return {apply_step(l, "KB100001"), apply_step(l, "KB100002"), apply_step(l, "KB100001", 2),
          uninstall_step("KB100001", " revision 2")};
}

}  // namespace

// One test case per step, so that CTest can run them side by side.
TEST_CASE("Faults in the recovery of an interrupted apply (new directory, kept file)") {
  check_layered_step(layered, 0);
}

// Mostly what the first case and the upgrade check: only in the long run, for the time budget.
TEST_CASE("Faults in the recovery of an interrupted apply over an earlier hotfix") {
  if (!every_cut()) {
    std::cout << "layered: apply KB100002: checked only with HOTFIX_RECOVERY_FAULTS=all\n";
    return;
  }
  check_layered_step(layered, 1);
}

TEST_CASE("Faults in the recovery of an interrupted uninstall from under a later hotfix") {
  check_layered_step(layered, 2);
}

TEST_CASE("Faults in the recovery of an interrupted uninstall of the last hotfix") {
  check_layered_step(layered, 3);
}

TEST_CASE("Faults in the recovery of an interrupted upgrade under a later hotfix") {
  check_layered_step(upgraded, 2);
}

TEST_CASE("Faults in the recovery of an interrupted uninstall that removes created directories") {
  check_layered_step(upgraded, 3);
}
