// apply --reinstall: the installed revision's bundle puts back what verify finds not as
// promised, in one transaction, and an uninstall afterwards still restores what was there
// before the hotfix.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/hotfix_kit.h"
#include "tests/support/json_output.h"
#include "tests/support/kb967131_sample.h"
#include "tests/support/tree_snapshot.h"

using hotfix::Version;
using hotfix::test::HotfixKit;
using hotfix::test::KitFile;
using hotfix::test::KitHotfix;
using hotfix::test::run_installer;
using hotfix::test::RunResult;
using hotfix::test::snapshot_with_state;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

Version v(const std::string& text) { return *Version::parse(text); }
KitFile pe(const std::string& path, const std::string& version) { return {path, v(version), ""}; }
KitFile text(const std::string& path, const std::string& content) {
  return {path, std::nullopt, content};
}
KitFile config(const std::string& path, const std::string& content) {
  return {path, std::nullopt, content, hotfix::FileKind::kConfig};
}

RunResult apply(const HotfixKit& kit, const std::string& root, const std::string& bundle,
                std::vector<std::string> more = {}) {
  std::vector<std::string> args{"apply", bundle, "--root", root, "--trust", kit.pub()};
  args.insert(args.end(), more.begin(), more.end());
  return run_installer(args);
}

RunResult verify(const std::string& root) { return run_installer({"verify", "--root", root}); }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

json result_of(const RunResult& r) { return hotfix::test::json_data(r.out)["results"][0]; }

json decision(const json& result, const std::string& path) {
  for (const json& f : result["files"]) {
    if (f["path"] == path) return f;
  }
  FAIL("no plan entry for " << path);
  return {};
}

// The root and its state, but for the lock's mtime: taking the lock is not a change.
std::map<std::string, std::string> state_of(const std::string& root) {
  auto all = snapshot_with_state(root);
  all.erase("var/lib/hotfix/lock");
  return all;
}

json last_history(const std::string& root) {
  json all =
      hotfix::test::json_data(run_installer({"history", "--root", root, "--json"}).out)["entries"];
  return all.back();
}

// A root with the base files, and one hotfix over them: core.dll replaced, new.dll installed,
// util.dll skipped (the root has a newer one), app.conf a configuration file installed,
// kept.conf one kept (the root had one, of no record: NAME.hotfix-new is written beside it).
struct Installed {
  HotfixKit kit;
  std::string root;
  std::string bundle;
  std::map<std::string, std::string> before;  // the root before the hotfix
  Installed() {
    root = kit.make_root("root", {pe("app/core.dll", "1.0.0.0"), pe("app/util.dll", "2.0.0.0"),
                                  config("app/kept.conf", "mine\n")});
    bundle = kit.build({"KB300",
                        1,
                        hotfix::RestartRequirement::kNone,
                        {},
                        {},
                        hotfix::Arch::kX64,
                        {pe("app/core.dll", "1.0.0.5"), pe("app/new.dll", "1.0.0.5"),
                         pe("app/util.dll", "1.0.0.5"), config("app/app.conf", "listen 8080\n"),
                         config("app/kept.conf", "theirs\n")}});
    before = snapshot_with_state(root);
    REQUIRE(apply(kit, root, bundle).exit_code == 0);
    REQUIRE(verify(root).exit_code == 0);
  }
  std::string path(const std::string& rel) const { return root + "/" + rel; }
};

}  // namespace

TEST_CASE("reinstall puts back damaged, missing and re-moded files, then verify passes") {
  Installed s;
  std::string core = hotfix::test::read_file(s.path("app/core.dll"));
  std::string damaged = core;
  damaged[damaged.size() / 2] ^= 0x5a;
  hotfix::test::write_file(s.path("app/core.dll"), damaged);
  fs::remove(s.path("app/new.dll"));
  REQUIRE(::chmod(s.path("app/util.dll").c_str(), 0600) == 0);  // skipped: held to V only
  hotfix::test::write_file(s.path("app/kept.conf.hotfix-new"), "merged by hand\n");
  REQUIRE(verify(s.root).exit_code == 4);

  // Without --reinstall the same revision is nothing to do.
  RunResult plain = apply(s.kit, s.root, s.bundle);
  CHECK(plain.exit_code == 0);
  CHECK(contains(plain.out, "already installed"));
  CHECK(verify(s.root).exit_code == 4);

  // A dry run says what it would put back and changes nothing, the database included.
  auto damaged_tree = snapshot_with_state(s.root);
  RunResult dry = apply(s.kit, s.root, s.bundle, {"--reinstall", "--dry-run", "--json"});
  INFO(dry.out << dry.err);
  CHECK(dry.exit_code == 0);
  CHECK(snapshot_with_state(s.root) == damaged_tree);
  json plan = result_of(dry);
  CHECK(plan["outcome"] == "dry_run");
  CHECK(decision(plan, "app/core.dll")["decision"] == "replace");
  CHECK(decision(plan, "app/new.dll")["decision"] == "install");
  CHECK(decision(plan, "app/util.dll")["decision"] == "skip");
  CHECK(decision(plan, "app/app.conf")["decision"] == "skip");
  CHECK(decision(plan, "app/kept.conf")["decision"] == "keep");

  RunResult r = apply(s.kit, s.root, s.bundle, {"--reinstall", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  json result = result_of(r);
  CHECK(result["outcome"] == "repaired");
  CHECK(result["reason"] == "3 put back, 2 as promised");
  CHECK(hotfix::test::read_file(s.path("app/kept.conf.hotfix-new")) == "theirs\n");
  CHECK(hotfix::test::read_file(s.path("app/kept.conf")) == "mine\n");
  CHECK(hotfix::test::read_file(s.path("app/core.dll")) == core);
  CHECK(fs::exists(s.path("app/new.dll")));
  RunResult after = verify(s.root);
  INFO(after.out);
  CHECK(after.exit_code == 0);
  CHECK(last_history(s.root)["outcome"] == "repaired");
  CHECK(last_history(s.root)["transaction"].is_string());
  // No backup of the damaged file is kept: the hotfix's own backups are all there is.
  CHECK(!fs::exists(s.path("var/lib/hotfix/journal.json")));

  // The uninstall still restores the root as it was before the hotfix (util.dll's mode was
  // changed by hand since, and stays so).
  REQUIRE(::chmod(s.path("app/util.dll").c_str(), 0644) == 0);
  RunResult u = run_installer({"uninstall", "KB300", "--root", s.root});
  INFO(u.out << u.err);
  CHECK(u.exit_code == 0);
  auto restored = snapshot_with_state(s.root);
  for (auto it = restored.begin(); it != restored.end();) {
    it = it->first.rfind("var", 0) == 0 ? restored.erase(it) : std::next(it);
  }
  auto original = s.before;
  for (auto it = original.begin(); it != original.end();) {
    it = it->first.rfind("var", 0) == 0 ? original.erase(it) : std::next(it);
  }
  INFO(hotfix::test::describe_difference(original, restored));
  CHECK(restored == original);
}

TEST_CASE("reinstall of an intact hotfix changes nothing and says so") {
  Installed s;
  auto before = state_of(s.root);
  RunResult r = apply(s.kit, s.root, s.bundle, {"--reinstall"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out,
                 "already installed: KB300 revision 1 is already installed, and every "
                 "file is as it promised"));
  auto after = state_of(s.root);
  for (auto* tree : {&before, &after}) {  // the history records the no-op
    tree->erase("var/lib/hotfix/state.db");
    tree->erase("var/lib/hotfix/state.db-wal");
  }
  CHECK(after == before);
  CHECK(last_history(s.root)["outcome"] == "already_installed");
}

TEST_CASE("reinstall leaves a changed configuration file to the administrator unless forced") {
  Installed s;
  hotfix::test::write_file(s.path("app/app.conf"), "listen 9090\n");
  REQUIRE(verify(s.root).exit_code == 0);  // changed config: reported apart, not a failure

  RunResult r = apply(s.kit, s.root, s.bundle, {"--reinstall", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(result_of(r)["outcome"] == "already_installed");
  json conf = decision(result_of(r), "app/app.conf");
  CHECK(conf["decision"] == "skip");
  CHECK(contains(conf["reason"].get<std::string>(), "--force puts the hotfix's back"));
  CHECK(hotfix::test::read_file(s.path("app/app.conf")) == "listen 9090\n");

  r = apply(s.kit, s.root, s.bundle, {"--reinstall", "--force", "--json"});
  CHECK(r.exit_code == 0);
  CHECK(result_of(r)["outcome"] == "repaired");
  CHECK(decision(result_of(r), "app/app.conf")["forced"] == true);
  CHECK(hotfix::test::read_file(s.path("app/app.conf")) == "listen 8080\n");
  RunResult u = run_installer({"uninstall", "KB300", "--root", s.root});
  CHECK(u.exit_code == 0);
  CHECK(!fs::exists(s.path("app/app.conf")));
}

TEST_CASE("a skipped file gone since is put back, and belongs to the hotfix from then on") {
  Installed s;
  fs::remove(s.path("app/util.dll"));
  RunResult r = apply(s.kit, s.root, s.bundle, {"--reinstall", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(decision(result_of(r), "app/util.dll")["decision"] == "install");
  CHECK(verify(s.root).exit_code == 0);
  CHECK(run_installer({"uninstall", "KB300", "--root", s.root}).exit_code == 0);
  CHECK(!fs::exists(s.path("app/util.dll")));  // it was not there before the reinstall
}

TEST_CASE("reinstall recreates a directory that was removed") {
  HotfixKit kit;
  std::string root = kit.make_root("root", {});
  std::string bundle = kit.build({"KB301",
                                  1,
                                  hotfix::RestartRequirement::kNone,
                                  {},
                                  {},
                                  hotfix::Arch::kX64,
                                  {text("opt/tool/lib/a.txt", "a\n")}});
  REQUIRE(apply(kit, root, bundle).exit_code == 0);
  fs::remove_all(root + "/opt/tool/lib");
  RunResult r = apply(kit, root, bundle, {"--reinstall"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(hotfix::test::read_file(root + "/opt/tool/lib/a.txt") == "a\n");
  CHECK(verify(root).exit_code == 0);
  CHECK(run_installer({"uninstall", "KB301", "--root", root}).exit_code == 0);
  CHECK(!fs::exists(root + "/opt/tool"));
}

TEST_CASE("reinstall refuses another build of the same revision and what is not a file") {
  Installed s;
  fs::remove(s.path("app/new.dll"));
  // The same id and revision with other content: not the bundle that was installed.
  std::string other = s.kit.build(
      {"KB300",
       1,
       hotfix::RestartRequirement::kNone,
       {},
       {},
       hotfix::Arch::kX64,
       {pe("app/core.dll", "1.0.0.6"), pe("app/new.dll", "1.0.0.5"), pe("app/util.dll", "1.0.0.5"),
        config("app/app.conf", "listen 8080\n"), config("app/kept.conf", "theirs\n")}});
  auto before = state_of(s.root);
  RunResult r = apply(s.kit, s.root, other, {"--reinstall"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err,
                 "app/core.dll: the bundle's file differs from the one revision 1 of "
                 "KB300 installed; reinstall needs the bundle of the installed revision"));
  INFO(hotfix::test::describe_difference(before, state_of(s.root)));
  CHECK(state_of(s.root) == before);

  fs::create_directory(s.path("app/new.dll"));
  before = state_of(s.root);
  r = apply(s.kit, s.root, s.bundle, {"--reinstall"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "app/new.dll: is not a regular file"));
  INFO(hotfix::test::describe_difference(before, state_of(s.root)));
  CHECK(state_of(s.root) == before);
}

TEST_CASE("reinstall of the sample puts back a damaged binary and asks for its reboot") {
  hotfix::test::TempDir tmp;
  static const hotfix::test::Kb967131Sample sample({"x64"});
  std::string root = sample.root(tmp);
  std::vector<std::string> args{"apply",   sample.bundle("x64"), "--root", root,
                                "--trust", sample.pub()};
  REQUIRE(run_installer(args).exit_code == 10);
  std::string dll = root + "/Windows/System32/inetsrv/iisres.dll";
  std::string bytes = hotfix::test::read_file(dll);
  bytes[bytes.size() - 10] ^= 1;
  hotfix::test::write_file(dll, bytes);
  REQUIRE(verify(root).exit_code == 4);
  args.push_back("--reinstall");
  RunResult r = run_installer(args);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 10);
  CHECK(contains(r.out, "repaired: 1 put back"));
  CHECK(contains(r.out, "replace  Windows/System32/inetsrv/iisres.dll"));
  CHECK(verify(root).exit_code == 0);
}
