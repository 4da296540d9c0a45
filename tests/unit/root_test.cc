// The Root and the link rule (installer/root.h, installer/root_paths.h): directories are
// opened beneath the root without following any link, by openat2 and by the O_NOFOLLOW walk
// alike; links are followed only while a destination is resolved, inside the root, and only
// when they belong to root or to the owner of the directory they lead to.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "installer/atomic_write.h"
#include "installer/disk.h"
#include "installer/root.h"
#include "installer/root_paths.h"
#include "manifests/errors.h"
#include "tests/support/temp_dir.h"

using hotfix::BeneathMode;
using hotfix::Error;
using hotfix::Root;
using hotfix::UnsafePathError;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Each test case runs once per way of opening directories.
struct Mode {
  explicit Mode(BeneathMode m) { hotfix::set_beneath_mode(m); }
  ~Mode() { hotfix::set_beneath_mode(BeneathMode::kAuto); }
};

BeneathMode pick_mode() {
  BeneathMode mode = BeneathMode::kAuto;
  SECTION("openat2") { mode = BeneathMode::kAuto; }
  SECTION("O_NOFOLLOW walk") { mode = BeneathMode::kWalk; }
  return mode;
}

struct Tree {
  TempDir dir;
  std::string root = (dir / "root").string();
  std::string outside = (dir / "outside").string();
  Tree() {
    hotfix::test::write_file(fs::path(root) / "app/bin/core.dll", "core");
    hotfix::test::write_file(fs::path(outside) / "bin/core.dll", "outside");
  }
};

}  // namespace

TEST_CASE("A root is opened once and shown as given") {
  Tree t;
  Root r = Root::open(t.root + "//");
  CHECK(r.path() == t.root);
  CHECK(r.show("app/bin") == t.root + "/app/bin");
  CHECK_FALSE(r.live());
  Root live = Root::open("/");
  CHECK(live.live());
  CHECK(live.show("var/lib/hotfix") == "/var/lib/hotfix");
  CHECK(live.show("") == "/");
  CHECK_THROWS_WITH(Root::open(t.root + "/missing"), Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(Root::open(t.root + "/app/bin/core.dll"),
                    Catch::Contains("is not a directory"));
}

TEST_CASE("Paths that are not clean and relative are refused before any system call") {
  Tree t;
  Root r = Root::open(t.root);
  for (const char* bad : {"/etc", "../outside", "app/../..", "app//bin", "app/./bin", "app/"}) {
    INFO(bad);
    CHECK_FALSE(hotfix::is_clean_relative(bad));
    CHECK_THROWS_AS(r.open_dir(bad), Error);
  }
  CHECK(hotfix::is_clean_relative(""));
  CHECK(hotfix::is_clean_relative("app/bin"));
}

TEST_CASE("No link is followed when a directory is opened beneath the root") {
  Mode mode(pick_mode());
  Tree t;
  fs::create_symlink(t.outside + "/bin", t.root + "/app/out");  // absolute, out of the root
  fs::create_symlink("bin", t.root + "/app/inside");            // relative, inside
  Root r = Root::open(t.root);
  CHECK(r.open_dir("app/bin"));
  CHECK_THROWS_AS(r.open_dir("app/out"), UnsafePathError);
  CHECK_THROWS_WITH(r.open_dir("app/inside"), Catch::Contains("'app/inside' is a symbolic link"));
  CHECK_THROWS_WITH(r.open_dir("app/out/deeper"), Catch::Contains("'app/out' is a symbolic link"));
  CHECK_THROWS_WITH(r.open_dir("app/bin/core.dll"), Catch::Contains("is not a directory"));
  CHECK_FALSE(r.open_dir_if_exists("app/missing"));
  CHECK_FALSE(r.open_dir_if_exists("nothing/here"));
  CHECK(r.status("app/out")->st_mode & S_IFLNK);
  CHECK_FALSE(r.status("app/missing"));
}

TEST_CASE("Files are read only when regular, and a FIFO does not block") {
  Tree t;
  REQUIRE(::mkfifo((t.root + "/app/fifo").c_str(), 0600) == 0);
  fs::create_symlink("bin/core.dll", t.root + "/app/link.dll");
  Root r = Root::open(t.root);
  CHECK(r.read_file("app/bin/core.dll", 64) == "core");
  CHECK_THROWS_WITH(r.read_file("app/bin/core.dll", 3), Catch::Contains("more than the 3"));
  CHECK_THROWS_WITH(r.open_file("app/fifo"), Catch::Contains("is not a regular file"));
  CHECK_THROWS_WITH(r.open_file("app/link.dll"), Catch::Contains("is a symbolic link"));
  CHECK_THROWS_WITH(r.open_file("app/bin"), Catch::Contains("is not a regular file"));
}

TEST_CASE("A Disk changes nothing through a link, whichever way directories are opened") {
  Mode mode(pick_mode());
  Tree t;
  fs::create_symlink(t.outside + "/bin", t.root + "/app/out");
  auto disk = hotfix::make_root_disk(Root::open(t.root));
  CHECK_THROWS_AS(disk->create("app/out/new.dll", 0644), UnsafePathError);
  CHECK_THROWS_AS(disk->remove("app/out/core.dll"), UnsafePathError);
  CHECK_THROWS_AS(disk->rename("app/bin/core.dll", "app/out/core.dll"), UnsafePathError);
  CHECK_THROWS_WITH(disk->make_dir("app/out"), Catch::Contains("is a symbolic link"));
  CHECK(hotfix::test::read_file(fs::path(t.outside) / "bin/core.dll") == "outside");
  CHECK(fs::exists(t.root + "/app/bin/core.dll"));
  CHECK(disk->make_dir("app/new"));
  CHECK_FALSE(disk->make_dir("app/new"));  // already a directory: not created by us
  CHECK(disk->status("")->st_mode & S_IFDIR);
}

TEST_CASE("A destination follows links inside the root, as in a chroot, and never out of it") {
  Tree t;
  fs::create_directories(t.root + "/usr/lib");
  hotfix::test::write_file(fs::path(t.root) / "usr/lib/x.so", "x");
  fs::create_symlink("usr/lib", t.root + "/lib");      // relative
  fs::create_symlink("/usr/lib", t.root + "/lib2");    // absolute: relative to the root
  fs::create_symlink("../../..", t.root + "/app/up");  // climbs out
  fs::create_symlink("../var/lib/hotfix", t.root + "/app/state");
  fs::create_directories(t.root + "/var/lib/hotfix");
  fs::create_symlink("/opt/none", t.root + "/app/dangling");
  Root r = Root::open(t.root);
  auto a = hotfix::resolve_under_root(r, "lib/x.so", false);
  CHECK(a.relative == "usr/lib/x.so");
  CHECK(a.exists);
  auto b = hotfix::resolve_under_root(r, "lib2/new/y.so", false);
  CHECK(b.relative == "usr/lib/new/y.so");
  CHECK(b.missing_dirs == std::vector<std::string>{"usr/lib/new"});
  CHECK_THROWS_WITH(hotfix::resolve_under_root(r, "app/up/etc/passwd", false),
                    Catch::Contains("escapes the root through a symbolic link"));
  // A link to nothing: no directory is made where it points.
  CHECK_THROWS_WITH(hotfix::resolve_under_root(r, "app/dangling/x.so", false),
                    Catch::Contains("leads to 'opt', which does not exist in the root"));
  // Resolved into the installer's own places: the plan refuses it (tests/unit/plan_test.cc).
  CHECK(hotfix::resolve_under_root(r, "app/state/state.db", false).relative ==
        "var/lib/hotfix/state.db");
}

TEST_CASE("A link is followed only when it belongs to root or to the owner of where it leads") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: needs root, to give links and directories other owners");
    return;
  }
  Tree t;
  fs::create_directories(t.root + "/etc/secret");
  fs::create_directories(t.root + "/home/user/dir");
  fs::create_symlink("../../etc/secret", t.root + "/home/user/evil");
  fs::create_symlink("dir", t.root + "/home/user/own");
  REQUIRE(::lchown((t.root + "/home/user/evil").c_str(), 1234, 1234) == 0);
  REQUIRE(::lchown((t.root + "/home/user/own").c_str(), 1234, 1234) == 0);
  REQUIRE(::chown((t.root + "/home/user/dir").c_str(), 1234, 1234) == 0);
  Root r = Root::open(t.root);
  CHECK_THROWS_WITH(hotfix::resolve_under_root(r, "home/user/evil/x.conf", false),
                    Catch::Contains("belongs to uid 1234, not to root or to the owner"));
  CHECK(hotfix::resolve_under_root(r, "home/user/own/x.conf", false).relative ==
        "home/user/dir/x.conf");
  // A user's link to a directory that does not exist yet is not followed either: the
  // installer would create it as root (no link to nothing is).
  fs::create_symlink("../../etc/new", t.root + "/home/user/dangling");
  REQUIRE(::lchown((t.root + "/home/user/dangling").c_str(), 1234, 1234) == 0);
  CHECK_THROWS_WITH(hotfix::resolve_under_root(r, "home/user/dangling/x.conf", false),
                    Catch::Contains("no directory is made through a link"));
}

TEST_CASE("Names match ignoring case on Windows-family roots, keeping the spelling on disk") {
  Tree t;
  Root r = Root::open(t.root);
  auto p = hotfix::resolve_under_root(r, "APP/Bin/Core.DLL", true);
  CHECK(p.relative == "app/bin/core.dll");
  CHECK(p.exists);
  CHECK_FALSE(hotfix::resolve_under_root(r, "APP/Bin/Core.DLL", false).exists);
  hotfix::test::write_file(fs::path(t.root) / "app/bin/CORE.dll", "twin");
  CHECK_THROWS_WITH(hotfix::resolve_under_root(r, "app/bin/Core.dll", true),
                    Catch::Contains("match 'Core.dll' ignoring case"));
}

TEST_CASE("A Disk creates files with the mode asked for, whatever the umask") {
  TempDir dir;
  hotfix::Root root = hotfix::Root::open(dir.path().string());
  auto disk = hotfix::make_root_disk(root);
  mode_t old = ::umask(077);
  disk->create("flag", 0644)->close();
  hotfix::write_atomically(*disk, "written", "x", 0644);
  ::umask(old);
  for (const char* name : {"flag", "written"}) {
    INFO(name);
    CHECK((fs::status(dir.path() / name).permissions() & fs::perms::mask) ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
           fs::perms::others_read));
  }
}

TEST_CASE("Matching ignoring case lists each directory once for a whole plan") {
  TempDir dir;
  const std::string root = (dir / "root").string();
  for (int i = 0; i < 200; ++i) {
    hotfix::test::write_file(fs::path(root) / "big" / ("File" + std::to_string(i) + ".dll"), "x");
  }
  hotfix::test::write_file(fs::path(root) / "big/Caf\xc3\xa9.dll", "x");
  Root r = Root::open(root);
  hotfix::NameIndex index;
  for (int i = 0; i < 200; ++i) {
    auto p = hotfix::resolve_under_root(r, "BIG/file" + std::to_string(i) + ".DLL", true, &index);
    CHECK(p.exists);
    auto missing = hotfix::resolve_under_root(r, "big/new" + std::to_string(i), true, &index);
    CHECK_FALSE(missing.exists);
  }
  CHECK(index.listings() == 2);  // the root (for "BIG") and big
  auto decomposed = hotfix::resolve_under_root(r, "big/CAFE\xcc\x81.DLL", true, &index);
  CHECK(decomposed.relative == "big/Caf\xc3\xa9.dll");  // case and normalization folded
  CHECK(decomposed.exists);
}
