// The plan (installer/plan.h): what applying would do to each file and why, decided from the
// files on the target themselves through the root's descriptor.
#include <catch2/catch.hpp>
#include <filesystem>

#include "installer/plan.h"
#include "manifests/errors.h"
#include "manifests/sha256.h"
#include "tests/support/hotfix_kit.h"
#include "tests/support/temp_dir.h"

using hotfix::Decision;
using hotfix::FileEntry;
using hotfix::Root;
using hotfix::Version;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

FileEntry entry(const std::string& destination, const std::string& name, const std::string& content,
                std::optional<Version> version = std::nullopt,
                hotfix::FileKind kind = hotfix::FileKind::kBinary) {
  FileEntry e;
  e.destination = destination;
  e.name = name;
  e.version = version;
  e.size = content.size();
  e.kind = kind;
  e.sha256 = hotfix::Sha256::of(content);
  return e;
}

Version v(const std::string& text) { return *Version::parse(text); }

}  // namespace

TEST_CASE("The plan decides each file from what is on the target") {
  TempDir dir;
  const std::string root = (dir / "root").string();
  const std::string old_pe = hotfix::test::pe_image("app/core.dll", v("1.0.0.0"));
  const std::string new_pe = hotfix::test::pe_image("app/core.dll", v("1.1.0.0"));
  const std::string newer_pe = hotfix::test::pe_image("app/util.dll", v("2.0.0.0"));
  hotfix::test::write_file(fs::path(root) / "app/core.dll", old_pe);
  hotfix::test::write_file(fs::path(root) / "app/util.dll", newer_pe);
  hotfix::test::write_file(fs::path(root) / "app/app.config", "changed by the administrator");
  hotfix::test::write_file(fs::path(root) / "app/same.txt", "same");

  std::vector<FileEntry> files = {
      entry("app", "core.dll", new_pe, v("1.1.0.0")),
      entry("app", "util.dll", hotfix::test::pe_image("app/util.dll", v("1.5.0.0")), v("1.5.0.0")),
      entry("app", "app.config", "new config", std::nullopt, hotfix::FileKind::kConfig),
      entry("app", "same.txt", "same"),
      entry("app/new", "fresh.txt", "fresh"),
      entry("opt", "optional.dll", "only where present"),
  };
  files.back().only_if_present = true;
  hotfix::Plan plan = hotfix::make_plan(files, Root::open(root), {});
  REQUIRE(plan.files.size() == files.size());
  CHECK(plan.files[0].decision == Decision::kReplace);
  CHECK(plan.files[0].reason == "installed version 1.0.0.0 is older");
  CHECK(plan.files[1].decision == Decision::kSkip);
  CHECK(plan.files[1].reason == "installed version 2.0.0.0 is newer");
  CHECK(plan.files[2].decision == Decision::kKeep);
  CHECK(plan.files[3].decision == Decision::kSkip);
  CHECK(plan.files[4].decision == Decision::kInstall);
  CHECK(plan.files[4].target.missing_dirs == std::vector<std::string>{"app/new"});
  CHECK(plan.files[5].decision == Decision::kNotApplicable);
  CHECK(plan.changes_files());

  hotfix::PlanOptions force;
  force.force = true;
  CHECK(hotfix::make_plan({files[1]}, Root::open(root), force).files[0].forced);
}

TEST_CASE("A destination that a link leads into the installer's own places is refused") {
  TempDir dir;
  const std::string root = (dir / "root").string();
  fs::create_directories(root + "/var/lib/hotfix");
  fs::create_directories(root + "/app");
  fs::create_symlink("../var/lib/hotfix", root + "/app/state");
  CHECK_THROWS_WITH(hotfix::make_plan({entry("app/state", "state.db", "x")}, Root::open(root), {}),
                    Catch::Contains("resolves on the target to 'var/lib/hotfix/state.db'"));
}
