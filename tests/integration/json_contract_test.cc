// The --json contract (docs/json.md): every command of both programs, on success and on
// failure, usage errors included, writes one envelope whose exit_code is the process's, and
// each validates against the JSON Schema its "schema" field names (docs/schemas/, checked by
// python3-jsonschema).
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/hotfix_kit.h"
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

hotfix::test::KitHotfix kit_hotfix(const std::string& id) {
  hotfix::test::KitHotfix h;
  h.id = id;
  h.files = {{"app/bin/" + id + ".dll", *hotfix::Version::parse("1.0.0.2"), "",
              hotfix::FileKind::kBinary, false}};
  return h;
}

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
  // A signed repository served from file:// (docs/repository-format.md): the kit's key signs
  // targets and the bundles; "evil" is another repository, of other keys, that a source
  // trusting the first one's root reads; "down" is a mirror that does not answer.
  hotfix::test::HotfixKit kit;
  const std::string kb100 = kit.build(kit_hotfix("KB100")), kb200 = kit.build(kit_hotfix("KB200"));
  const std::string server =
      kit.make_root("server", {{"app/bin/KB100.dll", *hotfix::Version::parse("1.0.0.1"), "",
                                hotfix::FileKind::kBinary, false}});
  const std::string repo = (tmp / "www" / "repo").string(), evil = (tmp / "www" / "evil").string();
  const std::string root_metadata = repo + "/metadata/1.root.json";
  const std::string targets_key = (kit.dir() / "key.key").string();
  auto k = [&](const std::string& name) { return (tmp / (name + ".key")).string(); };
  const std::vector<std::string> publish{"--targets-key", targets_key, "--online-key", k("online")};
  auto with = [](std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
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
      {p, {{"keygen", "--out", (tmp / "root").string()}, 0}},
      {p, {{"keygen", "--out", (tmp / "online").string()}, 0}},
      {p, {{"keygen", "--out", (tmp / "online2").string()}, 0}},
      {p, {{"keygen", "--out", (tmp / "evil").string()}, 0}},
      {p,
       {{"repo", "init", repo, "--root-key", k("root"), "--targets-key", targets_key,
         "--online-key", k("online")},
        0}},
      {p,
       {{"repo", "init", repo, "--root-key", k("root"), "--targets-key", targets_key,
         "--online-key", k("online")},
        2}},
      {p,
       {{"repo", "init", evil, "--root-key", k("evil"), "--targets-key", targets_key,
         "--online-key", k("evil")},
        0}},
      {p, {with({"repo", "add", repo, kb100, kb200}, publish), 0}},
      {p, {with({"repo", "add", repo, kb100}, publish), 0}},
      {p, {with({"repo", "add", repo, nothere}, publish), 2}},
      {p, {with({"repo", "add", evil, kb100}, publish), 3}},
      {p, {{"repo", "status", repo}, 0}},
      {p, {{"repo", "status", nothere}, 2}},
      {p, {{"repo", "refresh", repo, "--online-key", k("online")}, 0}},
      {p, {{"repo", "refresh", repo, "--online-key", k("online2")}, 3}},
      {p, {with({"repo", "remove", repo, "KB200"}, publish), 0}},
      {p, {with({"repo", "remove", repo, "KB999"}, publish), 2}},
      {p,
       {{"repo", "rotate", repo, "--role", "timestamp", "--new-key", k("online2"), "--root-key",
         k("root"), "--online-key", k("online")},
        0}},
      {p,
       {{"repo", "rotate", repo, "--role", "bogus", "--new-key", k("online2"), "--root-key",
         k("root")},
        2}},
      {p, {{"repo", "status"}, 2}},
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
      {i, {{"uninstall", "KB967131", "--root", root, "--dry-run"}, 0}},
      {i, {{"uninstall", "KB967131", "--root", root}, 10}},
      {i, {{"status", "--root", root}, 10}},
      {i,
       {{"source", "add", "corp", "file://" + repo, "--root", server, "--root-metadata",
         root_metadata},
        0}},
      {i,
       {{"source", "add", "corp", "file://" + repo, "--root", server, "--root-metadata",
         root_metadata},
        2}},
      {i,
       {{"source", "add", "down", "http://127.0.0.1:9/repo", "--root", server, "--root-metadata",
         root_metadata},
        0}},
      {i,
       {{"source", "add", "evil", "file://" + evil, "--root", server, "--root-metadata",
         root_metadata},
        0}},
      {i, {{"source", "list", "--root", server}, 0}},
      {i, {{"source", "list", "--root", nothere}, 2}},
      {i, {{"sync", "--root", server, "--source", "corp", "--dry-run"}, 0}},
      {i, {{"apply", "KB100", "--root", server, "--source", "corp", "--dry-run"}, 0}},
      {i, {{"sync", "--root", server, "--source", "corp"}, 0}},
      {i, {{"sync", "--root", server, "--source", "down"}, 9}},
      {i, {{"sync", "--root", server, "--source", "evil"}, 8}},
      {i, {{"sync", "--root", server, "--source", "none"}, 2}},
      {i, {{"fetch", "KB100", "--root", server, "--source", "corp"}, 0}},
      {i, {{"fetch", "KB200", "--root", server, "--source", "corp"}, 5}},
      {i, {{"apply", "KB100", "--root", server, "--source", "corp"}, 0}},
      {i, {{"apply", "KB200", "--root", server, "--source", "corp"}, 5}},
      {i, {{"sync", "--root", server, "--source", "corp"}, 0}},
      {i, {{"history", "--root", server}, 0}},
      {i, {{"source", "list", "--root", server}, 0}},
      {i, {{"source", "remove", "down", "--root", server}, 0}},
      {i, {{"source", "remove", "down", "--root", server}, 2}},
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
  for (const char* s : {"hotfix-installer.apply.v1",
                        "hotfix-installer.uninstall.v1",
                        "hotfix-installer.list.v1",
                        "hotfix-installer.history.v1",
                        "hotfix-installer.verify.v1",
                        "hotfix-installer.status.v1",
                        "hotfix-installer.facts.v1",
                        "hotfix-installer.recover.v1",
                        "hotfix-installer.check.v1",
                        "hotfix-installer.v1",
                        "hotfix-packager.keygen.v1",
                        "hotfix-packager.scan.v1",
                        "hotfix-packager.build.v1",
                        "hotfix-packager.inspect.v1",
                        "hotfix-packager.verify.v1",
                        "hotfix-packager.describe.v1",
                        "hotfix-packager.manifest-refresh.v1",
                        "hotfix-packager.repo-init.v1",
                        "hotfix-packager.repo-add.v1",
                        "hotfix-packager.repo-remove.v1",
                        "hotfix-packager.repo-refresh.v1",
                        "hotfix-packager.repo-rotate.v1",
                        "hotfix-packager.repo-status.v1",
                        "hotfix-installer.source-add.v1",
                        "hotfix-installer.source-list.v1",
                        "hotfix-installer.source-remove.v1",
                        "hotfix-installer.sync.v1",
                        "hotfix-installer.fetch.v1",
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
