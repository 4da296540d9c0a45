// hotfix-installer's applicability rules and per-file decisions, end to end: the real binary
// on small hotfixes built for each rule. Every refusal leaves the root as it was; every dry
// run leaves it as it was, database included.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/hotfix_kit.h"
#include "tests/support/json_output.h"
#include "tests/support/tree_snapshot.h"

using hotfix::Version;
using hotfix::test::HotfixKit;
using hotfix::test::kit_content;
using hotfix::test::KitFile;
using hotfix::test::KitHotfix;
using hotfix::test::pe_image;
using hotfix::test::refusal;
using hotfix::test::run_installer;
using hotfix::test::RunResult;
using hotfix::test::snapshot_tree;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kState = "var/lib/hotfix";

Version v(const std::string& text) { return *Version::parse(text); }

KitFile pe(const std::string& path, const std::string& version) { return {path, v(version), ""}; }
KitFile text(const std::string& path, const std::string& content) {
  return {path, std::nullopt, content};
}

// What every test root holds before any hotfix.
std::vector<KitFile> base_files() {
  return {pe("app/core.dll", "1.0.0.0"), pe("app/util.dll", "1.0.0.0"),
          text("app/readme.txt", "original readme\n")};
}

std::string content_of(const std::string& root, const std::string& path) {
  return hotfix::test::read_file(root + "/" + path);
}

RunResult apply(const HotfixKit& kit, const std::string& root, const std::string& bundle,
                std::vector<std::string> more = {}) {
  std::vector<std::string> args{"apply", bundle, "--root", root, "--trust", kit.pub()};
  args.insert(args.end(), more.begin(), more.end());
  return run_installer(args);
}

json list_of(const std::string& root) {
  return hotfix::test::json_data(run_installer({"list", "--root", root, "--json"}).out)["hotfixes"];
}

json last_history(const std::string& root) {
  json all =
      hotfix::test::json_data(run_installer({"history", "--root", root, "--json"}).out)["entries"];
  return all.empty() ? json::object() : all.back();
}

// The decision the JSON plan of `r` made for `path`.
json planned(const RunResult& r, const std::string& path) {
  const json doc = hotfix::test::json_data(r.out);
  for (const json& f : doc["results"][0]["files"]) {
    if (f["path"] == path) return f;
  }
  FAIL("no plan entry for " << path << " in " << r.out);
  return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A dry run of `bundle` with --json: exit code as expected, and the whole root, the state
// directory included, exactly as before.
RunResult dry_run(const HotfixKit& kit, const std::string& root, const std::string& bundle,
                  int expected_exit, std::vector<std::string> more = {}) {
  auto before = hotfix::test::snapshot_with_state(root);
  more.push_back("--dry-run");
  more.push_back("--json");
  RunResult r = apply(kit, root, bundle, more);
  INFO("dry run: " << r.out << r.err);
  CHECK(r.exit_code == expected_exit);
  auto after = hotfix::test::snapshot_with_state(root);
  INFO(hotfix::test::describe_difference(before, after));
  CHECK(after == before);
  return r;
}

}  // namespace

TEST_CASE("a hotfix superseded by an installed one is refused and names it") {
  HotfixKit kit;
  std::string root = kit.make_root("root", base_files());
  std::string newer = kit.build({"KB200",
                                 1,
                                 hotfix::RestartRequirement::kNone,
                                 {"KB100"},
                                 {},
                                 hotfix::Arch::kX64,
                                 {pe("app/core.dll", "1.0.0.5")}});
  std::string older = kit.build({"KB100",
                                 1,
                                 hotfix::RestartRequirement::kNone,
                                 {},
                                 {},
                                 hotfix::Arch::kX64,
                                 {pe("app/core.dll", "1.0.0.3")}});
  REQUIRE(apply(kit, root, newer).exit_code == 0);

  RunResult dry = dry_run(kit, root, older, 5);
  CHECK(contains(dry.err, "KB100: not applicable: superseded by installed hotfix KB200"));

  auto before = snapshot_tree(root, kState);
  RunResult r = apply(kit, root, older);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 5);
  CHECK(refusal(r.err) == "KB100: not applicable: superseded by installed hotfix KB200\n");
  CHECK(snapshot_tree(root, kState) == before);
  CHECK(last_history(root)["outcome"] == "refused");
  CHECK(last_history(root)["hotfix"] == "KB100");
  json list = list_of(root);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["id"] == "KB200");
}

TEST_CASE("revisions: lower refused, same a no-op, higher an upgrade uninstall fully undoes") {
  HotfixKit kit;
  std::vector<KitFile> base = base_files();
  base.push_back(text("app/notes.txt", "original notes\n"));
  std::string root = kit.make_root("root", base);
  const auto original = snapshot_tree(root);
  KitHotfix rev1{"KB300",
                 1,
                 hotfix::RestartRequirement::kNone,
                 {},
                 {},
                 hotfix::Arch::kX64,
                 {pe("app/core.dll", "1.1.0.0"), pe("app/util.dll", "1.1.0.0"),
                  text("app/notes.txt", "notes of revision 1\n"),
                  text("app/only-in-rev1.txt", "revision 1 only\n")}};
  KitHotfix rev2{"KB300",
                 2,
                 hotfix::RestartRequirement::kNone,
                 {},
                 {},
                 hotfix::Arch::kX64,
                 {pe("app/core.dll", "1.2.0.0"), pe("app/util.dll", "1.1.0.0"),
                  text("app/notes.txt", "notes of revision 2\n"),
                  text("app/added-in-rev2.txt", "revision 2 adds this\n")}};
  std::string bundle1 = kit.build(rev1), bundle2 = kit.build(rev2);

  RunResult r = apply(kit, root, bundle1);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const auto at_rev1 = snapshot_tree(root, kState);

  SECTION("the same revision again is a no-op that succeeds") {
    dry_run(kit, root, bundle1, 0);
    r = apply(kit, root, bundle1);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "KB300 revision 1 is already installed"));
    CHECK(snapshot_tree(root, kState) == at_rev1);
    CHECK(last_history(root)["outcome"] == "already_installed");
  }

  SECTION("an upgrade to a higher revision, then uninstall") {
    r = dry_run(kit, root, bundle2, 0);
    CHECK(planned(r, "app/core.dll")["decision"] == "replace");
    CHECK(planned(r, "app/util.dll")["decision"] == "skip");
    CHECK(planned(r, "app/notes.txt")["decision"] == "replace");
    CHECK(planned(r, "app/added-in-rev2.txt")["decision"] == "install");

    r = apply(kit, root, bundle2);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(content_of(root, "app/core.dll") == pe_image("app/core.dll", v("1.2.0.0")));
    CHECK(content_of(root, "app/util.dll") == pe_image("app/util.dll", v("1.1.0.0")));
    CHECK(content_of(root, "app/notes.txt") == "notes of revision 2\n");
    CHECK(content_of(root, "app/added-in-rev2.txt") == "revision 2 adds this\n");
    CHECK(content_of(root, "app/only-in-rev1.txt") == "revision 1 only\n");
    json list = list_of(root);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["revision"] == 2);
    CHECK(last_history(root)["outcome"] == "applied");
    CHECK(last_history(root)["revision"] == 2);
    RunResult verify = run_installer({"verify", "--root", root});
    INFO(verify.out);
    CHECK(verify.exit_code == 0);

    SECTION("a lower revision is then refused: no downgrade by replay") {
      const auto at_rev2 = snapshot_tree(root, kState);
      RunResult dry = dry_run(kit, root, bundle1, 5);
      CHECK(contains(dry.err, "revision 1 is lower than the installed revision 2"));
      r = apply(kit, root, bundle1);
      CHECK(r.exit_code == 5);
      CHECK(refusal(r.err) ==
            "KB300: not applicable: revision 1 is lower than the "
            "installed revision 2 (no downgrade by replay; uninstall the installed one first)\n");
      CHECK(snapshot_tree(root, kState) == at_rev2);
      CHECK(list_of(root)[0]["revision"] == 2);
      CHECK(last_history(root)["outcome"] == "refused");
    }

    SECTION("uninstall restores the true original, not revision 1") {
      RunResult u = run_installer({"uninstall", "KB300", "--root", root});
      INFO(u.out << u.err);
      REQUIRE(u.exit_code == 0);
      auto after = snapshot_tree(root);
      for (auto it = after.begin(); it != after.end();) {
        it =
            it->first == "var" || it->first.rfind("var/", 0) == 0 ? after.erase(it) : std::next(it);
      }
      INFO(hotfix::test::describe_difference(original, after));
      CHECK(after == original);
      CHECK(list_of(root).empty());
      // No backup is left behind: each was either restored or discarded.
      CHECK(fs::is_empty(root + "/" + kState + "/backups"));
    }
  }
}

namespace {

// A tmpfs of `bytes` mounted at `path` for the life of the object, when this process may
// mount (root in a namespace that allows it).
struct SmallFilesystem {
  std::string path;
  bool mounted = false;
  std::string why_not;
  SmallFilesystem(const std::string& at, std::size_t bytes) : path(at) {
    fs::create_directories(path);
    std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("tmpfs", path.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted = true;
    } else {
      why_not = std::strerror(errno);
    }
  }
  ~SmallFilesystem() {
    if (mounted) ::umount2(path.c_str(), MNT_DETACH);
  }
};

}  // namespace

TEST_CASE("not enough free space for staging is refused before any file is written") {
  HotfixKit kit;
  std::string root = (kit.dir() / "small").string();
  SmallFilesystem small(root, 4 << 20);
  if (!small.mounted) {
    WARN("SKIPPED: cannot mount a 4 MiB tmpfs to run out of space (" << small.why_not << ")");
    return;
  }
  hotfix::test::write_file(root + "/etc/hotfix/system.json",
                           R"({"family": "linux", "product": "Debian", "architecture": "x64"})");
  hotfix::test::write_file(root + "/app/readme.txt", "original readme\n");
  // 4 MiB of staging cannot fit in a 4 MiB filesystem; the zeros compress in the bundle.
  std::string big = kit.build(
      {"KB400",
       1,
       hotfix::RestartRequirement::kNone,
       {},
       {},
       hotfix::Arch::kX64,
       {text("app/readme.txt", "new readme\n"), text("app/big.dat", std::string(4 << 20, '\0'))}});
  std::string fits = kit.build({"KB401",
                                1,
                                hotfix::RestartRequirement::kNone,
                                {},
                                {},
                                hotfix::Arch::kX64,
                                {text("app/readme.txt", "new readme\n")}});

  dry_run(kit, root, big, 0);
  // The refusal is recorded in the history: the state directory (var/lib/hotfix) is new.
  auto before = snapshot_tree(root, "var");
  RunResult r = apply(kit, root, big);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err,
                 "hotfix-installer: error: " + root + ": not enough free space: staging needs "));
  CHECK(contains(r.err, "; nothing was changed\n"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(snapshot_tree(root, "var") == before);
  CHECK_FALSE(fs::exists(root + "/" + kState + "/backups"));
  CHECK_FALSE(fs::exists(root + "/" + kState + "/journal.json"));
  CHECK(list_of(root).empty());
  CHECK(last_history(root)["outcome"] == "refused");
  CHECK(contains(last_history(root)["detail"].get<std::string>(), "not enough free space"));

  // The same filesystem takes a hotfix that fits.
  r = apply(kit, root, fits);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(content_of(root, "app/readme.txt") == "new readme\n");
}

TEST_CASE("entries installed only where present: absent is not applicable, present is replaced") {
  HotfixKit kit;
  std::vector<KitFile> base = base_files();
  base.push_back(pe("app/plugins/present.dll", "1.0.0.0"));
  std::string root = kit.make_root("root", base);
  const auto original = snapshot_tree(root);
  KitFile present = pe("app/plugins/present.dll", "1.1.0.0");
  KitFile absent = pe("app/plugins/absent.dll", "1.1.0.0");
  KitFile elsewhere = pe("app/optional/feature.dll", "1.1.0.0");
  present.only_if_present = absent.only_if_present = elsewhere.only_if_present = true;
  std::string bundle = kit.build({"KB500",
                                  1,
                                  hotfix::RestartRequirement::kNone,
                                  {},
                                  {},
                                  hotfix::Arch::kX64,
                                  {pe("app/core.dll", "1.1.0.0"), present, absent, elsewhere}});

  RunResult r = dry_run(kit, root, bundle, 0);
  CHECK(planned(r, "app/plugins/present.dll")["decision"] == "replace");
  CHECK(planned(r, "app/plugins/absent.dll")["decision"] == "not_applicable");
  CHECK(planned(r, "app/optional/feature.dll")["decision"] == "not_applicable");
  CHECK(planned(r, "app/optional/feature.dll")["reason"] ==
        "not present on the target (its component is not installed)");

  r = apply(kit, root, bundle);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "not applicable  app/plugins/absent.dll"));
  CHECK(content_of(root, "app/plugins/present.dll") == kit_content(present));
  CHECK(content_of(root, "app/core.dll") == pe_image("app/core.dll", v("1.1.0.0")));
  CHECK_FALSE(fs::exists(root + "/app/plugins/absent.dll"));
  CHECK_FALSE(fs::exists(root + "/app/optional"));
  RunResult verify = run_installer({"verify", "--root", root});
  CHECK(verify.exit_code == 0);
  CHECK(contains(verify.out, "2 files checked, 0 differ"));

  REQUIRE(run_installer({"uninstall", "KB500", "--root", root}).exit_code == 0);
  CHECK(snapshot_tree(root, "var") == original);
}

TEST_CASE("apply --force overrides the version rule, and only that") {
  HotfixKit kit;
  std::string root =
      kit.make_root("root", {pe("app/core.dll", "2.0.0.0"), pe("app/util.dll", "1.0.0.0")});
  const auto original = snapshot_tree(root);
  std::string bundle = kit.build({"KB600",
                                  1,
                                  hotfix::RestartRequirement::kNone,
                                  {},
                                  {},
                                  hotfix::Arch::kX64,
                                  {pe("app/core.dll", "1.5.0.0"), pe("app/util.dll", "1.5.0.0")}});

  RunResult r = dry_run(kit, root, bundle, 0);
  CHECK(planned(r, "app/core.dll")["decision"] == "skip");
  CHECK(planned(r, "app/core.dll")["reason"] == "installed version 2.0.0.0 is newer");
  CHECK(planned(r, "app/util.dll")["decision"] == "replace");

  r = dry_run(kit, root, bundle, 0, {"--force"});
  CHECK(planned(r, "app/core.dll")["decision"] == "replace");
  CHECK(planned(r, "app/core.dll")["forced"] == true);
  CHECK(planned(r, "app/util.dll")["forced"] == false);

  SECTION("an installed newer file is replaced, and the output says it was forced") {
    r = apply(kit, root, bundle, {"--force"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(contains(r.out, "installed version 2.0.0.0 is newer; replaced because of --force"));
    CHECK(content_of(root, "app/core.dll") == pe_image("app/core.dll", v("1.5.0.0")));
    CHECK(run_installer({"verify", "--root", root}).exit_code == 0);
    // Uninstall gives back the newer file that was there.
    REQUIRE(run_installer({"uninstall", "KB600", "--root", root}).exit_code == 0);
    CHECK(snapshot_tree(root, "var") == original);
  }

  SECTION("not the architecture, the prerequisites or the signature") {
    std::string x86 = kit.build({"KB601",
                                 1,
                                 hotfix::RestartRequirement::kNone,
                                 {},
                                 {},
                                 hotfix::Arch::kX86,
                                 {text("app/readme.txt", "x86 readme\n")}});
    hotfix::Prerequisite needs;
    needs.type = hotfix::Prerequisite::Type::kHotfixInstalled;
    needs.value = "KB999";
    std::string unmet = kit.build({"KB602",
                                   1,
                                   hotfix::RestartRequirement::kNone,
                                   {},
                                   needs,
                                   hotfix::Arch::kX64,
                                   {pe("app/core.dll", "1.5.0.0")}});
    HotfixKit stranger;
    std::string foreign = stranger.build({"KB603",
                                          1,
                                          hotfix::RestartRequirement::kNone,
                                          {},
                                          {},
                                          hotfix::Arch::kX64,
                                          {pe("app/core.dll", "1.5.0.0")}});
    // The refusal is recorded in the history: the state directory (var/lib/hotfix) is new.
    auto before = snapshot_tree(root, "var");

    r = apply(kit, root, x86, {"--force"});
    CHECK(r.exit_code == 5);
    CHECK(refusal(r.err) ==
          "KB601: not applicable: the bundle is for x86; the target is "
          "x64\n");
    r = apply(kit, root, unmet, {"--force"});
    CHECK(r.exit_code == 5);
    CHECK(refusal(r.err) == "KB602: not applicable: needs hotfix KB999 installed\n");
    r = apply(kit, root, foreign, {"--force"});
    CHECK(r.exit_code == 3);
    CHECK(contains(r.err, "unknown key"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(snapshot_tree(root, "var") == before);
    CHECK(list_of(root).empty());
  }
}

// The stager writes a blob to a bounded number of its destinations at once: under a limit of
// 64 descriptors, 1,000 files of one content install, each its own file.
TEST_CASE("a thousand files of one content install under a low descriptor limit") {
  HotfixKit kit;
  std::string root = kit.make_root("root", {});
  KitHotfix h{"KB300", 1, hotfix::RestartRequirement::kNone, {}, {}, hotfix::Arch::kX64, {}};
  for (int i = 0; i < 1000; ++i) {
    KitFile f;
    f.path = "app/same/f" + std::to_string(i) + ".txt";
    f.text = "one content\n";
    h.files.push_back(f);
  }
  std::string bundle = kit.build(h);
  RunResult r = hotfix::test::run({"/bin/sh", "-c", "ulimit -n 64 && exec \"$@\"", "sh",
                                   hotfix::test::installer_path(), "apply", bundle, "--trust",
                                   kit.pub(), "--root", root});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::set<ino_t> inodes;
  for (int i = 0; i < 1000; ++i) {
    fs::path p = fs::path(root) / ("app/same/f" + std::to_string(i) + ".txt");
    CHECK(hotfix::test::read_file(p) == "one content\n");
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    inodes.insert(st.st_ino);
  }
  CHECK(inodes.size() == 1000);
  CHECK(run_installer({"verify", "--root", root}).exit_code == 0);
}

// Names are printed terminal-safe (manifests/terminal_text.h); --json keeps them exact.
TEST_CASE("names holding escape sequences or newlines are printed visibly, never raw") {
  HotfixKit kit;
  std::string root = kit.make_root("root", {});
  const std::string evil = "app/x\x1b]0;owned\x07.txt";
  const std::string forged = "app/y\nhotfix-installer: error: forged.txt";
  KitHotfix h{"KB301", 1, hotfix::RestartRequirement::kNone, {}, {}, hotfix::Arch::kX64, {}};
  for (const std::string& p : {evil, forged}) {
    KitFile f;
    f.path = p;
    f.text = "content\n";
    h.files.push_back(f);
  }
  std::string bundle = kit.build(h);
  auto raw = [](const RunResult& r) {
    std::string all = r.out + r.err;
    return all.find('\x1b') != std::string::npos || all.find('\x07') != std::string::npos ||
           all.find("\nhotfix-installer: error: forged") != std::string::npos;
  };
  RunResult dry =
      run_installer({"apply", bundle, "--trust", kit.pub(), "--root", root, "--dry-run"});
  INFO(dry.out << dry.err);
  CHECK_FALSE(raw(dry));
  CHECK(dry.out.find("x\\x1b]0;owned\\x07.txt") != std::string::npos);
  CHECK(dry.out.find("y\\nhotfix-installer: error: forged.txt") != std::string::npos);
  REQUIRE(run_installer({"apply", bundle, "--trust", kit.pub(), "--root", root}).exit_code == 0);
  hotfix::test::write_file(fs::path(root) / evil, "changed\n");
  RunResult verify = run_installer({"verify", "--root", root});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 4);
  CHECK_FALSE(raw(verify));
  CHECK(verify.out.find("x\\x1b]0;owned\\x07.txt") != std::string::npos);
  RunResult as_json = run_installer({"verify", "--root", root, "--json"});
  INFO(as_json.out);
  bool exact = false;
  const json doc = hotfix::test::json_data(as_json.out);
  for (const json& f : doc["files"]) exact = exact || f["path"] == evil;
  CHECK(exact);
  RunResult described = hotfix::test::run({hotfix::test::packager_path(), "describe", bundle});
  INFO(described.out << described.err);
  CHECK_FALSE(raw(described));
}

TEST_CASE("hotfix ids compare ignoring case wherever they meet") {
  HotfixKit kit;
  std::string root = kit.make_root("root", base_files());
  auto hotfix_of = [](std::string id, std::uint64_t revision, std::vector<std::string> supersedes,
                      hotfix::Prerequisite prereq, std::vector<KitFile> files) {
    return KitHotfix{std::move(id),         revision,          hotfix::RestartRequirement::kNone,
                     std::move(supersedes), std::move(prereq), hotfix::Arch::kX64,
                     std::move(files)};
  };
  hotfix::Prerequisite needs_kb948609;
  needs_kb948609.type = hotfix::Prerequisite::Type::kHotfixInstalled;
  needs_kb948609.value = "KB948609";

  SECTION("supersedes names an installed hotfix in another case") {
    REQUIRE(
        apply(kit, root,
              kit.build(hotfix_of("LX-2000", 1, {"lx-1001"}, {}, {pe("app/core.dll", "1.0.0.9")})))
            .exit_code == 0);
    RunResult r = apply(
        kit, root, kit.build(hotfix_of("LX-1001", 1, {}, {}, {pe("app/util.dll", "1.0.0.5")})));
    CHECK(r.exit_code == 5);
    CHECK(contains(r.err, "LX-1001: not applicable: superseded by installed hotfix LX-2000"));
  }
  SECTION("system.json lists a hotfix in another case than a prerequisite names it") {
    hotfix::test::write_file(
        root + "/etc/hotfix/system.json",
        R"json({"family": "linux", "product": "Debian GNU/Linux 12 (bookworm)", "version": "12",)json"
        R"json( "architecture": "x64", "hotfixes": ["kb948609"]})json");
    RunResult r = apply(
        kit, root,
        kit.build(hotfix_of("KB967131", 1, {}, needs_kb948609, {pe("app/core.dll", "1.0.0.7")})));
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
  SECTION("one id in two cases is one hotfix: no second record, upgrades, uninstalls") {
    REQUIRE(apply(kit, root,
                  kit.build(hotfix_of("LX-1001", 1, {}, {}, {pe("app/core.dll", "1.0.0.5")})))
                .exit_code == 0);
    RunResult same = apply(
        kit, root, kit.build(hotfix_of("lx-1001", 1, {}, {}, {pe("app/core.dll", "1.0.0.5")})));
    CHECK(same.exit_code == 0);
    CHECK(contains(same.out, "LX-1001 revision 1 is already installed"));
    RunResult up = apply(
        kit, root, kit.build(hotfix_of("lx-1001", 2, {}, {}, {pe("app/core.dll", "1.0.0.6")})));
    INFO(up.out << up.err);
    CHECK(up.exit_code == 0);
    json list = list_of(root);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["id"] == "LX-1001");  // the spelling it was first installed under
    CHECK(list[0]["revision"] == 2);
    CHECK(run_installer({"verify", "lx-1001", "--root", root}).exit_code == 0);
    RunResult un = run_installer({"uninstall", "lx-1001", "--root", root});
    INFO(un.out << un.err);
    CHECK(un.exit_code == 0);
    CHECK(list_of(root).empty());
    CHECK(content_of(root, "app/core.dll") == kit_content(pe("app/core.dll", "1.0.0.0")));
  }
}
