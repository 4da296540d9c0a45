// The symlink-swap race (rpm's CVE-2021-35938/35939 class): whoever may write a directory the
// installer works in swaps it for a symbolic link to outside the root, between any two of its
// operations. At every operation of apply, uninstall and recovery, in turn, the directory that
// operation works in is swapped for a link into a sentinel tree outside the root, a copy of
// the root itself, so that a write that followed the link would land on a matching path.
// Whatever the command then does (fail, or finish in the directory it had already opened),
// the sentinel must be byte-identical: nothing outside the root is ever changed.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>

#include "installer/installer.h"
#include "tests/support/fault_disk.h"
#include "tests/support/root_image.h"
#include "tests/support/small_layered.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_copy.h"
#include "tests/support/tree_snapshot.h"

using namespace hotfix;
using hotfix::test::FaultDisk;
using hotfix::test::FaultKind;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

using Run = std::function<void(const InstallerContext&)>;

struct Swaps {
  std::uint64_t operations = 0, refused = 0, finished = 0;
};

// Runs `run` on a fresh copy of `start` once cleanly to count its operations, then once per
// operation with that operation's directory swapped for a link into `outside`.
Swaps swap_at_every_operation(const std::string& start, const Run& run, const fs::path& work,
                              const std::string& outside) {
  const std::set<std::string>& untracked = hotfix::test::untracked_state_files();
  const std::string root = (work / "root").string();
  const auto sentinel = hotfix::test::snapshot_tree(outside);
  Swaps swaps;
  {
    fs::remove_all(root);
    hotfix::test::copy_root_linked(start, root);
    FaultDisk clean(root, start, untracked, (work / "report").string());
    run(InstallerContext(root, &clean));
    swaps.operations = clean.operations();
  }
  for (std::uint64_t k = 1; k <= swaps.operations; ++k) {
    fs::remove_all(root);
    hotfix::test::copy_root_linked(start, root);
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      try {
        FaultDisk disk(root, start, untracked, (work / "report").string());
        disk.arm_swap(k, outside);
        run(InstallerContext(root, &disk));
      } catch (const hotfix::Error&) {
        code = 1;  // refused: the command saw a link where it needs a directory
      } catch (...) {
        code = 2;
      }
      ::_exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO("swap before operation " << k << " of " << swaps.operations);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) <= 1);
    (WEXITSTATUS(status) == 0 ? swaps.finished : swaps.refused) += 1;
    const auto now = hotfix::test::snapshot_tree(outside);
    INFO(hotfix::test::describe_difference(sentinel, now));
    REQUIRE(now == sentinel);
  }
  return swaps;
}

void report(const std::string& step, const Swaps& s) {
  std::cout << "symlink swap, " << step << ": " << s.operations << " operations, " << s.refused
            << " refused, " << s.finished << " finished in the directories already opened\n";
}

}  // namespace

TEST_CASE(
    "a directory swapped for a link out of the root at any operation changes nothing outside") {
  hotfix::test::SmallLayered layered;
  TempDir work;
  const std::string outside = (work / "outside").string();
  hotfix::test::copy_tree(layered.root, outside);

  // apply KB100001 on the original tree
  Run apply = [&](const InstallerContext& ctx) {
    apply_bundle(ctx, layered.bundle("KB100001"), layered.trust, {});
  };
  Swaps a = swap_at_every_operation(layered.root, apply, work.path(), outside);
  report("apply", a);
  CHECK(a.operations > 40);
  CHECK(a.refused > 0);

  // uninstall KB100001 from a root it was applied to
  const std::string applied = (work / "applied").string();
  hotfix::test::copy_tree(layered.root, applied);
  apply(InstallerContext(applied));
  // The sentinel mirrors the applied root, so that restored backups would match its paths.
  fs::remove_all(outside);
  hotfix::test::copy_tree(applied, outside);
  Swaps u = swap_at_every_operation(
      applied, [](const InstallerContext& ctx) { uninstall_hotfix(ctx, "KB100001"); }, work.path(),
      outside);
  report("uninstall", u);
  CHECK(u.operations > 30);
  CHECK(u.refused > 0);

  // recovery of an apply cut by a crash just after its journal said "prepared"
  const std::string interrupted = (work / "interrupted").string();
  hotfix::test::copy_tree(layered.root, interrupted);
  std::uint64_t cut = 0;
  {
    const std::string scratch = (work / "scratch").string();
    hotfix::test::copy_tree(layered.root, scratch);
    FaultDisk counting(scratch, layered.root, hotfix::test::untracked_state_files(),
                       (work / "report").string());
    apply(InstallerContext(scratch, &counting));
    const auto& log = counting.log();
    for (std::size_t i = 0; i < log.size() && !cut; ++i) {
      if (log[i].rfind("rename /app/", 0) == 0) cut = i + 1;  // the first rename of the swap
    }
  }
  REQUIRE(cut > 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    FaultDisk disk(interrupted, layered.root, hotfix::test::untracked_state_files(),
                   (work / "report").string());
    disk.arm(cut + 1, FaultKind::kCrash);
    try {
      apply(InstallerContext(interrupted, &disk));
    } catch (...) {
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == hotfix::test::kStoppedDead);
  REQUIRE(fs::exists(interrupted + "/var/lib/hotfix/journal.json"));
  fs::remove_all(outside);
  hotfix::test::copy_tree(interrupted, outside);
  Swaps r = swap_at_every_operation(
      interrupted, [](const InstallerContext& ctx) { recover_root(ctx); }, work.path(), outside);
  report("recovery", r);
  CHECK(r.operations > 10);
  CHECK(r.refused > 0);
}
