// The root's writer lock (installer/root_lock.h): one writer at a time, readers tell a holder
// without taking it, and a lock file that is not a regular file is refused, never followed.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "installer/root_lock.h"
#include "manifests/errors.h"
#include "tests/support/temp_dir.h"

using hotfix::Root;
using hotfix::RootLock;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kState = "var/lib/hotfix";

struct LockRoot {
  TempDir dir;
  std::string root = (dir / "root").string();
  LockRoot() { fs::create_directories(root + "/" + kState); }
  Root open() const { return Root::open(root); }
};

}  // namespace

TEST_CASE("A second writer is busy, and readers see the holder without taking the lock") {
  LockRoot r;
  Root root = r.open();
  CHECK_FALSE(hotfix::lock_holder(root, kState).held);
  {
    RootLock first(root, kState, false);
    hotfix::LockHolder holder = hotfix::lock_holder(root, kState);
    CHECK(holder.held);
    CHECK(holder.pid == static_cast<long>(::getpid()));
    try {
      RootLock second(root, kState, false);
      FAIL("a second writer took the lock");
    } catch (const hotfix::Error& e) {
      CHECK(e.kind() == hotfix::ErrorKind::kBusy);
      CHECK_THAT(e.what(), Catch::Contains("busy: another installer is changing this root"));
    }
  }
  CHECK_FALSE(hotfix::lock_holder(root, kState).held);
  CHECK(hotfix::test::read_file(r.root + "/" + kState + "/lock").empty());  // released, pid gone
}

TEST_CASE("A lock file that is a link or a FIFO is refused, and what it points to untouched") {
  LockRoot r;
  const std::string victim = (r.dir / "victim.txt").string();
  hotfix::test::write_file(victim, "precious\n");
  SECTION("a link") { fs::create_symlink(victim, r.root + "/" + kState + "/lock"); }
  SECTION("a FIFO") { REQUIRE(::mkfifo((r.root + "/" + kState + "/lock").c_str(), 0600) == 0); }
  Root root = r.open();
  CHECK_THROWS_AS(RootLock(root, kState, false), hotfix::Error);
  CHECK_FALSE(hotfix::lock_holder(root, kState).held);
  CHECK(hotfix::test::read_file(victim) == "precious\n");
}

TEST_CASE("A state directory reached through a link is not locked") {
  LockRoot r;
  fs::rename(r.root + "/var/lib", r.root + "/var/lib.real");
  fs::create_symlink("lib.real", r.root + "/var/lib");
  CHECK_THROWS_AS(RootLock(r.open(), kState, false), hotfix::UnsafePathError);
}

TEST_CASE("A waiting writer says whose lock it waits for, and gives up at its timeout") {
  LockRoot r;
  Root root = r.open();
  RootLock first(root, kState, false);
  std::vector<std::string> notices;
  hotfix::LockWait how{true, std::chrono::milliseconds(300),
                       [&](const std::string& line) { notices.push_back(line); }};
  const auto start = std::chrono::steady_clock::now();
  try {
    RootLock second(root, kState, how);
    FAIL("a second writer took the lock");
  } catch (const hotfix::Error& e) {
    CHECK(e.kind() == hotfix::ErrorKind::kBusy);
    CHECK_THAT(e.what(), Catch::Contains("(pid " + std::to_string(::getpid()) + " since "));
    CHECK_THAT(e.what(), Catch::Contains("gave up after 0.3 s (--lock-timeout)"));
  }
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
  REQUIRE(notices.size() == 1);
  CHECK_THAT(notices[0], Catch::StartsWith("waiting for the lock held by pid " +
                                           std::to_string(::getpid()) + " since "));
  CHECK_THAT(notices[0], Catch::EndsWith("(" + r.root + "/" + kState + "/lock)"));
}

TEST_CASE("A writer with a timeout takes the lock once the holder lets go") {
  LockRoot r;
  Root root = r.open();
  auto first = std::make_unique<RootLock>(root, kState, false);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    first.reset();
  });
  int notices = 0;
  hotfix::LockWait how{true, std::chrono::seconds(20), [&](const std::string&) { ++notices; }};
  RootLock second(root, kState, how);
  release.join();
  CHECK(notices == 1);
  CHECK(hotfix::lock_holder(root, kState).pid == static_cast<long>(::getpid()));
}

TEST_CASE("A free lock is taken without a notice, whatever the timeout") {
  LockRoot r;
  int notices = 0;
  hotfix::LockWait how{true, std::chrono::milliseconds(0), [&](const std::string&) { ++notices; }};
  RootLock lock(r.open(), kState, how);
  CHECK(notices == 0);
}
