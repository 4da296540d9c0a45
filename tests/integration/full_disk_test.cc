// A real full disk: a small tmpfs, mounted by the test (as root; skipped with a visible
// warning where mounting is impossible), holds the root. The free-space check refuses what
// cannot fit; when the disk fills up behind the check's back while files are staged, apply
// fails with a system error (exit 7) and the root comes back whole.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "manifests/bundle_format.h"
#include "packager/bundle_writer.h"
#include "tests/support/pseudo_random.h"
#include "tests/support/root_state.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

using hotfix::test::pseudo_random;
using hotfix::test::RunResult;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

extern char** environ;

namespace {

// A tmpfs of `size` bytes, unmounted at scope exit.
class Tmpfs {
 public:
  // `inodes`: at most this many files and directories (0: the tmpfs default).
  explicit Tmpfs(std::uint64_t size, std::uint64_t inodes = 0) : path_((dir_ / "fs").string()) {
    fs::create_directory(path_);
    if (::geteuid() != 0) {
      error_ = "not running as root";
      return;
    }
    std::string options = "size=" + std::to_string(size) + ",mode=0755";
    if (inodes) options += ",nr_inodes=" + std::to_string(inodes);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      error_ = std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  std::uint64_t available() const {
    struct statvfs vfs {};
    ::statvfs(path_.c_str(), &vfs);
    return static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }

 private:
  TempDir dir_;
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

#define SKIP_UNLESS_MOUNTED(tmpfs)                                                        \
  if (!(tmpfs).mounted()) {                                                               \
    WARN("SKIPPED: cannot mount a tmpfs for the full-disk test (" << (tmpfs).error()      \
                                                                  << "); it needs root"); \
    return;                                                                               \
  }

// Bundles and the key, kept off the small filesystem.
struct Bundles {
  TempDir dir;
  hotfix::PrivateKey key = hotfix::PrivateKey::generate();
  Bundles() { hotfix::write_key_pair(key, (dir / "k").string(), true); }
  std::string pub() const { return (dir / "k.pub").string(); }

  // files: destination directory, name, content.
  std::string make(const std::string& id,
                   const std::vector<std::tuple<std::string, std::string, std::string>>& files) {
    hotfix::Manifest m;
    m.id = id;
    m.title = id;
    m.languages = {"en-US"};
    std::string drop = (dir / ("drop-" + id)).string();
    for (const auto& [destination, name, content] : files) {
      hotfix::FileEntry f;
      f.name = name;
      f.destination = destination;
      f.size = content.size();
      f.timestamp = hotfix::Timestamp(1700000000);
      f.platform = hotfix::Arch::kNeutral;
      m.architectures[hotfix::Arch::kX64].push_back(f);
      hotfix::test::write_file(drop + "/" + f.path(), content);
    }
    m.bundle = hotfix::BundleScope{hotfix::Arch::kX64, std::nullopt, ""};
    std::string out = (dir / (id + ".hotfix")).string();
    hotfix::write_bundle(m, drop, key, out);
    return out;
  }
};

RunResult apply(const std::string& root, const std::string& bundle, const std::string& pub) {
  return hotfix::test::run(
      {hotfix::test::installer_path(), "apply", bundle, "--root", root, "--trust", pub});
}

// A root on `tmpfs` with a hotfix already installed, so that its state directory exists.
std::string make_root(const Tmpfs& tmpfs, Bundles& bundles) {
  std::string root = tmpfs.path() + "/root";
  hotfix::test::write_file(root + "/etc/hotfix/system.json",
                           R"({"family": "linux", "product": "Debian GNU/Linux", "version": "12",
                               "service_pack": 0, "architecture": "x64", "hotfixes": []})");
  hotfix::test::write_file(root + "/app/x.txt", "old content\n");
  std::string first = bundles.make("KB300000", {{"app", "first.txt", "installed first\n"}});
  RunResult r = apply(root, first, bundles.pub());
  if (r.exit_code != 0) throw std::runtime_error("cannot install KB300000: " + r.err);
  return root;
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The refusal or failure left the root as it was.
// `refused`: the free-space check refused, which the history records.
void check_root_whole(const std::string& root, const hotfix::test::RootState& before,
                      bool refused = false) {
  std::string difference = hotfix::test::compare_root_states(
      before, hotfix::test::capture_root_state(root), refused ? 1 : 0);
  INFO(difference);
  CHECK(difference.empty());
  std::vector<std::string> left = hotfix::test::transaction_leftovers(root);
  INFO("left behind: " << (left.empty() ? "nothing" : left.front()));
  CHECK(left.empty());
}

// Takes every free byte of the filesystem holding `path`.
void fill_up(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  struct statvfs vfs {};
  REQUIRE(::fstatvfs(fd, &vfs) == 0);
  off_t size = static_cast<off_t>(vfs.f_bavail * vfs.f_frsize);
  if (size > 0 && ::posix_fallocate(fd, 0, size) != 0) size = 0;
  std::string block(4096, 'f');
  if (::lseek(fd, size, SEEK_SET) < 0) size = 0;
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  ::close(fd);
}

}  // namespace

TEST_CASE("full disk: the free-space check refuses a bundle that cannot fit, changing nothing") {
  Tmpfs tmpfs(4 << 20);
  SKIP_UNLESS_MOUNTED(tmpfs);
  Bundles bundles;
  std::string root = make_root(tmpfs, bundles);
  std::string big = bundles.make("KB300001", {{"app", "big.bin", pseudo_random(6 << 20, 1)}});
  hotfix::test::RootState before = hotfix::test::capture_root_state(root);
  RunResult r = apply(root, big, bundles.pub());
  INFO(r.err);
  CHECK(r.exit_code == 7);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("hotfix-installer: error: " + root +
                   ": not enough free space: staging needs ") == 0);
  CHECK(r.err.find("nothing was changed") != std::string::npos);
  check_root_whole(root, before, true);
}

TEST_CASE("full disk: many small files are counted in whole blocks by the free-space check") {
  // 800 files of 100 bytes: 80 KB of data, but 800 blocks (3.2 MiB) on the disk.
  Tmpfs tmpfs(3 << 20);
  SKIP_UNLESS_MOUNTED(tmpfs);
  Bundles bundles;
  std::string root = make_root(tmpfs, bundles);
  std::vector<std::tuple<std::string, std::string, std::string>> files;
  for (int i = 0; i < 800; ++i) {
    files.emplace_back("app/many", "f" + std::to_string(i) + ".txt",
                       std::to_string(i) + pseudo_random(96, static_cast<unsigned>(i)));
  }
  std::string many = bundles.make("KB300002", files);
  hotfix::test::RootState before = hotfix::test::capture_root_state(root);
  RunResult r = apply(root, many, bundles.pub());
  INFO(r.err);
  CHECK(r.exit_code == 7);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("not enough free space") != std::string::npos);
  check_root_whole(root, before, true);
}

TEST_CASE("full disk: running out of inodes with blocks to spare is refused, changing nothing") {
  // 64 MiB of space but few inodes: 150 one-byte files and their directories do not fit, 20 do.
  Tmpfs tmpfs(64 << 20, 120);
  SKIP_UNLESS_MOUNTED(tmpfs);
  Bundles bundles;
  std::string root = make_root(tmpfs, bundles);
  std::vector<std::tuple<std::string, std::string, std::string>> files;
  for (int i = 0; i < 150; ++i) {
    files.emplace_back("app/d" + std::to_string(i % 10), "f" + std::to_string(i), "x");
  }
  std::string many = bundles.make("KB300004", files);
  hotfix::test::RootState before = hotfix::test::capture_root_state(root);
  RunResult r = apply(root, many, bundles.pub());
  INFO(r.err);
  CHECK(r.exit_code == 7);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("hotfix-installer: error: " + root +
                   ": not enough free inodes: staging needs 168 (files and directories), ") == 0);
  CHECK(r.err.find("nothing was changed") != std::string::npos);
  check_root_whole(root, before, true);

  files.resize(20);
  RunResult fits = apply(root, bundles.make("KB300005", files), bundles.pub());
  INFO(fits.err);
  CHECK(fits.exit_code == 0);
}

TEST_CASE("full disk: the disk fills up while files are staged and the root comes back whole") {
  Tmpfs tmpfs(24 << 20);
  SKIP_UNLESS_MOUNTED(tmpfs);
  Bundles bundles;
  std::string root = make_root(tmpfs, bundles);
  std::string big = bundles.make("KB300003", {{"app", "big.bin", pseudo_random(8 << 20, 3)},
                                              {"app", "x.txt", "new content\n"}});
  hotfix::test::RootState before = hotfix::test::capture_root_state(root);
  REQUIRE(tmpfs.available() > (8u << 20) + (2u << 20));  // the free-space check will pass

  // Watch for the first staged file, then stop the installer, fill the disk and let it go on:
  // no timing decides where it fails, only that the disk is full from then on.
  int watch = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  REQUIRE(watch >= 0);
  REQUIRE(::inotify_add_watch(watch, (root + "/app").c_str(), IN_CREATE) >= 0);
  TempDir out;
  std::string err_path = (out / "err").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<std::string> argv{
      hotfix::test::installer_path(), "apply", big, "--root", root, "--trust", bundles.pub()};
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);

  bool staged = false;
  int status = 0;
  bool exited = false;
  while (!staged && !exited) {
    struct pollfd p {
      watch, POLLIN, 0
    };
    ::poll(&p, 1, 50);
    alignas(inotify_event) char buffer[4096];
    ssize_t n = ::read(watch, buffer, sizeof buffer);
    for (ssize_t off = 0; n > 0 && off < n;) {
      auto* e = reinterpret_cast<inotify_event*>(buffer + off);
      if (e->len && std::string(e->name).rfind(".big.bin.hotfix-", 0) == 0) staged = true;
      off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
    if (staged) {
      ::kill(pid, SIGSTOP);
      fill_up(tmpfs.path() + "/filler");
      ::kill(pid, SIGCONT);
    } else if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
    }
  }
  ::close(watch);
  if (!exited) REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(staged);  // else the installer ended before staging: see its output
  std::string err = hotfix::test::read_file(err_path);
  INFO(err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
  CHECK(count_lines(err) == 1);
  CHECK(err.rfind("hotfix-installer: error: " + root + "/", 0) == 0);
  CHECK(err.find("No space left on device") != std::string::npos);

  fs::remove(tmpfs.path() + "/filler");
  check_root_whole(root, before);
  // With room again, the same bundle applies.
  RunResult again = apply(root, big, bundles.pub());
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(hotfix::test::read_file(root + "/app/x.txt") == "new content\n");
}
