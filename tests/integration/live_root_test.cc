// The default root "/" is the main case: the installer runs inside a chroot of the KB967131
// server image, in a private mount namespace (scripts/live-root.sh), with no --root at all,
// through apply, verify, list, status, history, uninstall, and a recovery after a crash in the
// middle of the swap. Needs root (for the namespace and the chroot); skipped visibly without.
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "installer/installer.h"
#include "tests/support/fault_disk.h"
#include "tests/support/json_output.h"
#include "tests/support/kb967131_sample.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_snapshot.h"

using hotfix::test::Kb967131Sample;
using hotfix::test::RunResult;
using hotfix::test::TempDir;
namespace fs = std::filesystem;
using Snapshot = std::map<std::string, std::string>;

namespace {

const std::string kState = "var/lib/hotfix";
// What scripts/live-root.sh adds to an image to run a program in it.
const std::set<std::string> kScaffolding = {"usr", "proc",  "dev", "opt",
                                            "lib", "lib64", "bin", "sbin"};

const Kb967131Sample& sample() {
  static Kb967131Sample s({"x64"});
  return s;
}

// Why a chroot in a private mount namespace cannot be had here; empty when it can.
std::string why_no_chroot() {
  if (::geteuid() != 0) return "not running as root";
  RunResult r = hotfix::test::run({"/usr/bin/unshare", "--mount", "--", "/bin/true"});
  return r.exit_code == 0 ? "" : "unshare --mount failed: " + r.err;
}

#define SKIP_WITHOUT_CHROOT()                                                                \
  if (std::string why = why_no_chroot(); !why.empty()) {                                     \
    WARN("SKIPPED: the live-root test needs a chroot in a mount namespace (" << why << ")"); \
    return;                                                                                  \
  }

// An image with the bundle and the key at /srv, and the mount points live-root.sh adds.
struct LiveImage {
  TempDir tmp;
  std::string image = sample().root(tmp);
  LiveImage() {
    fs::create_directories(image + "/srv");
    fs::copy_file(sample().bundle("x64"), image + "/srv/KB967131-x64.hotfix");
    fs::copy_file(sample().pub(), image + "/srv/release.pub");
    // The mount points are made once, so that every snapshot has them.
    REQUIRE(installer({"facts"}).exit_code == 0);
  }
  // hotfix-installer ARGS with the image as "/": no --root.
  RunResult installer(const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {}) const {
    std::vector<std::string> argv{"/bin/bash", hotfix::test::source_path("scripts/live-root.sh"),
                                  image, hotfix::test::installer_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return hotfix::test::run(argv, env);
  }
  RunResult apply() const {
    return installer({"apply", "/srv/KB967131-x64.hotfix", "--trust", "/srv/release.pub"});
  }
  // The image without the installer's state and the restart flags.
  Snapshot snapshot() const {
    Snapshot s = hotfix::test::snapshot_tree(image, kState);
    for (const char* extra : {"var", "var/lib", "var/lib/hotfix", "run", "run/reboot-required",
                              "run/reboot-required.pkgs"}) {
      s.erase(extra);
    }
    return s;
  }
};

}  // namespace

TEST_CASE("the whole cycle runs on the default root / inside a chroot") {
  SKIP_WITHOUT_CHROOT();
  LiveImage live;
  const Snapshot before = live.snapshot();

  RunResult r = live.apply();
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 10);  // applied, a reboot is required
  CHECK(r.out.find("a reboot is required by KB967131") != std::string::npos);
  CHECK(fs::exists(live.image + "/Windows/System32/inetsrv/appcmd.exe"));
  CHECK(fs::exists(live.image + "/var/lib/hotfix/state.db"));  // inside the image, not the host

  RunResult v = live.installer({"verify"});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("47 files checked, 0 differ") != std::string::npos);
  RunResult list = live.installer({"list", "--json"});
  REQUIRE(list.exit_code == 0);
  auto doc = hotfix::test::json_data(list.out)["hotfixes"];
  REQUIRE(doc.size() == 1);
  CHECK(doc[0]["id"] == "KB967131");
  RunResult st = live.installer({"status"});
  CHECK(st.exit_code == 10);
  // The need knows the kernel's boot: after a reboot (another boot id) it is done.
  hotfix::test::write_file(live.tmp / "boot_id", "5b0c1e2d-3f4a-4b5c-8d6e-7f8091a2b3c4\n");
  RunResult rebooted =
      live.installer({"status"}, {"LIVE_ROOT_BOOT_ID=" + (live.tmp / "boot_id").string()});
  INFO(rebooted.out << rebooted.err);
  CHECK(rebooted.exit_code == 0);
  CHECK(rebooted.out.find("is done: the machine has started since") != std::string::npos);
  CHECK_FALSE(
      fs::exists(live.image + "/run/reboot-required.hotfix-boot"));  // the boot id, not a marker
  CHECK(hotfix::test::read_file(live.image + "/run/reboot-required.pkgs") == "KB967131\n");
  CHECK(live.installer({"history"}).out.find("applied") != std::string::npos);
  CHECK(live.apply().out.find("already installed") != std::string::npos);

  RunResult u = live.installer({"uninstall", "KB967131"});
  INFO(u.out << u.err);
  CHECK(u.exit_code == 10);  // taking it out needs the reboot too
  CHECK(hotfix::test::json_data(live.installer({"list", "--json"}).out)["hotfixes"].empty());
  CHECK(live.installer({"recover"}).out.find("nothing to recover") != std::string::npos);
  const Snapshot after = live.snapshot();
  INFO(hotfix::test::describe_difference(before, after));
  CHECK(after == before);
}

TEST_CASE("a crash in the middle of the swap on the live root is recovered by the next command") {
  SKIP_WITHOUT_CHROOT();
  hotfix::TrustStore trust;
  trust.add_path(sample().pub());
  std::set<std::string> untracked = kScaffolding;
  for (const char* f : {"state.db", "state.db-wal", "state.db-shm", "lock"}) {
    untracked.insert(kState + "/" + f);
  }
  // Where the swap is: one clean run through a counting disk, on a copy with a --root.
  std::vector<std::uint64_t> renames;
  {
    LiveImage counting;
    hotfix::test::FaultDisk disk(counting.image, sample().image("x64"), untracked,
                                 (counting.tmp / "report").string());
    hotfix::apply_bundle({counting.image, &disk, true}, sample().bundle("x64"), trust, {});
    for (std::size_t i = 0; i < disk.log().size(); ++i) {
      const std::string& op = disk.log()[i];
      if (op.rfind("rename /Windows/", 0) == 0) renames.push_back(i + 1);
    }
  }
  REQUIRE(renames.size() == 40);  // one per replaced file
  const std::uint64_t k = renames[renames.size() / 2];

  LiveImage live;
  const Snapshot before = live.snapshot();
  pid_t pid = ::fork();
  if (pid == 0) {
    // The installer's own process, with the image as its "/": the library on the default root.
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::chroot(live.image.c_str()) != 0 || ::chdir("/") != 0) {
      ::_exit(90);
    }
    try {
      hotfix::test::FaultDisk disk("/", "/", untracked, "/fault-report");
      disk.arm(k, hotfix::test::FaultKind::kCrash);
      hotfix::apply_bundle({"/", &disk, true}, "/srv/KB967131-x64.hotfix", trust, {});
    } catch (...) {
      ::_exit(91);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == hotfix::test::kStoppedDead);
  CHECK(fs::exists(live.image + "/var/lib/hotfix/journal.json"));

  RunResult st = live.installer({"status", "--json"});
  INFO(st.out << st.err);
  CHECK(hotfix::test::json_data(st.out)["interrupted_transaction"] == true);
  RunResult rec = live.installer({"recover"});
  INFO(rec.out << rec.err);
  REQUIRE(rec.exit_code == 0);
  CHECK(rec.out.find("rolled back") != std::string::npos);
  const Snapshot after = live.snapshot();
  INFO(hotfix::test::describe_difference(before, after));
  CHECK(after == before);
  // And the server is not wedged: the hotfix applies and verifies.
  CHECK(live.apply().exit_code == 10);
  CHECK(live.installer({"verify"}).exit_code == 0);
}

// Sources, sync and apply by id on "/" as on a server: one source read from a USB stick
// (file:///srv/repo inside the image), one over http from a real nginx on 127.0.0.1.
TEST_CASE("a repository's hotfix is synced and applied by id on the default root /") {
  SKIP_WITHOUT_CHROOT();
  if (!hotfix::test::nginx_available()) {
    WARN("SKIPPED: nginx is not installed (scripts/setup.sh)");
    return;
  }
  LiveImage live;
  std::string packager = hotfix::test::packager_path();
  std::string repo = live.image + "/srv/repo";
  std::string release = sample().pub().substr(0, sample().pub().size() - 4) + ".key";
  for (const char* k : {"root", "online"}) {
    REQUIRE(hotfix::test::run({packager, "keygen", "--out", (live.tmp / k).string()}).exit_code ==
            0);
  }
  REQUIRE(hotfix::test::run({packager, "repo", "init", repo, "--root-key",
                             (live.tmp / "root.key").string(), "--targets-key", release,
                             "--online-key", (live.tmp / "online.key").string()})
              .exit_code == 0);
  REQUIRE(hotfix::test::run({packager, "repo", "add", repo, sample().bundle("x64"), "--targets-key",
                             release, "--online-key", (live.tmp / "online.key").string()})
              .exit_code == 0);
  hotfix::test::NginxServer nginx((live.tmp / "nginx").string(), live.image + "/srv");
  const Snapshot before = live.snapshot();

  RunResult added = live.installer({"source", "add", "corp", nginx.url() + "/repo",
                                    "--root-metadata", "/srv/repo/metadata/1.root.json"});
  INFO(added.out << added.err);
  REQUIRE(added.exit_code == 0);
  REQUIRE(live.installer({"source", "add", "usb", "file:///srv/repo", "--root-metadata",
                          "/srv/repo/metadata/1.root.json"})
              .exit_code == 0);
  CHECK(fs::exists(live.image + "/etc/hotfix/sources.d/corp.json"));  // in the image
  RunResult synced = live.installer({"sync", "--json"});
  INFO(synced.out << synced.err);
  REQUIRE(synced.exit_code == 0);
  auto sources = hotfix::test::json_data(synced.out)["sources"];
  REQUIRE(sources.size() == 2);
  for (const auto& s : sources) {
    REQUIRE(s["offers"].size() == 1);
    CHECK(s["offers"][0]["state"] == "applicable");
  }
  RunResult applied = live.installer({"apply", "KB967131", "--source", "corp"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 10);
  CHECK(nginx.pid() > 0);
  CHECK(live.installer({"verify"}).out.find("47 files checked, 0 differ") != std::string::npos);
  RunResult after = live.installer({"sync", "--source", "usb", "--json"});
  CHECK(hotfix::test::json_data(after.out)["sources"][0]["offers"][0]["state"] == "installed");
  // Uninstalled, the image is as it was but for the sources and the cache.
  REQUIRE(live.installer({"uninstall", "KB967131"}).exit_code == 10);
  Snapshot now = live.snapshot();
  for (auto it = now.begin(); it != now.end();) {
    bool added_here = it->first.starts_with("etc/hotfix") || it->first.starts_with("var/cache");
    it = added_here && !before.count(it->first) ? now.erase(it) : std::next(it);
  }
  INFO(hotfix::test::describe_difference(before, now));
  CHECK(now == before);
}
