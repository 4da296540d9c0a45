// hotfix-installer, end to end: what uninstall gives back after upgrades and layering. The
// true original (bytes, mode and mtime) comes back whatever the order of uninstalls, an
// upgrade leaves no backup that no record names, and the directories a hotfix created go
// with it (docs/installer.md, "Layering and upgrades").
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "manifests/file_identity.h"
#include "tests/support/hotfix_kit.h"
#include "tests/support/layered_sample.h"
#include "tests/support/tree_snapshot.h"

using hotfix::test::describe_difference;
using hotfix::test::HotfixKit;
using hotfix::test::KitFile;
using hotfix::test::KitHotfix;
using hotfix::test::pe_image;
using hotfix::test::read_file;
using hotfix::test::run_installer;
using hotfix::test::RunResult;
using hotfix::test::snapshot_tree;
using hotfix::test::state_problems;
using hotfix::test::write_file;
namespace fs = std::filesystem;

namespace {

KitFile pe(const std::string& path, const std::string& version) {
  return {path, *hotfix::Version::parse(version), ""};
}

KitFile config(const std::string& path, const std::string& text) {
  return {path, std::nullopt, text, hotfix::FileKind::kConfig};
}

KitHotfix hotfix_of(const std::string& id, std::uint64_t revision, std::vector<KitFile> files) {
  KitHotfix h;
  h.id = id;
  h.revision = revision;
  h.files = std::move(files);
  return h;
}

void apply(const HotfixKit& kit, const std::string& root, const std::string& bundle) {
  RunResult r = run_installer({"apply", bundle, "--root", root, "--trust", kit.pub()});
  INFO("apply " << bundle << "\n" << r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

void uninstall(const std::string& root, const std::string& id) {
  RunResult r = run_installer({"uninstall", id, "--root", root});
  INFO("uninstall " << id << "\n" << r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

std::string content(const std::string& root, const std::string& rel) {
  return read_file(root + "/" + rel);
}

// The file version of a PE image under the root, "absent" when there is none.
std::string version_at(const std::string& root, const std::string& rel) {
  if (!fs::exists(root + "/" + rel)) return "absent";
  auto v = hotfix::identify_file(root + "/" + rel).version();
  return v ? v->to_string() : "unversioned";
}

// A state_problems() report without the .hotfix-new files that kept configuration files
// rightly have.
std::string problems(const std::string& root) {
  std::string all = state_problems(root), out;
  for (std::size_t at = 0; at < all.size();) {
    std::size_t end = all.find('\n', at);
    std::string line = all.substr(at, end - at + 1);
    if (line.find(".hotfix-new\n") == std::string::npos) out += line;
    at = end + 1;
  }
  return out;
}

// No backup that no record names (or named and missing), nothing staged, no journal, and
// every installed file as its hotfix promised.
void check_consistent(const std::string& root) {
  CHECK(problems(root) == "");
  RunResult v = run_installer({"verify", "--root", root});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
}

void check_tree(const std::string& root, const std::map<std::string, std::string>& expected) {
  auto now = snapshot_tree(root, "var");
  INFO(describe_difference(expected, now));
  CHECK(now == expected);
}

}  // namespace

TEST_CASE("an upgrade under a later hotfix still gives back the true original") {
  HotfixKit kit;
  const std::string core = "app/core.dll";
  std::string root = kit.make_root("root", {pe(core, "1.0.0.0"), pe("app/util.dll", "1.0.0.0")});
  // An original with a mode and time of its own, so that a restore that loses either shows.
  fs::permissions(root + "/" + core, fs::perms(0750));
  const auto original = snapshot_tree(root, "var");

  std::string a1 =
      kit.build(hotfix_of("KB300", 1, {pe(core, "1.1.0.0"), pe("app/util.dll", "1.1.0.0")}));
  std::string b = kit.build(hotfix_of("KB301", 1, {pe(core, "1.2.0.0")}));
  apply(kit, root, a1);
  apply(kit, root, b);
  REQUIRE(version_at(root, core) == "1.2.0.0");

  // The second revision replaces the file again (its version is newer than KB301's), leaves
  // it (KB301's is newer), or no longer lists it; then both are uninstalled, in either order.
  const int upgrade = GENERATE(0, 1, 2);
  const bool upgraded_first = GENERATE(true, false);
  INFO("upgrade " << upgrade << (upgraded_first ? ", KB300 uninstalled first" : ", KB301 first"));
  std::string a2_core;  // the version in place after the upgrade
  std::string after_a;  // in place once KB300 is uninstalled first
  std::string after_b;  // in place once KB301 is uninstalled first
  if (upgrade == 0) {
    apply(kit, root,
          kit.build(hotfix_of("KB300", 2, {pe(core, "1.3.0.0"), pe("app/util.dll", "1.2.0.0")})));
    a2_core = "1.3.0.0";
    after_a = "1.2.0.0";  // KB301's file comes back: it is still installed
    after_b = "1.3.0.0";  // the upgrade's file stays
  } else if (upgrade == 1) {
    apply(kit, root,
          kit.build(hotfix_of("KB300", 2, {pe(core, "1.1.0.0"), pe("app/util.dll", "1.2.0.0")})));
    a2_core = after_a = "1.2.0.0";
    after_b = "1.1.0.0";
  } else {
    apply(kit, root, kit.build(hotfix_of("KB300", 2, {pe("app/util.dll", "1.2.0.0")})));
    a2_core = after_a = "1.2.0.0";
    after_b = "1.1.0.0";
  }
  CHECK(version_at(root, core) == a2_core);
  check_consistent(root);

  if (upgraded_first) {
    uninstall(root, "KB300");
    CHECK(version_at(root, core) == after_a);
    check_consistent(root);
    uninstall(root, "KB301");
  } else {
    uninstall(root, "KB301");
    CHECK(version_at(root, core) == after_b);
    check_consistent(root);
    uninstall(root, "KB300");
  }
  check_tree(root, original);
  CHECK(problems(root) == "");
}

TEST_CASE("an upgrade of the top layer gives back the true original") {
  HotfixKit kit;
  const std::string core = "app/core.dll";
  std::string root = kit.make_root("root", {pe(core, "1.0.0.0")});
  fs::permissions(root + "/" + core, fs::perms(0600));
  const auto original = snapshot_tree(root, "var");
  apply(kit, root, kit.build(hotfix_of("KB310", 1, {pe(core, "1.1.0.0")})));
  apply(kit, root, kit.build(hotfix_of("KB310", 2, {pe(core, "1.2.0.0")})));
  check_consistent(root);
  uninstall(root, "KB310");
  check_tree(root, original);
  CHECK(problems(root) == "");
}

TEST_CASE("an upgrade that keeps an administrator's configuration file orphans no backup") {
  HotfixKit kit;
  const std::string cfg = "app/app.config";
  std::string root = kit.make_root("root", {pe("app/core.dll", "1.0.0.0")});
  const auto original = snapshot_tree(root, "var");
  // KB320 puts the file there; KB321 replaces it (unchanged since, so it is replaced, with a
  // backup of KB320's); the administrator edits it; KB321's second revision must keep it.
  apply(kit, root, kit.build(hotfix_of("KB320", 1, {config(cfg, "<config from='KB320'/>\n")})));
  apply(kit, root, kit.build(hotfix_of("KB321", 1, {config(cfg, "<config from='KB321'/>\n")})));
  REQUIRE(content(root, cfg) == "<config from='KB321'/>\n");
  const std::string edited = "<config administrator='yes'/>\n";
  write_file(root + "/" + cfg, edited);
  apply(kit, root,
        kit.build(hotfix_of("KB321", 2, {config(cfg, "<config from='KB321' r='2'/>\n")})));
  CHECK(content(root, cfg) == edited);
  CHECK(content(root, cfg + ".hotfix-new") == "<config from='KB321' r='2'/>\n");
  CHECK(problems(root) == "");

  SECTION("uninstall the upgraded hotfix first") {
    uninstall(root, "KB321");
    // The administrator's file stays, as rpm leaves a changed configuration file.
    CHECK(content(root, cfg) == edited);
    CHECK_FALSE(fs::exists(root + "/" + cfg + ".hotfix-new"));
    CHECK(problems(root) == "");
    // KB320 installed the file (there was none before): it goes with KB320.
    uninstall(root, "KB320");
    CHECK_FALSE(fs::exists(root + "/" + cfg));
  }
  SECTION("uninstall the lower hotfix first") {
    uninstall(root, "KB320");
    CHECK(content(root, cfg) == edited);
    CHECK(problems(root) == "");
    uninstall(root, "KB321");
    CHECK(content(root, cfg) == edited);
    CHECK_FALSE(fs::exists(root + "/" + cfg + ".hotfix-new"));
    // KB320's part passed to KB321's record of the administrator's file, which stays.
    fs::remove(root + "/" + cfg);
  }
  CHECK(problems(root) == "");
  check_tree(root, original);
}

TEST_CASE("uninstall removes the directories a hotfix created, when nothing else needs them") {
  HotfixKit kit;
  std::string root = kit.make_root("root", {pe("app/core.dll", "1.0.0.0")});
  const auto original = snapshot_tree(root, "var");
  std::string a = kit.build(hotfix_of(
      "KB330", 1, {pe("app/core.dll", "1.1.0.0"), pe("app/new/sub/extra.dll", "1.1.0.0")}));

  SECTION("alone") {
    apply(kit, root, a);
    CHECK(fs::is_directory(root + "/app/new/sub"));
    uninstall(root, "KB330");
    check_tree(root, original);
  }
  SECTION("a later hotfix has files in them: they stay until it goes too") {
    apply(kit, root, a);
    apply(kit, root, kit.build(hotfix_of("KB331", 1, {pe("app/new/sub/more.dll", "1.0.0.0")})));
    uninstall(root, "KB330");
    CHECK(fs::exists(root + "/app/new/sub/more.dll"));
    CHECK_FALSE(fs::exists(root + "/app/new/sub/extra.dll"));
    check_consistent(root);
    uninstall(root, "KB331");
    check_tree(root, original);
  }
  SECTION("a later hotfix creates a directory inside them") {
    apply(kit, root, a);
    apply(kit, root,
          kit.build(hotfix_of("KB331", 1, {pe("app/new/deeper/x/more.dll", "1.0.0.0")})));
    SECTION("the earlier one goes first") {
      uninstall(root, "KB330");
      CHECK(fs::is_directory(root + "/app/new/deeper/x"));
      CHECK_FALSE(fs::exists(root + "/app/new/sub"));
      uninstall(root, "KB331");
    }
    SECTION("the later one goes first") {
      uninstall(root, "KB331");
      CHECK_FALSE(fs::exists(root + "/app/new/deeper"));
      CHECK(fs::is_directory(root + "/app/new/sub"));
      uninstall(root, "KB330");
    }
    check_tree(root, original);
  }
  SECTION("one that holds someone else's file stays") {
    apply(kit, root, a);
    write_file(root + "/app/new/notes.txt", "mine\n");
    uninstall(root, "KB330");
    CHECK(fs::exists(root + "/app/new/notes.txt"));
    CHECK_FALSE(fs::exists(root + "/app/new/sub"));
    fs::remove(root + "/app/new/notes.txt");
    fs::remove(root + "/app/new");
    check_tree(root, original);
  }
  SECTION("an upgrade keeps the first revision's directories and adds its own") {
    apply(kit, root, a);
    apply(kit, root,
          kit.build(hotfix_of(
              "KB330", 2, {pe("app/core.dll", "1.2.0.0"), pe("app/other/lib/x.dll", "1.0.0.0")})));
    CHECK(fs::is_directory(root + "/app/new/sub"));  // its file is carried over
    CHECK(fs::is_directory(root + "/app/other/lib"));
    check_consistent(root);
    uninstall(root, "KB330");
    check_tree(root, original);
  }
  CHECK(problems(root) == "");
}

TEST_CASE("a file a later hotfix skipped goes with the last hotfix that needs it") {
  HotfixKit kit;
  std::string root = kit.make_root("root", {pe("app/core.dll", "1.0.0.0")});
  const auto original = snapshot_tree(root, "var");
  // KB340 installs the file; KB341 lists the same version, so it leaves it as it is.
  apply(kit, root, kit.build(hotfix_of("KB340", 1, {pe("app/lib/new.dll", "1.1.0.0")})));
  apply(kit, root, kit.build(hotfix_of("KB341", 1, {pe("app/lib/new.dll", "1.1.0.0")})));
  SECTION("the hotfix that installed it goes first") {
    uninstall(root, "KB340");
    CHECK(version_at(root, "app/lib/new.dll") == "1.1.0.0");  // KB341 still needs it
    check_consistent(root);
    uninstall(root, "KB341");
  }
  SECTION("the hotfix that skipped it goes first") {
    uninstall(root, "KB341");
    CHECK(version_at(root, "app/lib/new.dll") == "1.1.0.0");
    check_consistent(root);
    uninstall(root, "KB340");
  }
  check_tree(root, original);
  CHECK(problems(root) == "");
}
