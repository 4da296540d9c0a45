// Finding the processes that still use the old version of a replaced file: real child
// processes against the real /proc, and a fake /proc tree for the parsing details.
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>

#include "installer/process_scan.h"
#include "tests/support/temp_dir.h"

using hotfix::FileIdentityKey;
using hotfix::find_processes_using;
using hotfix::ProcessUse;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

FileIdentityKey identity(const fs::path& file, const std::string& reported) {
  struct stat st {};
  REQUIRE(stat(file.c_str(), &st) == 0);
  return {st.st_dev, st.st_ino, reported};
}

// Replaces `file` the way the installer does: a new file beside it, renamed over it.
void replace_by_rename(const fs::path& file, const std::string& contents) {
  fs::path staged = file.string() + ".hotfix-stage";
  hotfix::test::write_file(staged, contents);
  REQUIRE(rename(staged.c_str(), file.c_str()) == 0);
}

std::optional<ProcessUse> use_by(const std::vector<ProcessUse>& uses, pid_t pid) {
  for (const auto& u : uses) {
    if (u.pid == pid) return u;
  }
  return std::nullopt;
}

// A child process that maps and/or holds open a file until it is told to exit (or the
// object goes out of scope, so a failing test never leaves it waiting).
class Holder {
 public:
  Holder(const fs::path& file, bool map, bool keep_open) {
    int ready[2], go[2];
    REQUIRE(pipe(ready) == 0);
    REQUIRE(pipe(go) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      close(ready[0]);
      close(go[1]);
      int fd = open(file.c_str(), O_RDONLY);
      if (fd < 0) _exit(2);
      if (map) {
        struct stat st {};
        if (fstat(fd, &st) != 0) _exit(3);
        void* p =
            mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) _exit(4);
      }
      if (!keep_open) close(fd);
      char c = 'r';
      if (write(ready[1], &c, 1) != 1) _exit(5);
      while (read(go[0], &c, 1) < 0) {
      }
      _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    go_ = go[1];
    char c = 0;
    ssize_t n = read(ready[0], &c, 1);
    close(ready[0]);
    REQUIRE(n == 1);  // the child has the file mapped/open
  }
  ~Holder() { finish(); }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  pid_t pid() const { return pid_; }

  // Lets the child exit and reaps it; returns its exit status.
  int finish() {
    if (go_ >= 0) {
      close(go_);
      go_ = -1;
    }
    if (pid_ > 0 && !reaped_) {
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0) {
      }
      reaped_ = true;
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  bool reaped_ = false;
  int status_ = -1;
};

std::string own_command_line() {
  std::string raw = hotfix::test::read_file("/proc/self/cmdline");
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (char& c : raw) {
    if (c == '\0') c = ' ';
  }
  return raw;
}

const std::string kOld(64 * 1024, 'o');
const std::string kNew(64 * 1024, 'n');

}  // namespace

TEST_CASE("A process that maps and holds open a replaced file is reported until it exits") {
  TempDir root;
  const fs::path lib = root / "usr/lib/libdemo.so";
  hotfix::test::write_file(lib, kOld);
  Holder child(lib, true, true);

  const FileIdentityKey old_key = identity(lib, "usr/lib/libdemo.so");
  replace_by_rename(lib, kNew);
  REQUIRE(hotfix::test::read_file(lib) == kNew);

  auto use = use_by(find_processes_using({old_key}), child.pid());
  REQUIRE(use);
  CHECK(use->how == "mapped, open");
  CHECK(use->paths == std::vector<std::string>{"usr/lib/libdemo.so"});
  // A forked child runs the same program with the same arguments as this test.
  CHECK(use->command_line == own_command_line());
  CHECK(use->unit ==
        hotfix::systemd_unit_from_cgroup(hotfix::test::read_file("/proc/self/cgroup")));

  // The new file at the same path is not what the child uses.
  CHECK_FALSE(use_by(find_processes_using({identity(lib, "usr/lib/libdemo.so")}), child.pid()));

  REQUIRE(child.finish() == 0);
  CHECK_FALSE(use_by(find_processes_using({old_key}), child.pid()));
}

TEST_CASE("Mapped only and open only are told apart") {
  TempDir root;
  const fs::path mapped_file = root / "bin/mapped.dll";
  const fs::path open_file = root / "etc/open.config";
  hotfix::test::write_file(mapped_file, kOld);
  hotfix::test::write_file(open_file, kOld);
  Holder mapper(mapped_file, true, false);
  Holder opener(open_file, false, true);
  const std::vector<FileIdentityKey> old = {identity(mapped_file, "bin/mapped.dll"),
                                            identity(open_file, "etc/open.config")};
  replace_by_rename(mapped_file, kNew);
  replace_by_rename(open_file, kNew);

  auto uses = find_processes_using(old);
  auto m = use_by(uses, mapper.pid());
  auto o = use_by(uses, opener.pid());
  REQUIRE(m);
  REQUIRE(o);
  CHECK(m->how == "mapped");
  CHECK(m->paths == std::vector<std::string>{"bin/mapped.dll"});
  CHECK(o->how == "open");
  CHECK(o->paths == std::vector<std::string>{"etc/open.config"});
}

TEST_CASE("A process that started on the new file is not reported") {
  TempDir root;
  const fs::path lib = root / "lib/x.so";
  hotfix::test::write_file(lib, kOld);
  const FileIdentityKey old_key = identity(lib, "lib/x.so");
  // Kept as a backup by hard link, as the installer does: the old inode lives on.
  REQUIRE(link(lib.c_str(), (root / "backup-x.so").c_str()) == 0);
  Holder before(lib, true, true);
  replace_by_rename(lib, kNew);
  Holder after(lib, true, true);

  auto uses = find_processes_using({old_key});
  CHECK(use_by(uses, before.pid()));
  CHECK_FALSE(use_by(uses, after.pid()));
}

TEST_CASE("No old files, no scan, a missing /proc finds nothing") {
  CHECK(find_processes_using({}).empty());
  TempDir dir;
  CHECK(find_processes_using({{1, 1, "x"}}, (dir / "no-proc").string()).empty());
}

namespace {

std::string maps_line(dev_t dev, ino_t ino, const std::string& path) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "7f3a1c000000-7f3a1c021000 r-xp 00002000 %02x:%02x %-26llu %s\n",
                major(dev), minor(dev), static_cast<unsigned long long>(ino), path.c_str());
  return buf;
}

struct FakeProc {
  TempDir dir;
  fs::path root = dir / "proc";

  void file(pid_t pid, const std::string& name, const std::string& contents) {
    hotfix::test::write_file(root / std::to_string(pid) / name, contents);
  }
  void fd(pid_t pid, int n, const fs::path& target) {
    fs::create_directories(root / std::to_string(pid) / "fd");
    fs::create_symlink(target, root / std::to_string(pid) / "fd" / std::to_string(n));
  }
  std::vector<ProcessUse> scan(const std::vector<FileIdentityKey>& keys) {
    return find_processes_using(keys, root.string());
  }
};

}  // namespace

TEST_CASE("A fake /proc: matching by device and inode, command lines, units, vanished processes") {
  FakeProc proc;
  const fs::path old_file = proc.dir / "files/libold.so";
  const fs::path other_file = proc.dir / "files/libother.so";
  hotfix::test::write_file(old_file, kOld);
  hotfix::test::write_file(other_file, kOld);
  const FileIdentityKey key = identity(old_file, "usr/lib/libold.so");
  const FileIdentityKey other = identity(other_file, "usr/lib/libother.so");
  const std::string unrelated =
      "7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]\n"
      "55d0c000-55d0d000 r--p 00000000 fd:02 99  /usr/bin/x\n";

  // Maps the old file, which has since been deleted; a name with spaces.
  proc.file(100, "maps",
            unrelated + maps_line(key.dev, key.ino, "/srv/root/usr/lib/libold.so (deleted)"));
  proc.file(100, "cmdline", std::string("/usr/sbin/nginx\0-g\0daemon off;\0", 32));
  proc.file(100, "cgroup", "0::/system.slice/nginx.service\n");
  // Holds it open only; cgroup v1 with a named systemd hierarchy.
  proc.fd(200, 0, "/dev/null");
  proc.fd(200, 3, old_file);
  proc.fd(200, 4, proc.dir / "dangling");
  proc.file(200, "cmdline", std::string("sleep\0", 6));
  proc.file(200, "cgroup",
            "12:pids:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n");
  // Both; no command line (a kernel-side name instead); a unit inside a user manager.
  proc.file(300, "maps", maps_line(key.dev, key.ino, "/srv/root/usr/lib/libold.so"));
  proc.fd(300, 7, old_file);
  proc.file(300, "cmdline", "");
  proc.file(300, "comm", "worker\n");
  proc.file(300, "cgroup",
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n");
  // Vanished: the directory is listed but its files are gone.
  fs::create_directories(proc.root / "400");
  // Vanished after its maps were read: no command line.
  proc.file(500, "maps", maps_line(key.dev, key.ino, "/x"));
  // The scanning process itself.
  proc.file(getpid(), "maps", maps_line(key.dev, key.ino, "/x"));
  proc.file(getpid(), "cmdline", std::string("self\0", 5));
  // Same inode number on another device, and another file: not ours.
  proc.file(600, "maps",
            maps_line(makedev(major(key.dev), minor(key.dev) + 1), key.ino, "/y") +
                maps_line(other.dev, other.ino, "/z"));
  proc.file(600, "cmdline", std::string("other\0", 6));
  proc.fd(700, 1, other_file);
  proc.file(700, "cmdline", std::string("other\0", 6));
  // Open, in no unit at all.
  proc.fd(800, 5, old_file);
  proc.file(800, "cmdline", std::string("a\0b\0", 4));
  proc.file(800, "cgroup", "0::/\n");
  // Not processes.
  fs::create_directory_symlink("100", proc.root / "self");
  fs::create_directories(proc.root / "net");
  fs::create_directories(proc.root / "1a");

  auto uses = proc.scan({key});
  REQUIRE(uses.size() == 4);
  CHECK(uses[0].pid == 100);
  CHECK(uses[0].how == "mapped");
  CHECK(uses[0].command_line == "/usr/sbin/nginx -g daemon off;");
  CHECK(uses[0].unit == "nginx.service");
  CHECK(uses[0].paths == std::vector<std::string>{"usr/lib/libold.so"});
  CHECK(uses[1].pid == 200);
  CHECK(uses[1].how == "open");
  CHECK(uses[1].command_line == "sleep");
  CHECK(uses[1].unit == "cron.service");
  CHECK(uses[2].pid == 300);
  CHECK(uses[2].how == "mapped, open");
  CHECK(uses[2].command_line == "[worker]");
  CHECK(uses[2].unit == "foo.service");
  CHECK(uses[3].pid == 800);
  CHECK(uses[3].how == "open");
  CHECK(uses[3].command_line == "a b");
  CHECK(uses[3].unit.empty());

  // Both files asked for: 600 and 700 use the other one; hard-linked names both reported.
  FileIdentityKey alias = key;
  alias.path = "usr/lib/libold-alias.so";
  uses = proc.scan({other, key, alias});
  REQUIRE(uses.size() == 6);
  CHECK(uses[0].paths == std::vector<std::string>{"usr/lib/libold.so", "usr/lib/libold-alias.so"});
  CHECK(uses[3].pid == 600);
  CHECK(uses[3].how == "mapped");
  CHECK(uses[3].paths == std::vector<std::string>{"usr/lib/libother.so"});
  CHECK(uses[4].pid == 700);
  CHECK(uses[4].how == "open");
}

TEST_CASE("The systemd unit is read from the cgroup path") {
  using hotfix::systemd_unit_from_cgroup;
  CHECK(systemd_unit_from_cgroup("0::/system.slice/nginx.service\n") == "nginx.service");
  CHECK(systemd_unit_from_cgroup("0::/system.slice/nginx.service") == "nginx.service");
  CHECK(systemd_unit_from_cgroup("0::/system.slice/docker.service/payload\n") == "docker.service");
  CHECK(systemd_unit_from_cgroup("0::/system.slice/system-getty.slice/getty@tty1.service\n") ==
        "getty@tty1.service");
  CHECK(systemd_unit_from_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n") ==
        "session-3.scope");
  CHECK(systemd_unit_from_cgroup("0::/init.scope\n") == "init.scope");
  CHECK(systemd_unit_from_cgroup("0::/\n").empty());
  CHECK(systemd_unit_from_cgroup("0::/system.slice\n").empty());
  CHECK(systemd_unit_from_cgroup("").empty());
  CHECK(systemd_unit_from_cgroup("garbage\nmore:garbage\n").empty());
  // cgroup v1: only the systemd hierarchy counts.
  CHECK(systemd_unit_from_cgroup("4:memory:/system.slice/a.service\n1:name=systemd:/\n").empty());
  CHECK(systemd_unit_from_cgroup("4:memory:/x\n1:name=systemd:/system.slice/ssh.service\n0::/"
                                 "system.slice/ssh.service\n") == "ssh.service");
  // Hybrid where the named hierarchy is at the root: the unified one is used.
  CHECK(systemd_unit_from_cgroup("1:name=systemd:/\n0::/system.slice/ssh.service\n") ==
        "ssh.service");
}
