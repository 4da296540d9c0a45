// Progress on standard error, end to end: drawn when it is a terminal (a pseudo-terminal made
// by script(1)), never in a pipe, with --json or with --quiet.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/kb967131_sample.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

using hotfix::test::run;
using hotfix::test::RunResult;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

const hotfix::test::Kb967131Sample& sample() {
  static hotfix::test::Kb967131Sample s({"x64"});
  return s;
}

std::string quoted(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& a : argv) line += (line.empty() ? "'" : " '") + a + "'";
  return line;
}

// Runs `argv` with standard output and error on one pseudo-terminal; returns what it showed.
RunResult on_terminal(const std::vector<std::string>& argv) {
  return run({"/usr/bin/script", "--quiet", "--return", "--command", quoted(argv), "/dev/null"},
             {"TERM=dumb"});
}

bool drew(const std::string& out, const std::string& label) {
  return out.find("\r" + label + ": ") != std::string::npos &&
         out.find("\x1b[K") != std::string::npos;
}

}  // namespace

TEST_CASE("apply, verify and uninstall show progress on a terminal and only there") {
  TempDir tmp;
  const std::string root = sample().root(tmp);
  const std::string i = hotfix::test::installer_path();
  const std::vector<std::string> apply{i,    "apply",   sample().bundle("x64"), "--root",
                                       root, "--trust", sample().pub()};
  RunResult dry = on_terminal(
      {i, "apply", sample().bundle("x64"), "--root", root, "--trust", sample().pub(), "--dry-run"});
  CHECK(!drew(dry.out, "apply: staging"));  // a dry run stages nothing
  RunResult r = on_terminal(apply);
  INFO(r.out);
  CHECK(r.exit_code == 10);
  CHECK(drew(r.out, "apply: staging"));
  CHECK(r.out.find(" files, ") != std::string::npos);

  RunResult v = on_terminal({i, "verify", "--root", root});
  CHECK(v.exit_code == 0);
  CHECK(drew(v.out, "verify"));
  CHECK(!drew(on_terminal({i, "verify", "--root", root, "--quiet"}).out, "verify"));
  RunResult json = on_terminal({i, "verify", "--root", root, "--json"});
  CHECK(json.out.find('\r' + std::string("verify: ")) == std::string::npos);
  // In a pipe: no progress, no escapes.
  RunResult piped = run({i, "verify", "--root", root});
  CHECK(piped.err.find('\r') == std::string::npos);
  CHECK(piped.out.find('\x1b') == std::string::npos);

  RunResult u = on_terminal({i, "uninstall", "KB967131", "--root", root});
  INFO(u.out);
  CHECK(u.exit_code == 10);
  CHECK(drew(u.out, "uninstall: restoring"));
}

TEST_CASE("build shows progress on a terminal, not with --quiet") {
  TempDir tmp;
  const std::string p = hotfix::test::packager_path();
  REQUIRE(run({p, "keygen", "--out", (tmp / "k").string()}).exit_code == 0);
  const std::string drop = (sample().dir / "drops/x64").string();
  const std::string manifest = hotfix::test::source_path("samples/KB967131/hotfix.json");
  std::vector<std::string> build{p,
                                 "build",
                                 manifest,
                                 "--drop",
                                 "x64=" + drop,
                                 "--arch",
                                 "x64",
                                 "--key",
                                 (tmp / "k.key").string(),
                                 "--out",
                                 (tmp / "out").string()};
  RunResult r = on_terminal(build);
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(drew(r.out, "build"));
  build.push_back("-q");
  fs::remove_all(tmp / "out");
  RunResult quiet = on_terminal(build);
  CHECK(quiet.exit_code == 0);
  CHECK(!drew(quiet.out, "build"));
}
