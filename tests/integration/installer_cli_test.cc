// hotfix-installer end to end: real bundles, real roots on the real filesystem.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "installer/installer.h"
#include "manifests/manifest_json.h"
#include "tests/support/fault_disk.h"
#include "tests/support/json_output.h"
#include "tests/support/kb967131_sample.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_snapshot.h"

using hotfix::test::FaultDisk;
using hotfix::test::Kb967131Sample;
using hotfix::test::run;
using hotfix::test::RunResult;
using hotfix::test::TempDir;
namespace fs = std::filesystem;
using Snapshot = std::map<std::string, std::string>;

namespace {

const std::string kState = "var/lib/hotfix";

// The KB967131 stand-ins, a key and the x86 and x64 bundles, made once for the whole file.
const Kb967131Sample& sample() {
  static Kb967131Sample s({"x86", "x64"});
  return s;
}

RunResult installer(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), hotfix::test::installer_path());
  return run(args, env);
}

RunResult apply_to(const std::string& root, const std::string& bundle,
                   std::vector<std::string> more = {}, std::vector<std::string> env = {}) {
  std::vector<std::string> args{"apply", bundle, "--root", root, "--trust", sample().pub()};
  args.insert(args.end(), more.begin(), more.end());
  return installer(args, env);
}

bool no_temporary_files(const std::string& root) {
  for (auto& e : fs::recursive_directory_iterator(root)) {
    std::string name = e.path().filename().string();
    if (name.find(".hotfix-2") != std::string::npos || name == "journal.json") return false;
  }
  return true;
}

}  // namespace

TEST_CASE("apply, verify, list, status, uninstall: the image ends byte-identical") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  Snapshot before = hotfix::test::snapshot_tree(root);

  RunResult r = apply_to(root, sample().bundle("x64"));
  INFO(r.err);
  REQUIRE(r.exit_code == 10);  // applied, restart required
  CHECK(r.out.find("a reboot is required by KB967131") != std::string::npos);
  // Windows paths match case-insensitively and keep the name on disk.
  CHECK(fs::exists(root + "/Windows/System32/inetsrv/appcmd.exe"));
  CHECK_FALSE(fs::exists(root + "/Windows/System32/inetsrv/Appcmd.exe"));
  CHECK(r.out.find("replace  Windows/System32/inetsrv/appcmd.exe") != std::string::npos);

  CHECK(installer({"verify", "--root", root}).exit_code == 0);
  RunResult list = installer({"list", "--root", root, "--json"});
  REQUIRE(list.exit_code == 0);
  auto doc = hotfix::test::json_data(list.out)["hotfixes"];
  REQUIRE(doc.size() == 1);
  CHECK(doc[0]["id"] == "KB967131");
  CHECK(doc[0]["architecture"] == "x64");
  CHECK(installer({"status", "--root", root}).exit_code == 10);
  CHECK(fs::exists(root + "/run/reboot-required"));

  RunResult again = apply_to(root, sample().bundle("x64"));
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("already installed") != std::string::npos);

  RunResult u = installer({"uninstall", "KB967131", "--root", root});
  INFO(u.err);
  CHECK((u.exit_code == 0 || u.exit_code == 10));
  Snapshot after = hotfix::test::snapshot_tree(root);
  for (const char* extra : {"var", "var/lib", "var/lib/hotfix", "run", "run/reboot-required",
                            "run/reboot-required.pkgs", "run/reboot-required.hotfix-boot"}) {
    after.erase(extra);
  }
  for (auto it = after.begin(); it != after.end();) {
    it = it->first.rfind(kState, 0) == 0 ? after.erase(it) : std::next(it);
  }
  INFO(hotfix::test::describe_difference(before, after));
  CHECK(after == before);
  CHECK(no_temporary_files(root));
  CHECK(hotfix::test::json_data(installer({"list", "--root", root, "--json"}).out)["hotfixes"]
            .empty());
}

TEST_CASE("A dry run prints the plan and changes nothing, not even the database") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  Snapshot before = hotfix::test::snapshot_tree(root);
  RunResult r = apply_to(root, sample().bundle("x64"), {"--dry-run", "--json"});
  REQUIRE(r.exit_code == 0);
  auto doc = hotfix::test::json_data(r.out);
  CHECK(doc["results"][0]["outcome"] == "dry_run");
  CHECK(doc["results"][0]["files"].size() == 47);
  // What the apply would need, as the apply says it: KB967131 needs a reboot.
  CHECK(doc["results"][0]["restart_required"] == true);
  CHECK(hotfix::test::snapshot_tree(root) == before);
  CHECK_FALSE(fs::exists(root + "/var"));
}

TEST_CASE("refusals: another architecture, unmet prerequisites, an untrusted key") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  Snapshot before = hotfix::test::snapshot_tree(root, kState);

  RunResult r = apply_to(root, sample().bundle("x86"));
  CHECK(r.exit_code == 5);
  CHECK(r.out.find("the bundle is for x86; the target is x64") != std::string::npos);

  hotfix::test::write_file(
      root + "/etc/hotfix/system.json",
      R"({"family": "windows", "product": "Windows Vista", "version": "6.0.6000",
                               "service_pack": 0, "architecture": "x64", "hotfixes": []})");
  before = hotfix::test::snapshot_tree(root, kState);
  r = apply_to(root, sample().bundle("x64"));
  CHECK(r.exit_code == 5);
  CHECK(r.out.find("needs Windows Vista SP1 or Windows Server 2008; target is Windows Vista RTM") !=
        std::string::npos);
  CHECK(hotfix::test::snapshot_tree(root, kState) == before);
  RunResult h = installer({"history", "--root", root, "--json"});
  CHECK(hotfix::test::json_data(h.out)["entries"].back()["outcome"] == "refused");

  TempDir other;
  REQUIRE(
      run({hotfix::test::packager_path(), "keygen", "--out", (other / "o").string()}).exit_code ==
      0);
  r = installer(
      {"apply", sample().bundle("x64"), "--root", root, "--trust", (other / "o.pub").string()});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("unknown key") != std::string::npos);
  r = installer({"apply", sample().bundle("x64"), "--root", root});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("no trusted keys") != std::string::npos);
  CHECK(hotfix::test::snapshot_tree(root, kState) == before);
}

TEST_CASE("a config file the administrator changed is kept, the new one is written beside it") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  std::string config = root + "/Windows/System32/inetsrv/config/applicationHost.config";
  std::string edited =
      hotfix::test::read_file(config) + "<!-- site added by the administrator -->\n";
  hotfix::test::write_file(config, edited);
  RunResult r = apply_to(root, sample().bundle("x64"));
  REQUIRE(r.exit_code == 10);
  CHECK(r.out.find("keep     Windows/System32/inetsrv/config/applicationHost.config") !=
        std::string::npos);
  // The plan names the new file as it is written: the on-disk spelling, not the manifest's.
  CHECK(r.out.find("written beside it as applicationHost.config.hotfix-new") != std::string::npos);
  CHECK(r.out.find("Applicationhost.config.hotfix-new") == std::string::npos);
  CHECK(hotfix::test::read_file(config) == edited);
  std::string fresh = hotfix::test::read_file(config + ".hotfix-new");
  CHECK(fresh ==
        hotfix::test::read_file(
            sample().dir / "drops/x64/Windows/System32/inetsrv/config/Applicationhost.config"));
  CHECK(installer({"verify", "--root", root}).exit_code == 0);
  // Uninstalling removes the .hotfix-new file and leaves the administrator's file alone.
  installer({"uninstall", "KB967131", "--root", root});
  CHECK(hotfix::test::read_file(config) == edited);
  CHECK_FALSE(fs::exists(config + ".hotfix-new"));
}

TEST_CASE("verify reports each kind of change with rpm-style codes") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  REQUIRE(apply_to(root, sample().bundle("x64")).exit_code == 10);
  std::string dll = root + "/Windows/System32/inetsrv/iisres.dll";
  std::string bytes = hotfix::test::read_file(dll);
  bytes[bytes.size() - 10] ^= 1;
  hotfix::test::write_file(dll, bytes);
  fs::remove(root + "/Windows/System32/inetsrv/rsca.dll");
  ::chmod((root + "/Windows/System32/inetsrv/iisrtl.dll").c_str(), 0600);
  RunResult r = installer({"verify", "--root", root});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find(".5.T.  Windows/System32/inetsrv/iisres.dll") != std::string::npos);
  CHECK(r.out.find("missing  Windows/System32/inetsrv/rsca.dll") != std::string::npos);
  CHECK(r.out.find("....M  Windows/System32/inetsrv/iisrtl.dll") != std::string::npos);
  CHECK(r.out.find("47 files checked, 3 differ") != std::string::npos);
}

TEST_CASE("a crash at each step of apply: status reports it, recover restores a whole set") {
  hotfix::TrustStore trust;
  trust.add_path(sample().pub());
  const std::string original = (sample().dir / "roots/x64").string();
  const std::set<std::string> untracked = {kState + "/state.db", kState + "/state.db-wal",
                                           kState + "/state.db-shm", kState + "/lock"};
  // Where the steps are: one clean run through a counting disk.
  std::vector<std::string> log;
  {
    TempDir tmp;
    std::string root = sample().root(tmp);
    fs::create_directories(root + "/" + kState);  // as below, so that the numbers match
    FaultDisk disk(root, original, untracked, (tmp / "report").string());
    hotfix::apply_bundle({root, &disk, true}, sample().bundle("x64"), trust, {});
    log = disk.log();
  }
  auto at = [&](const std::string& prefix, int nth) -> std::uint64_t {
    for (std::size_t i = 0; i < log.size(); ++i) {
      if (log[i].rfind(prefix, 0) == 0 && log[i].find("journal.json") == std::string::npos &&
          --nth == 0) {
        return i + 1;
      }
    }
    FAIL("no operation " << prefix);
    return 0;
  };
  const std::uint64_t commit = at("commit", 1);
  // Before the swap, during it, just before the commit, just after it.
  for (std::uint64_t k : {at("rename", 1), at("rename", 20), commit, commit + 1}) {
    TempDir tmp;
    std::string root = sample().root(tmp);
    fs::create_directories(root + "/" + kState);  // the state directory itself may stay
    Snapshot before = hotfix::test::snapshot_tree(root, kState);
    pid_t pid = ::fork();
    if (pid == 0) {
      try {
        FaultDisk disk(root, original, untracked, (tmp / "report").string());
        disk.arm(k, hotfix::test::FaultKind::kCrash);
        hotfix::apply_bundle({root, &disk, true}, sample().bundle("x64"), trust, {});
      } catch (...) {
      }
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO("crash at operation " << k << ": " << log[k - 1]);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == hotfix::test::kStoppedDead);
    // The dead writer's pid may since belong to another process: a live pid in the lock file
    // does not make the transaction one in progress; only a held lock does.
    hotfix::test::write_file(root + "/" + kState + "/lock", std::to_string(::getpid()) + "\n");
    RunResult st = installer({"status", "--root", root});
    CHECK(st.exit_code == 6);  // not settled until recover has run
    CHECK(st.err.find("an interrupted transaction is pending") != std::string::npos);
    CHECK(st.out.find("in progress") == std::string::npos);
    auto st_json = hotfix::test::json_data(installer({"status", "--root", root, "--json"}).out);
    CHECK(st_json["interrupted_transaction"] == true);
    CHECK(st_json["transaction_in_progress"] == false);
    RunResult rec = installer({"recover", "--root", root});
    REQUIRE(rec.exit_code == 0);
    bool forward = k > commit;
    CHECK(rec.out.find(forward ? "rolled forward" : "rolled back") != std::string::npos);
    auto list =
        hotfix::test::json_data(installer({"list", "--root", root, "--json"}).out)["hotfixes"];
    if (forward) {
      CHECK(list.size() == 1);
      CHECK(installer({"verify", "--root", root}).exit_code == 0);
    } else {
      CHECK(list.empty());
      Snapshot after = hotfix::test::snapshot_tree(root, kState);
      INFO(hotfix::test::describe_difference(before, after));
      CHECK(after == before);
    }
    CHECK(no_temporary_files(root));
    CHECK(installer({"recover", "--root", root}).out.find("nothing to recover") !=
          std::string::npos);
  }
}

TEST_CASE("a second writer fails with busy under --no-wait, readers never block") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  fs::create_directories(root + "/" + kState);
  int fd = ::open((root + "/" + kState + "/lock").c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  // Held as the installer holds it: an open-file-description write lock on the whole file.
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  REQUIRE(::fcntl(fd, F_OFD_SETLK, &lock) == 0);
  REQUIRE(::pwrite(fd, "4242\n", 5, 0) == 5);
  RunResult r = apply_to(root, sample().bundle("x64"), {"--no-wait"});
  CHECK(r.exit_code == 6);
  CHECK(r.err.find("busy") != std::string::npos);
  CHECK(r.err.find("(pid 4242 since ") != std::string::npos);
  // --lock-timeout waits, saying for whom and since when, then gives up busy.
  r = apply_to(root, sample().bundle("x64"), {"--lock-timeout", "0.5"});
  CHECK(r.exit_code == 6);
  CHECK(r.err.find("hotfix-installer: waiting for the lock held by pid 4242 since ") !=
        std::string::npos);
  CHECK(r.err.find("gave up after 0.5 s (--lock-timeout)") != std::string::npos);
  r = apply_to(root, sample().bundle("x64"), {"--lock-timeout", "0", "--quiet"});
  CHECK(r.exit_code == 6);
  CHECK(r.err.find("waiting for the lock") == std::string::npos);
  CHECK(apply_to(root, sample().bundle("x64"), {"--lock-timeout", "1", "--no-wait"}).exit_code ==
        2);
  CHECK(apply_to(root, sample().bundle("x64"), {"--lock-timeout", "-1"}).exit_code == 2);
  CHECK(installer({"list", "--root", root}).exit_code == 0);
  CHECK(installer({"status", "--root", root}).exit_code == 0);
  CHECK(installer({"verify", "--root", root}).exit_code == 0);
  ::close(fd);
  CHECK(apply_to(root, sample().bundle("x64"), {"--no-wait"}).exit_code == 10);
}

namespace {

// Two tiny hotfixes for a plain Linux tree, both replacing app/x.txt.
struct Layered {
  TempDir dir;
  std::string root = (dir / "root").string();
  Layered() {
    hotfix::test::write_file(root + "/app/x.txt", "original\n");
    REQUIRE(
        run({hotfix::test::packager_path(), "keygen", "--out", (dir / "k").string()}).exit_code ==
        0);
    make("KB100001", "first hotfix\n");
    make("KB100002", "second hotfix\n");
  }
  void make(const std::string& id, const std::string& content) {
    std::string drop = (dir / ("drop-" + id)).string();
    hotfix::test::write_file(drop + "/app/x.txt", content);
    hotfix::Manifest m;
    m.id = id;
    m.title = id;
    m.languages = {"en-US"};
    m.restart = hotfix::RestartRequirement::kNone;
    hotfix::FileEntry f;
    f.name = "x.txt";
    f.destination = "app";
    f.size = content.size();
    f.timestamp = hotfix::Timestamp(1700000000);
    f.platform = hotfix::Arch::kNeutral;
    m.architectures[hotfix::Arch::kX64] = {f};
    struct timeval tv[2] = {{1700000000, 0}, {1700000000, 0}};
    ::utimes((drop + "/app/x.txt").c_str(), tv);
    hotfix::test::write_file(dir / (id + ".json"), hotfix::write_manifest(m));
    RunResult r = run({hotfix::test::packager_path(), "build", (dir / (id + ".json")).string(),
                       "--drop", "x64=" + drop, "--key", (dir / "k.key").string(), "--out",
                       (dir / "bundles").string()});
    REQUIRE(r.exit_code == 0);
  }
  RunResult apply_id(const std::string& id) {
    return installer({"apply", (dir / ("bundles/" + id + "-x64.hotfix")).string(), "--root", root,
                      "--trust", (dir / "k.pub").string()});
  }
  std::string content() { return hotfix::test::read_file(root + "/app/x.txt"); }
};

}  // namespace

TEST_CASE("two hotfixes over the same file uninstall correctly in either order") {
  SECTION("later one first") {
    Layered l;
    REQUIRE(l.apply_id("KB100001").exit_code == 0);
    REQUIRE(l.apply_id("KB100002").exit_code == 0);
    CHECK(l.content() == "second hotfix\n");
    REQUIRE(installer({"uninstall", "KB100002", "--root", l.root}).exit_code == 0);
    CHECK(l.content() == "first hotfix\n");
    REQUIRE(installer({"uninstall", "KB100001", "--root", l.root}).exit_code == 0);
    CHECK(l.content() == "original\n");
  }
  SECTION("earlier one first") {
    Layered l;
    REQUIRE(l.apply_id("KB100001").exit_code == 0);
    REQUIRE(l.apply_id("KB100002").exit_code == 0);
    REQUIRE(installer({"uninstall", "KB100001", "--root", l.root}).exit_code == 0);
    CHECK(l.content() == "second hotfix\n");  // the later hotfix's file stays
    CHECK(installer({"verify", "--root", l.root}).exit_code == 0);
    REQUIRE(installer({"uninstall", "KB100002", "--root", l.root}).exit_code == 0);
    CHECK(l.content() == "original\n");  // and the true original comes back
    CHECK(fs::is_empty(l.root + "/" + kState + "/backups"));
  }
}

TEST_CASE("a running process that maps a replaced file is reported") {
  Layered l;
  int ready[2], done[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(done) == 0);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(ready[0]);
    ::close(done[1]);
    int fd = ::open((l.root + "/app/x.txt").c_str(), O_RDONLY);
    void* map = ::mmap(nullptr, 9, PROT_READ, MAP_PRIVATE, fd, 0);
    char c = map == MAP_FAILED ? 'n' : 'y';
    [[maybe_unused]] auto w = ::write(ready[1], &c, 1);
    [[maybe_unused]] auto r = ::read(done[0], &c, 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(done[0]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  RunResult r = l.apply_id("KB100001");
  ::close(done[1]);
  ::waitpid(child, nullptr, 0);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("Still using an old file: pid " + std::to_string(child)) != std::string::npos);
  CHECK(r.out.find("mapped, open") != std::string::npos);
}

TEST_CASE("a bundle, key or root named on the command line that does not exist: exit 2") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  Snapshot before = hotfix::test::snapshot_tree(root);
  std::string nothere = (tmp / "nothere.hotfix").string();
  RunResult r = apply_to(root, nothere);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(nothere + ": does not exist (a bundle)") != std::string::npos);
  r = installer(
      {"apply", sample().bundle("x64"), "--root", root, "--trust", (tmp / "nothere.pub").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("nothere.pub") != std::string::npos);
  r = installer({"list", "--root", (tmp / "noroot").string()});
  CHECK(r.exit_code == 2);
  CHECK(hotfix::test::snapshot_tree(root) == before);
}

TEST_CASE("the same damaged bundle is exit 4 from the packager's verify and the installer") {
  TempDir tmp;
  std::string bytes = hotfix::test::read_file(sample().bundle("x64"));
  // Damage in the signed head, in the middle of the payloads and at the end.
  for (std::size_t at :
       {std::size_t{100}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 100}) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x41);
    std::string bundle = (tmp / ("damaged-" + std::to_string(at) + ".hotfix")).string();
    hotfix::test::write_file(bundle, damaged);
    std::string root = sample().root(tmp, "x64");
    Snapshot before = hotfix::test::snapshot_tree(root, kState);
    RunResult verify =
        run({hotfix::test::packager_path(), "verify", bundle, "--trust", sample().pub()});
    RunResult apply = apply_to(root, bundle);
    INFO("damage at " << at << ": " << verify.err << apply.err);
    CHECK(verify.exit_code == 4);
    CHECK(apply.exit_code == 4);
    Snapshot after = hotfix::test::snapshot_tree(root, kState);
    // Damage found while staging is a failed transaction, recorded in the state directory.
    after.erase("var");
    after.erase("var/lib");
    INFO(hotfix::test::describe_difference(before, after));
    CHECK(after == before);
    fs::remove_all(root);
  }
}

TEST_CASE("verify hashes a skipped unversioned file against the hotfix's content") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  RunResult r = apply_to(root, sample().bundle("x64"));
  REQUIRE(r.exit_code == 10);
  REQUIRE(r.out.find("skip     Windows/System32/inetsrv/appcmd.xml") != std::string::npos);
  REQUIRE(installer({"verify", "--root", root}).exit_code == 0);
  std::string xml = root + "/Windows/System32/inetsrv/appcmd.xml";
  struct stat st {};
  REQUIRE(::stat(xml.c_str(), &st) == 0);
  std::string bytes = hotfix::test::read_file(xml);
  bytes[0] = bytes[0] == 'x' ? 'y' : 'x';
  hotfix::test::write_file(xml, bytes);
  struct timespec times[2] = {st.st_mtim, st.st_mtim};  // only the content differs
  REQUIRE(::utimensat(AT_FDCWD, xml.c_str(), times, 0) == 0);
  r = installer({"verify", "--root", root});
  INFO(r.out);
  CHECK(r.exit_code == 4);
  CHECK(r.out.find(".5...  Windows/System32/inetsrv/appcmd.xml") != std::string::npos);
}

TEST_CASE("verify reports configuration files the administrator changed apart, as rpm's c") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  REQUIRE(apply_to(root, sample().bundle("x64")).exit_code == 10);
  // Skipped (it already had the hotfix's content), then edited by the administrator.
  std::string config = root + "/Windows/System32/inetsrv/config/applicationHost.config";
  hotfix::test::write_file(config, hotfix::test::read_file(config) + "<!-- a site -->\n");
  RunResult r = installer({"verify", "--root", root});
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("S5... c  Windows/System32/inetsrv/config/applicationHost.config") !=
        std::string::npos);
  CHECK(r.out.find("47 files checked, 0 differ; 1 configuration file (c) changed since "
                   "installed: every other file is what its hotfix promised") != std::string::npos);
  auto doc = hotfix::test::json_data(installer({"verify", "--root", root, "--json"}).out);
  CHECK(doc["failed"] == 0);
  CHECK(doc["config_changed"] == 1);
  // A binary changed as well: that one fails the check, the configuration file still does not.
  std::string dll = root + "/Windows/System32/inetsrv/iisres.dll";
  std::string bytes = hotfix::test::read_file(dll);
  bytes[bytes.size() - 10] ^= 1;
  hotfix::test::write_file(dll, bytes);
  r = installer({"verify", "--root", root});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("47 files checked, 1 differ; 1 configuration file (c) changed") !=
        std::string::npos);
  // A configuration file that is gone is a failure: the hotfix accounted for it.
  fs::remove(config);
  r = installer({"verify", "--root", root});
  CHECK(r.out.find("missing  Windows/System32/inetsrv/config/applicationHost.config") !=
        std::string::npos);
  CHECK(r.out.find("47 files checked, 2 differ") != std::string::npos);
}

TEST_CASE("several bundles: a failure beats 10, 10 beats 0: --skip-inapplicable") {
  TempDir tmp;
  SECTION("x86 and x64 on an x64 root: exit 5, the x64 applied and its reboot reported") {
    std::string root = sample().root(tmp);
    RunResult r = installer({"apply", sample().bundle("x86"), sample().bundle("x64"), "--root",
                             root, "--trust", sample().pub(), "--json"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 5);
    auto doc = hotfix::test::json_data(r.out);
    REQUIRE(doc["results"].size() == 2);
    CHECK(doc["results"][0]["outcome"] == "refused");
    CHECK(doc["results"][1]["outcome"] == "applied");
    CHECK(doc["restart"]["required"] == true);
    CHECK(r.err.find("error: " + sample().bundle("x86") + ": KB967131: not applicable") !=
          std::string::npos);
  }
  SECTION("with --skip-inapplicable: the x86 is a warning, the run exits 10") {
    std::string root = sample().root(tmp);
    RunResult r = installer({"apply", sample().bundle("x86"), sample().bundle("x64"), "--root",
                             root, "--trust", sample().pub(), "--skip-inapplicable"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 10);
    CHECK(r.err.find("warning: " + sample().bundle("x86") + ": KB967131: not applicable") !=
          std::string::npos);
    // Applied already, the x64 is a no-op that succeeds: 0, with the x86 skipped.
    r = installer({"apply", sample().bundle("x86"), sample().bundle("x64"), "--root", root,
                   "--trust", sample().pub(), "--skip-inapplicable"});
    CHECK(r.exit_code == 0);
  }
  SECTION("with --skip-inapplicable and no bundle that applies: still exit 5") {
    std::string root = sample().root(tmp);
    Snapshot before = hotfix::test::snapshot_tree(root, kState);
    RunResult r = installer({"apply", sample().bundle("x86"), "--root", root, "--trust",
                             sample().pub(), "--skip-inapplicable"});
    CHECK(r.exit_code == 5);
    // The refusal is recorded in the history: the state directory (and var, var/lib above it)
    // may be made; nothing else.
    Snapshot after = hotfix::test::snapshot_tree(root, kState);
    for (const char* parent : {"var", "var/lib"}) {
      if (!before.count(parent)) after.erase(parent);
    }
    INFO(hotfix::test::describe_difference(before, after));
    CHECK(after == before);
  }
}

TEST_CASE("uninstalling an id that is not installed: exit 5, or 0 with --missing-ok") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  Snapshot before = hotfix::test::snapshot_tree(root);
  RunResult r = installer({"uninstall", "KB999999", "--root", root});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("KB999999: is not installed") != std::string::npos);
  r = installer({"uninstall", "KB999999", "--root", root, "--missing-ok"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "KB999999 is not installed: nothing to uninstall\n");
  CHECK(hotfix::test::snapshot_tree(root) == before);  // not even a state directory
  REQUIRE(apply_to(root, sample().bundle("x64")).exit_code == 10);
  r = installer({"uninstall", "kb967131", "--root", root, "--missing-ok"});  // installed: removed
  INFO(r.out << r.err);
  CHECK(r.exit_code == 10);
  CHECK(r.out.find("KB967131 uninstalled") != std::string::npos);
}

TEST_CASE("CLI habits of the installer: did you mean, help COMMAND, --version") {
  RunResult r = installer({"uninstal", "KB1"});
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "hotfix-installer: error: unknown command 'uninstal': did you mean 'uninstall'?\n");
  r = installer({"help", "apply"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--restart WHEN=never") != std::string::npos);
  CHECK(r.out.find("--skip-inapplicable") != std::string::npos);
  r = installer({"help", "nothing"});
  CHECK(r.exit_code == 2);
  r = installer({"--version"});
  CHECK(r.out.rfind("hotfix-installer 0.1.0 (source ", 0) == 0);
}

TEST_CASE("check: compliance per id, as text, a Nagios plugin line and Prometheus metrics") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  RunResult r = installer({"check", "KB967131", "--root", root});
  CHECK(r.exit_code == 5);  // absent
  CHECK(r.out.find("KB967131  absent") != std::string::npos);
  r = installer({"check", "KB967131", "--root", root, "--format", "nagios"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.rfind("HOTFIX CRITICAL - KB967131 absent | installed=0 absent=1", 0) == 0);

  REQUIRE(apply_to(root, sample().bundle("x64")).exit_code == 10);
  r = installer({"check", "kb967131", "--root", root, "--json"});
  CHECK(r.exit_code == 10);  // installed and intact, a restart pending
  auto doc = hotfix::test::json_data(r.out);
  CHECK(doc["hotfixes"][0]["id"] == "KB967131");
  CHECK(doc["hotfixes"][0]["state"] == "installed");
  CHECK(doc["restart_pending"] == true);
  CHECK(doc["compliant"] == false);
  r = installer({"check", "--root", root, "--format", "nagios"});
  CHECK(r.exit_code == 1);
  CHECK(r.out ==
        "HOTFIX WARNING - a restart is pending | installed=1 absent=0 differing_files=0 "
        "restart_pending=1\n");
  std::string prom = (tmp / "hotfix.prom").string();
  r = installer({"check", "--root", root, "--format", "prometheus", "--output", prom});
  CHECK(r.exit_code == 0);
  std::string metrics = hotfix::test::read_file(prom);
  CHECK(metrics.find("hotfix_installed{id=\"KB967131\",revision=\"1\"} 1\n") != std::string::npos);
  CHECK(metrics.find("hotfix_restart_required 1\n") != std::string::npos);
  CHECK(metrics.find("hotfix_verify_differing_files 0\n") != std::string::npos);
  CHECK(metrics.find("hotfix_last_change_timestamp_seconds ") != std::string::npos);

  // The reboot happens (an image's run/ emptied): compliant, exit 0.
  fs::remove_all(root + "/run");
  r = installer({"check", "KB967131", "--root", root});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("compliant\n") != std::string::npos);
  r = installer({"check", "--root", root, "--format", "nagios"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("HOTFIX OK - 1 hotfix installed, intact |", 0) == 0);

  // A damaged binary: exit 4, CRITICAL, counted in the metrics.
  std::string dll = root + "/Windows/System32/inetsrv/iisres.dll";
  std::string bytes = hotfix::test::read_file(dll);
  bytes[bytes.size() - 10] ^= 1;
  hotfix::test::write_file(dll, bytes);
  r = installer({"check", "--root", root});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("KB967131  damaged") != std::string::npos);
  r = installer({"check", "--root", root, "--format", "nagios"});
  CHECK(r.exit_code == 2);
  r = installer({"check", "--root", root, "--format", "prometheus"});
  CHECK(r.out.find("hotfix_verify_differing_files 1\n") != std::string::npos);
  // A check that cannot run is UNKNOWN to Nagios.
  r = installer({"check", "--root", (tmp / "noroot").string(), "--format", "nagios"});
  CHECK(r.exit_code == 3);
  CHECK(r.out.rfind("HOTFIX UNKNOWN - ", 0) == 0);
  CHECK(installer({"check", "--root", root, "--format", "xml"}).exit_code == 2);
}

TEST_CASE("list and history with --local-time show local times with the offset: JSON stays UTC") {
  TempDir tmp;
  std::string root = sample().root(tmp);
  REQUIRE(apply_to(root, sample().bundle("x64")).exit_code == 10);
  const std::vector<std::string> tz{"TZ=NST+3:30"};
  RunResult list = installer({"list", "--root", root, "--local-time"}, tz);
  INFO(list.out);
  CHECK(list.exit_code == 0);
  CHECK(
      std::regex_search(list.out, std::regex("KB967131 +1 +x64 +\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:"
                                             "\\d\\d-03:30 ")));
  RunResult history = installer({"history", "--root", root, "--local-time"}, tz);
  CHECK(history.out.find("When (local)") != std::string::npos);
  CHECK(std::regex_search(history.out, std::regex("T\\d\\d:\\d\\d:\\d\\d-03:30 +apply")));
  RunResult utc = installer({"history", "--root", root}, tz);
  CHECK(utc.out.find("When (UTC)") != std::string::npos);
  CHECK(std::regex_search(utc.out, std::regex("T\\d\\d:\\d\\d:\\d\\dZ +apply")));
  auto doc = hotfix::test::json_data(
      installer({"list", "--root", root, "--local-time", "--json"}, tz).out);
  CHECK(doc["hotfixes"][0]["installed_at"].get<std::string>().back() == 'Z');
}

TEST_CASE("check --bundle: a hotfix that does not apply here is not_applicable, not absent") {
  TempDir tmp;
  std::string root = sample().root(tmp);  // an x64 Windows Server 2008 image
  // x64 last and first: one hotfix applies when any of its bundles does, in either order.
  const std::vector<std::string> bundles{"--bundle", sample().bundle("x64"),
                                         "--bundle", sample().bundle("x86"),
                                         "--trust",  sample().pub()};
  std::vector<std::string> args{"check", "--root", root};
  args.insert(args.end(), bundles.begin(), bundles.end());
  auto before = hotfix::test::snapshot_tree(root);
  // Nothing installed: the x64 bundle applies here and is missing; the x86 one does not.
  std::vector<std::string> json_args = args;
  json_args.push_back("--json");
  RunResult r = installer(json_args);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 5);
  auto doc = hotfix::test::json_data(r.out);
  REQUIRE(doc["hotfixes"].size() == 1);  // both bundles are KB967131
  CHECK(doc["hotfixes"][0]["state"] == "absent");
  CHECK(hotfix::test::snapshot_tree(root) == before);  // a check changes nothing

  // Only the x86 bundle: not applicable on x64, so compliant.
  r = installer({"check", "--root", root, "--bundle", sample().bundle("x86"), "--trust",
                 sample().pub(), "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  doc = hotfix::test::json_data(r.out);
  CHECK(doc["hotfixes"][0]["state"] == "not_applicable");
  CHECK(doc["hotfixes"][0]["not_applicable"] == "the bundle is for x86; the target is x64");
  RunResult text = installer(
      {"check", "--root", root, "--bundle", sample().bundle("x86"), "--trust", sample().pub()});
  CHECK(text.out.find("not_applicable: the bundle is for x86; the target is x64") !=
        std::string::npos);
  CHECK(text.out.find("compliant") != std::string::npos);

  REQUIRE(apply_to(root, sample().bundle("x64")).exit_code == 10);
  r = installer(args);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 10);  // installed and intact; the reboot is pending
  CHECK(r.out.find("KB967131  installed") != std::string::npos);
  // A bundle whose signature is not trusted is refused, as for apply.
  CHECK(installer({"check", "--root", root, "--bundle", sample().bundle("x86")}).exit_code == 3);
}
