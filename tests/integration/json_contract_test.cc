// The --json contract (docs/json.md): every command of both programs, on success and on
// failure, usage errors included, writes one envelope whose exit_code is the process's, and
// each validates against the JSON Schema its "schema" field names (docs/schemas/, checked by
// python3-jsonschema).
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/json_output.h"
#include "tests/support/kb967131_sample.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

using hotfix::test::RunResult;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct Call {
  std::vector<std::string> args;  // after the program
  int exit_code;
};

}  // namespace

TEST_CASE("every command's --json output is one envelope valid against its schema") {
  hotfix::test::Kb967131Sample sample({"x86", "x64"});
  TempDir tmp;
  const std::string root = sample.root(tmp);
  const std::string pub = sample.pub(), x64 = sample.bundle("x64"), x86 = sample.bundle("x86");
  const std::string manifest = hotfix::test::source_path("samples/KB967131/hotfix.json");
  const std::string key = (tmp / "k").string();
  const std::string drops = (sample.dir / "drops").string();
  const std::string out = (tmp / "bundles").string();
  const std::string nothere = (tmp / "nothere").string();
  const std::string i = hotfix::test::installer_path(), p = hotfix::test::packager_path();
  const std::vector<std::pair<std::string, Call>> calls = {
      {p, {{"keygen", "--out", key}, 0}},
      {p, {{"scan", drops + "/x64"}, 0}},
      {p, {{"scan", drops + "/x64", "--manifest-id", "KB1", "--arch", "x64"}, 0}},
      {p,
       {{"scan", "--drop", "x64=" + drops + "/x64", "--drop", "x86=" + drops + "/x86",
         "--manifest-id", "KB1", "--restart", "reboot"},
        0}},
      {p, {{"scan", drops + "/x64", "--drop", "x64=" + drops + "/x64", "--manifest-id", "KB1"}, 2}},
      {p, {{"manifest", "refresh", manifest, "--drop", "x64=" + drops + "/x64", "--dry-run"}, 0}},
      {p, {{"manifest", "refresh", nothere, "--drop", "x64=" + drops + "/x64"}, 2}},
      {p, {{"manifest"}, 2}},
      {p,
       {{"build", manifest, "--drop", "x64=" + drops + "/x64", "--drop", "x86=" + drops + "/x86",
         "--arch", "x64", "--arch", "x86", "--key", key + ".key", "--out", out},
        0}},
      {p,
       {{"build", manifest, "--drop", "x64=" + drops + "/x86", "--drop", "x86=" + drops + "/x86",
         "--arch", "x64", "--arch", "x86", "--key", key + ".key", "--out", out + "2"},
        4}},
      {p, {{"inspect", x64}, 0}},
      {p, {{"inspect", x64, "--trust", pub}, 0}},
      {p, {{"verify", x64, "--trust", pub}, 0}},
      {p, {{"verify", x64, "--trust", key + ".pub"}, 3}},
      {p, {{"verify", nothere, "--trust", pub}, 2}},
      {p, {{"describe", manifest}, 0}},
      {p, {{"describe", x64}, 0}},
      {p, {{"frobnicate"}, 2}},
      {p, {{"build"}, 2}},
      {i, {{"facts", "--root", root}, 0}},
      {i, {{"list", "--root", root}, 0}},
      {i, {{"apply", x64, "--trust", pub, "--root", root, "--dry-run"}, 0}},
      {i, {{"apply", x86, "--trust", pub, "--root", root}, 5}},
      {i, {{"apply", x64, "--trust", key + ".pub", "--root", root}, 3}},
      {i, {{"apply", nothere, "--trust", pub, "--root", root}, 2}},
      {i, {{"apply", x86, x64, "--trust", pub, "--root", root, "--skip-inapplicable"}, 10}},
      {i, {{"apply", x64, "--trust", pub, "--root", root}, 0}},
      {i, {{"apply", x64, "--trust", pub, "--root", root, "--reinstall"}, 0}},
      {i, {{"list", "--root", root}, 0}},
      {i, {{"history", "--root", root}, 0}},
      {i, {{"status", "--root", root}, 10}},
      {i, {{"verify", "--root", root}, 0}},
      {i, {{"verify", "KB967131", "--root", root}, 0}},
      {i, {{"verify", "KB1", "--root", root}, 5}},
      {i, {{"recover", "--root", root}, 0}},
      {i, {{"check", "--root", root}, 10}},
      {i, {{"check", "KB1", "--root", root}, 5}},
      {i, {{"uninstall", "KB1", "--root", root}, 5}},
      {i, {{"uninstall", "KB1", "--root", root, "--missing-ok"}, 0}},
      {i, {{"uninstall", "KB967131", "--root", root}, 10}},
      {i, {{"status", "--root", root}, 10}},
      {i, {{"aply"}, 2}},
      {i, {{"apply", "--root", root}, 2}},
  };
  std::vector<std::string> files;
  std::set<std::string> schemas;
  for (std::size_t n = 0; n < calls.size(); ++n) {
    const auto& [program, call] = calls[n];
    std::vector<std::string> argv{program};
    argv.insert(argv.end(), call.args.begin(), call.args.end());
    argv.push_back("--json");
    RunResult r = hotfix::test::run(argv);
    INFO(fs::path(program).filename().string()
         << " " << call.args[0] << " (call " << n << "): " << r.out << r.err);
    CHECK(r.exit_code == call.exit_code);
    nlohmann::json doc;
    REQUIRE_NOTHROW(doc = hotfix::test::json_envelope(r.out));
    CHECK(doc["exit_code"] == r.exit_code);
    CHECK(doc["ok"] == (r.exit_code == 0 || r.exit_code == 10));
    CHECK(doc["errors"].empty() == (r.exit_code == 0 || r.exit_code == 10));
    schemas.insert(doc["schema"].get<std::string>());
    std::string file = (tmp / ("out-" + std::to_string(n) + ".json")).string();
    hotfix::test::write_file(file, r.out);
    files.push_back(file);
  }
  // Every command of both programs, and the bare envelope of a usage error, was seen.
  for (const char* s :
       {"hotfix-installer.apply.v1", "hotfix-installer.uninstall.v1", "hotfix-installer.list.v1",
        "hotfix-installer.history.v1", "hotfix-installer.verify.v1", "hotfix-installer.status.v1",
        "hotfix-installer.facts.v1", "hotfix-installer.recover.v1", "hotfix-installer.check.v1",
        "hotfix-installer.v1", "hotfix-packager.keygen.v1", "hotfix-packager.scan.v1",
        "hotfix-packager.build.v1", "hotfix-packager.inspect.v1", "hotfix-packager.verify.v1",
        "hotfix-packager.describe.v1", "hotfix-packager.manifest-refresh.v1",
        "hotfix-packager.v1"}) {
    CHECK(schemas.count(s) == 1);
  }
  std::vector<std::string> validate{"/usr/bin/python3",
                                    hotfix::test::source_path("tests/json/validate_outputs.py"),
                                    hotfix::test::source_path("docs/schemas")};
  validate.insert(validate.end(), files.begin(), files.end());
  RunResult v = hotfix::test::run(validate);
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
}
