// A reader reads a multi-megabyte configuration file and a binary whole, over and over, while
// the real hotfix-installer replaces them (apply) and puts them back (uninstall): every read
// must be exactly the old or exactly the new content, never a mix, never missing.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tests/support/bundle_factory.h"
#include "tests/support/child_process.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

using hotfix::test::RunResult;
using hotfix::test::TempDir;
using hotfix::test::TreeFile;

namespace {

constexpr int kFiles = 2;

// Shared between the test and the reader process.
struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<bool> installer_running{false};
  struct PerFile {
    std::atomic<long> reads{0}, old_reads{0}, new_reads{0}, torn{0}, failed{0};
    std::atomic<long> during{0};          // reads that overlapped an installer run
    std::atomic<long> in_transaction{0};  // reads while a transaction was pending (its journal)
    std::atomic<long> switches{0};        // reads whose content differed from the read before
    std::atomic<long> torn_size{-1};
  } file[kFiles];
};

// Reads the whole file into `buf`; -1 when it cannot be opened or read.
long read_whole(const std::string& path, std::vector<char>& buf) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t size = 0;
  while (true) {
    if (size == buf.size()) buf.resize(buf.size() * 2);
    ssize_t n = ::read(fd, buf.data() + size, buf.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return -1;
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return static_cast<long>(size);
}

bool same(const std::vector<char>& buf, long size, const std::string& content) {
  return size == static_cast<long>(content.size()) &&
         std::memcmp(buf.data(), content.data(), content.size()) == 0;
}

[[noreturn]] void reader(Shared& shared, const std::string& journal,
                         const std::string (&paths)[kFiles],
                         const std::string (&old_content)[kFiles],
                         const std::string (&new_content)[kFiles]) {
  std::vector<char> buf(1 << 20);
  int last[kFiles] = {0, 0};  // 0 none yet, 1 old, 2 new
  while (!shared.stop.load()) {
    for (int f = 0; f < kFiles; ++f) {
      Shared::PerFile& s = shared.file[f];
      bool running_before = shared.installer_running.load();
      bool journal_before = ::access(journal.c_str(), F_OK) == 0;
      long size = read_whole(paths[f], buf);
      bool journal_after = ::access(journal.c_str(), F_OK) == 0;
      bool running_after = shared.installer_running.load();
      ++s.reads;
      if (running_before || running_after) ++s.during;
      if (journal_before || journal_after) ++s.in_transaction;
      int now = 0;
      if (size < 0) {
        ++s.failed;
      } else if (same(buf, size, old_content[f])) {
        ++s.old_reads;
        now = 1;
      } else if (same(buf, size, new_content[f])) {
        ++s.new_reads;
        now = 2;
      } else {
        ++s.torn;
        s.torn_size = size;
      }
      if (now && last[f] && now != last[f]) ++s.switches;
      if (now) last[f] = now;
    }
  }
  ::_exit(0);
}

}  // namespace

TEST_CASE("a reader never sees a torn or missing file while apply and uninstall replace it") {
  hotfix::test::BundleFactory factory;
  const std::string names[kFiles] = {"etc/app/server.config", "usr/sbin/server"};
  std::vector<std::string> binaries = hotfix::test::sample_contents(2, 1 << 20, 3 << 20);
  std::string old_content[kFiles], new_content[kFiles];
  for (int i = 0; old_content[0].size() < (4u << 20); ++i) {
    std::string line = "<add key=\"setting" + std::to_string(i) + "\" value=\"" +
                       std::to_string(i * 2654435761u % 1000003) + "\" />\n";
    old_content[0] += line;
    new_content[0] += "<!-- hotfix -->" + line;
  }
  old_content[1] = binaries[0];
  new_content[1] = binaries[1];
  std::string bundle = factory.build("KB300001", {{names[0], new_content[0], 1700000040, {}},
                                                  {names[1], new_content[1], 1700000040, {}}});
  TempDir tmp;
  const std::string root = (tmp / "root").string();
  hotfix::test::make_linux_root(root);
  hotfix::test::write_tree(root, {{names[0], old_content[0], 1600000020, 0640},
                                  {names[1], old_content[1], 1600000020, 0755}});
  const std::string paths[kFiles] = {root + "/" + names[0], root + "/" + names[1]};

  auto* shared = static_cast<Shared*>(
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  REQUIRE(shared != MAP_FAILED);
  new (shared) Shared();
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0)
    reader(*shared, root + "/var/lib/hotfix/journal.json", paths, old_content, new_content);

  // Cycles until the reader has been seen at work across enough replacements: a loaded
  // machine takes more cycles, never a failure.
  const int min_cycles = 4, max_cycles = 40;
  const long wanted_in_transaction = 100;
  int cycles = 0;
  auto installer = [&](std::vector<std::string> args) {
    args.insert(args.begin(), hotfix::test::installer_path());
    args.push_back("--root");
    args.push_back(root);
    shared->installer_running = true;
    RunResult r = hotfix::test::run(args);
    shared->installer_running = false;
    return r;
  };
  auto enough = [&] {
    for (const auto& f : shared->file) {
      if (f.in_transaction < wanted_in_transaction || f.switches < 2) return false;
    }
    return true;
  };
  bool ok = true;
  std::string failure;
  while (ok && cycles < max_cycles && (cycles < min_cycles || !enough())) {
    RunResult a = installer({"apply", bundle, "--trust", factory.pub()});
    RunResult u = installer({"uninstall", "KB300001"});
    ok = a.exit_code == 0 && u.exit_code == 0;
    failure = a.err + u.err;
    ++cycles;
  }
  shared->stop = true;
  int status = 0;
  ::waitpid(child, &status, 0);
  INFO(failure);
  REQUIRE(ok);

  for (int f = 0; f < kFiles; ++f) {
    const Shared::PerFile& s = shared->file[f];
    std::printf(
        "torn-read test: %s: %ld reads (%ld old, %ld new), %ld during apply/uninstall, %ld "
        "while a transaction was pending, %ld changes of content seen, %ld torn, %ld failed, "
        "in %d cycles\n",
        names[f].c_str(), s.reads.load(), s.old_reads.load(), s.new_reads.load(), s.during.load(),
        s.in_transaction.load(), s.switches.load(), s.torn.load(), s.failed.load(), cycles);
    INFO(names[f] << ": a torn read of " << s.torn_size.load() << " bytes");
    CHECK(s.torn == 0);
    CHECK(s.failed == 0);
    CHECK(s.old_reads + s.new_reads == s.reads);
    // The reads really happened while the files were being replaced.
    CHECK(s.during >= 20);
    CHECK(s.in_transaction >= 10);
    CHECK(s.switches >= 2);
    CHECK(s.old_reads > 0);
    CHECK(s.new_reads > 0);
  }
  std::fflush(stdout);
  ::munmap(shared, sizeof(Shared));
}
