// hotfix-installer uninstall, end to end: a hotfix another installed hotfix needs is not
// taken out, and bundles that need each other are applied in dependency order.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/hotfix_kit.h"
#include "tests/support/json_output.h"
#include "tests/support/tree_snapshot.h"

using hotfix::test::HotfixKit;
using hotfix::test::KitFile;
using hotfix::test::refusal;
using hotfix::test::run_installer;
using hotfix::test::RunResult;
using hotfix::test::snapshot_tree;
using json = nlohmann::json;

namespace {

const std::string kState = "var/lib/hotfix";

KitFile pe(const std::string& path, const std::string& version) {
  return {path, *hotfix::Version::parse(version), ""};
}

std::vector<std::string> ids_in(const std::string& root) {
  std::vector<std::string> ids;
  const json list = hotfix::test::json_data(run_installer({"list", "--root", root, "--json"}).out);
  for (const json& h : list["hotfixes"]) {
    ids.push_back(h["id"]);
  }
  return ids;
}

}  // namespace

TEST_CASE("a hotfix another installed hotfix names as a prerequisite is not uninstalled") {
  HotfixKit kit;
  std::string root =
      kit.make_root("root", {pe("app/core.dll", "1.0.0.0"), pe("app/util.dll", "1.0.0.0")});
  const auto original = snapshot_tree(root);
  hotfix::Prerequisite needs_base;
  needs_base.type = hotfix::Prerequisite::Type::kHotfixInstalled;
  needs_base.value = "KB700";
  std::string base = kit.build({"KB700",
                                1,
                                hotfix::RestartRequirement::kNone,
                                {},
                                {},
                                hotfix::Arch::kX64,
                                {pe("app/core.dll", "1.1.0.0")}});
  std::string dependent = kit.build({"KB701",
                                     1,
                                     hotfix::RestartRequirement::kNone,
                                     {},
                                     needs_base,
                                     hotfix::Arch::kX64,
                                     {pe("app/util.dll", "1.1.0.0")}});

  // Alone, the dependent one is refused; given together in the wrong order, they are
  // applied in dependency order.
  RunResult r = run_installer({"apply", dependent, "--root", root, "--trust", kit.pub()});
  CHECK(r.exit_code == 5);
  CHECK(refusal(r.err) == "KB701: not applicable: needs hotfix KB700 installed\n");
  r = run_installer({"apply", dependent, base, "--root", root, "--trust", kit.pub()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("KB700 (revision 1)") < r.out.find("KB701 (revision 1)"));
  CHECK(ids_in(root) == std::vector<std::string>{"KB700", "KB701"});

  const auto applied = snapshot_tree(root, kState);
  r = run_installer({"uninstall", "KB700", "--root", root});
  CHECK(r.exit_code == 5);
  CHECK(r.err ==
        "hotfix-installer: error: KB700: cannot be uninstalled: installed hotfix KB701 names it "
        "as a prerequisite (uninstall KB701 first)\n");
  CHECK(snapshot_tree(root, kState) == applied);
  CHECK(ids_in(root) == std::vector<std::string>{"KB700", "KB701"});
  json last =
      hotfix::test::json_data(run_installer({"history", "--root", root, "--json"}).out)["entries"]
          .back();
  CHECK(last["action"] == "uninstall");
  CHECK(last["outcome"] == "refused");
  CHECK(run_installer({"verify", "--root", root}).exit_code == 0);

  // Once the dependent one is gone, it may go too.
  r = run_installer({"uninstall", "KB701", "--root", root});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  r = run_installer({"uninstall", "KB700", "--root", root});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(ids_in(root).empty());
  CHECK(snapshot_tree(root, "var") == original);
}

TEST_CASE("uninstall --dry-run says what would become of each file and changes nothing") {
  HotfixKit kit;
  std::string root = kit.make_root("root", {pe("app/core.dll", "1.0.0.0")});
  std::string bundle = kit.build({"KB710",
                                  1,
                                  hotfix::RestartRequirement::kReboot,
                                  {},
                                  {},
                                  hotfix::Arch::kX64,
                                  {pe("app/core.dll", "1.1.0.0"), pe("app/new.dll", "1.0.0.0")}});
  RunResult r = run_installer({"apply", bundle, "--root", root, "--trust", kit.pub()});
  REQUIRE(r.exit_code == 10);
  const auto applied = hotfix::test::snapshot_with_state(root);

  r = run_installer({"uninstall", "KB710", "--dry-run", "--root", root, "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  json data = hotfix::test::json_data(r.out);
  CHECK(data["outcome"] == "dry_run");
  std::map<std::string, std::string> files;
  for (const json& f : data["files"]) files[f["path"]] = f["result"];
  CHECK(files ==
        std::map<std::string, std::string>{{"app/core.dll", "restored"},
                                           {"app/new.dll", "removed (it did not exist before)"}});
  CHECK(data["restart"]["required"] == true);  // the restart as it stands
  CHECK(hotfix::test::snapshot_with_state(root) == applied);

  // Text says the same, and what is not installed is exit 5 as without --dry-run.
  r = run_installer({"uninstall", "KB710", "--dry-run", "--root", root});
  CHECK(r.out.find("KB710 would be uninstalled") != std::string::npos);
  CHECK(r.out.find("(dry run: nothing was changed)") != std::string::npos);
  CHECK(run_installer({"uninstall", "KB711", "--dry-run", "--root", root}).exit_code == 5);
  CHECK(run_installer({"uninstall", "KB711", "--dry-run", "--missing-ok", "--root", root})
            .exit_code == 0);
  CHECK(hotfix::test::snapshot_with_state(root) == applied);
  CHECK(ids_in(root) == std::vector<std::string>{"KB710"});
}
