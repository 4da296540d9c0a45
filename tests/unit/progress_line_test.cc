// The progress line (manifests/progress.h): what it says, and that it says nothing when
// disabled.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "manifests/progress.h"

using hotfix::progress_line;

TEST_CASE("the progress line gives files, bytes, and rate and time left once it can") {
  CHECK(progress_line("verify", 3, 47, 0, 0, 0.0) == "verify: 3/47 files, 0.0 MiB");
  CHECK(progress_line("build", 12, 47, 3 << 20, 8 << 20, 0.1) ==
        "build: 12/47 files, 3.0/8.0 MiB");  // too early for a rate
  CHECK(progress_line("build", 12, 47, 4 << 20, 8 << 20, 2.0) ==
        "build: 12/47 files, 4.0/8.0 MiB, 2.0 MiB/s, 2 s left");
  CHECK(progress_line("apply", 1, 2, 1 << 20, 241 << 20, 1.0) ==
        "apply: 1/2 files, 1.0/241.0 MiB, 1.0 MiB/s, 4 min 0 s left");
  // Bytes to come unknown: the time left goes by files.
  CHECK(progress_line("verify", 10, 40, 5 << 20, 0, 2.0) ==
        "verify: 10/40 files, 5.0 MiB, 2.5 MiB/s, 6 s left");
  CHECK(progress_line("uninstall", 2, 0, 0, 0, 5.0) == "uninstall: 2 files, 0.0 MiB");
}

TEST_CASE("a disabled progress writes nothing, and one not on a terminal is not wanted") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  {
    hotfix::Progress progress("build", false, fds[1]);
    progress.add_totals(10, 100);
    progress.advance(5, 50);
    progress.finish();
  }
  CHECK_FALSE(hotfix::Progress::wanted(false, false, fds[1]));  // a pipe
  CHECK_FALSE(hotfix::Progress::wanted(true, false, fds[1]));
  ::close(fds[1]);
  char c = 0;
  CHECK(::read(fds[0], &c, 1) == 0);
  ::close(fds[0]);
}

TEST_CASE("an enabled progress draws in place and clears its line at the end") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  {
    hotfix::Progress progress("build", true, fds[1]);
    progress.add_totals(2, 0);
    progress.advance(1, 0);
    progress.advance(1, 0);  // within 100 ms of the first: not drawn
  }
  ::close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, n);
  ::close(fds[0]);
  CHECK(out == "\rbuild: 1/2 files, 0.0 MiB\x1b[K\r\x1b[K");
}
