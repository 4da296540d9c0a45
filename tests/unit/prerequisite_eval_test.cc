#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "installer/prerequisite_eval.h"
#include "installer/target_facts.h"
#include "manifests/manifest_json.h"

using hotfix::Arch;
using hotfix::Prerequisite;
using hotfix::PrerequisiteContext;
using hotfix::PrerequisiteResult;
using hotfix::TargetFacts;
using hotfix::Version;
using Type = hotfix::Prerequisite::Type;
using Json = nlohmann::ordered_json;

namespace {

TargetFacts windows(const std::string& product, const std::string& version, int service_pack,
                    Arch arch = Arch::kX64) {
  TargetFacts facts;
  facts.family = "windows";
  facts.product = product;
  facts.version = Version::parse(version, false);
  facts.service_pack = service_pack;
  facts.architecture = arch;
  facts.source = "test";
  return facts;
}

TargetFacts vista_rtm() { return windows("Windows Vista", "6.0.6000", 0, Arch::kX86); }
TargetFacts vista_sp1() { return windows("Windows Vista", "6.0.6001", 1, Arch::kX86); }
TargetFacts server_2008() { return windows("Windows Server 2008", "6.0.6001", 1); }
TargetFacts windows_7() { return windows("Windows 7", "6.1.7600", 0); }

// A target with installed hotfixes and files at given versions; a file mapped to nullopt
// exists without a version, a file not in the map is missing.
struct Target {
  explicit Target(TargetFacts target, std::set<std::string> installed = {},
                  std::map<std::string, std::optional<Version>> versions = {})
      : facts(std::move(target)), hotfixes(std::move(installed)), files(std::move(versions)) {}

  TargetFacts facts;
  std::set<std::string> hotfixes;
  std::map<std::string, std::optional<Version>> files;
  std::vector<std::string> asked;  // every hotfix and file the evaluator asked about

  PrerequisiteResult evaluate(const Prerequisite& p, bool with_file_exists = true) {
    PrerequisiteContext context{
        facts,
        [this](const std::string& id) {
          asked.push_back("hotfix " + id);
          return hotfixes.count(id) > 0;
        },
        [this](const std::string& path) -> std::optional<Version> {
          asked.push_back("file " + path);
          auto it = files.find(path);
          return it == files.end() ? std::nullopt : it->second;
        },
    };
    if (with_file_exists) {
      context.file_exists = [this](const std::string& path) { return files.count(path) > 0; };
    }
    return hotfix::evaluate_prerequisites(p, context);
  }
};

Prerequisite parse(const std::string& json) {
  return hotfix::parse_prerequisite(Json::parse(json), "test");
}

Prerequisite kb967131_prerequisites() {
  return hotfix::read_manifest_file(std::string(HOTFIX_SOURCE_DIR) +
                                    "/samples/KB967131/hotfix.json")
      .prerequisites;
}

void check_satisfied(const PrerequisiteResult& result) {
  CHECK(result.satisfied);
  CHECK(result.reason.empty());
}

void check_refused(const PrerequisiteResult& result, const std::string& reason) {
  CHECK_FALSE(result.satisfied);
  CHECK(result.reason == reason);
}

}  // namespace

// ---------------------------------------------------------------------------
// KB967131, as the article states its prerequisites

TEST_CASE("KB967131's prerequisites are the article's: Vista SP1 or Server 2008") {
  Prerequisite p = kb967131_prerequisites();
  REQUIRE(p.type == Type::kAnyOf);
  REQUIRE(p.describe() == "Windows Vista SP1 or Windows Server 2008");
}

TEST_CASE("KB967131 on Windows Vista RTM: refused, naming the clause and the target") {
  Target target{vista_rtm()};
  check_refused(target.evaluate(kb967131_prerequisites()),
                "needs Windows Vista SP1 or Windows Server 2008; target is Windows Vista RTM");
}

TEST_CASE("KB967131 on Windows Vista SP1 and on Windows Server 2008: satisfied") {
  Target vista{vista_sp1()};
  check_satisfied(vista.evaluate(kb967131_prerequisites()));
  Target server{server_2008()};
  check_satisfied(server.evaluate(kb967131_prerequisites()));
  Target server_ia64{windows("Windows Server 2008", "6.0.6001", 1, Arch::kIa64)};
  check_satisfied(server_ia64.evaluate(kb967131_prerequisites()));
  Target vista_sp2{windows("Windows Vista", "6.0.6002", 2, Arch::kX86)};
  check_satisfied(vista_sp2.evaluate(kb967131_prerequisites()));
}

TEST_CASE("KB967131 on Windows 7: refused") {
  Target target{windows_7()};
  check_refused(target.evaluate(kb967131_prerequisites()),
                "needs Windows Vista SP1 or Windows Server 2008; target is Windows 7 RTM");
}

TEST_CASE("KB967131 asks nothing of the database or the files") {
  Target target{vista_rtm()};
  target.evaluate(kb967131_prerequisites());
  CHECK(target.asked.empty());
}

// ---------------------------------------------------------------------------
// Each kind of clause

TEST_CASE("product compares names case-insensitively") {
  Target target{server_2008()};
  check_satisfied(target.evaluate(parse(R"({"product": "Windows Server 2008"})")));
  check_satisfied(target.evaluate(parse(R"({"product": "WINDOWS server 2008"})")));
  check_refused(target.evaluate(parse(R"({"product": "Windows Server 2008 R2"})")),
                "needs Windows Server 2008 R2; target is Windows Server 2008 SP1");
  check_refused(target.evaluate(parse(R"({"product": "Windows Server"})")),
                "needs Windows Server; target is Windows Server 2008 SP1");
}

TEST_CASE("service_pack_at_least compares the number") {
  Target target{vista_sp1()};
  check_satisfied(target.evaluate(parse(R"({"service_pack_at_least": 0})")));
  check_satisfied(target.evaluate(parse(R"({"service_pack_at_least": 1})")));
  check_refused(target.evaluate(parse(R"({"service_pack_at_least": 2})")),
                "needs service pack 2 or later; target is Windows Vista SP1");
}

TEST_CASE("version_at_least compares the target's version, an unknown version fails") {
  Target target{server_2008()};
  check_satisfied(target.evaluate(parse(R"({"version_at_least": "6.0.6001"})")));
  check_satisfied(target.evaluate(parse(R"({"version_at_least": "6.0"})")));
  check_refused(target.evaluate(parse(R"({"version_at_least": "6.0.6001.1"})")),
                "needs version 6.0.6001.1 or later; target version is 6.0.6001.0");
  check_refused(target.evaluate(parse(R"({"version_at_least": "6.1"})")),
                "needs version 6.1.0.0 or later; target version is 6.0.6001.0");
  target.facts.version.reset();
  check_refused(target.evaluate(parse(R"({"version_at_least": "6.0"})")),
                "needs version 6.0.0.0 or later; target version is unknown");
}

TargetFacts debian(const std::string& version_id) {
  TargetFacts facts;
  facts.family = "linux";
  facts.product = "Debian GNU/Linux " + version_id;
  facts.version = Version::parse(version_id, false);
  facts.os_id = "debian";
  facts.source = "test";
  return facts;
}

TEST_CASE("os_id compares the os-release ID exactly: a target without os-release fails") {
  Target target{debian("12")};
  check_satisfied(target.evaluate(parse(R"({"os_id": "debian"})")));
  check_refused(target.evaluate(parse(R"({"os_id": "ubuntu"})")),
                "needs os ubuntu; target os-release ID is debian");
  Target windows_target{server_2008()};
  check_refused(windows_target.evaluate(parse(R"({"os_id": "debian"})")),
                "needs os debian; target has no os-release ID");
}

TEST_CASE("os_version_at_least compares VERSION_ID, only on an os-release target") {
  Target target{debian("22.04")};
  check_satisfied(target.evaluate(parse(R"({"os_version_at_least": "22.04"})")));
  check_satisfied(target.evaluate(parse(R"({"os_version_at_least": "12"})")));
  check_refused(target.evaluate(parse(R"({"os_version_at_least": "24.04"})")),
                "needs os version 24.04 or later; target VERSION_ID is 22.4.0.0");
  check_satisfied(target.evaluate(
      parse(R"({"all_of": [{"os_id": "debian"}, {"os_version_at_least": "12"}]})")));
  target.facts.version.reset();  // VERSION_ID=rolling
  check_refused(target.evaluate(parse(R"({"os_version_at_least": "12"})")),
                "needs os version 12 or later; target VERSION_ID is unknown or not numeric");
  // A Windows version is not a VERSION_ID, whatever its number.
  Target windows_target{server_2008()};
  check_refused(windows_target.evaluate(parse(R"({"os_version_at_least": "6"})")),
                "needs os version 6 or later; target has no os-release VERSION_ID");
}

TEST_CASE("architecture compares the target's architecture") {
  Target target{windows("Windows Server 2008", "6.0.6001", 1, Arch::kIa64)};
  check_satisfied(target.evaluate(parse(R"({"architecture": "ia64"})")));
  check_refused(target.evaluate(parse(R"({"architecture": "x64"})")),
                "needs x64 architecture; target architecture is IA-64");
}

TEST_CASE("hotfix_installed asks the context") {
  Target target{server_2008(), {"KB948609"}};
  check_satisfied(target.evaluate(parse(R"({"hotfix_installed": "KB948609"})")));
  check_refused(target.evaluate(parse(R"({"hotfix_installed": "KB123"})")),
                "needs hotfix KB123 installed");
  check_refused(target.evaluate(parse(R"({"hotfix_installed": "KB123", "label": "the IIS fix"})")),
                "needs the IIS fix; hotfix KB123 is not installed");
  CHECK(target.asked ==
        std::vector<std::string>{"hotfix KB948609", "hotfix KB123", "hotfix KB123"});
}

TEST_CASE("file_version_at_least reads the file's version") {
  const std::string appcmd = "Windows/System32/inetsrv/appcmd.exe";
  const std::string clause =
      R"({"file_version_at_least": {"path": ")" + appcmd + R"(", "version": "7.0.6001.18000"}})";
  Target target{server_2008()};
  SECTION("newer and equal versions satisfy it") {
    target.files[appcmd] = Version(7, 0, 6001, 22329);
    check_satisfied(target.evaluate(parse(clause)));
    target.files[appcmd] = Version(7, 0, 6001, 18000);
    check_satisfied(target.evaluate(parse(clause)));
    CHECK(target.asked == std::vector<std::string>{"file " + appcmd, "file " + appcmd});
  }
  SECTION("an older version") {
    target.files[appcmd] = Version(7, 0, 6000, 16386);
    check_refused(target.evaluate(parse(clause)),
                  "needs Windows/System32/inetsrv/appcmd.exe version 7.0.6001.18000 or later; "
                  "found 7.0.6000.16386");
  }
  SECTION("a missing file") {
    check_refused(target.evaluate(parse(clause)),
                  "needs Windows/System32/inetsrv/appcmd.exe version 7.0.6001.18000 or later; "
                  "the file is missing");
  }
  SECTION("a file without a version") {
    target.files[appcmd] = std::nullopt;
    check_refused(target.evaluate(parse(clause)),
                  "needs Windows/System32/inetsrv/appcmd.exe version 7.0.6001.18000 or later; "
                  "the file has no version");
  }
  SECTION("without file_exists, missing and unversioned cannot be told apart") {
    check_refused(target.evaluate(parse(clause), false),
                  "needs Windows/System32/inetsrv/appcmd.exe version 7.0.6001.18000 or later; "
                  "the file is missing or has no version");
  }
  SECTION("under a label the detail names the file") {
    target.files[appcmd] = Version(7, 0, 6000, 16386);
    Prerequisite p = parse(clause);
    p.label = "IIS 7.0 at RTM or later";
    check_refused(target.evaluate(p),
                  "needs IIS 7.0 at RTM or later; Windows/System32/inetsrv/appcmd.exe is version "
                  "7.0.6000.16386");
    target.files.clear();
    check_refused(target.evaluate(p),
                  "needs IIS 7.0 at RTM or later; Windows/System32/inetsrv/appcmd.exe is missing");
  }
}

// ---------------------------------------------------------------------------
// all_of, any_of, nesting

TEST_CASE("An empty all_of always holds, an empty any_of never does") {
  Target target{vista_rtm()};
  check_satisfied(target.evaluate(Prerequisite::always()));
  Prerequisite none;
  none.type = Type::kAnyOf;
  check_refused(target.evaluate(none), "needs one of nothing; no clause can be met");
}

TEST_CASE("all_of: every clause must hold, and the first failing one gives the detail") {
  Target target{
      server_2008(), {}, {{"Windows/System32/inetsrv/appcmd.exe", Version(7, 0, 6000, 16386)}}};
  Prerequisite p = parse(R"({"all_of": [
      {"product": "Windows Server 2008"},
      {"architecture": "x64"},
      {"file_version_at_least": {"path": "Windows/System32/inetsrv/appcmd.exe",
                                 "version": "7.0.6001.18000"}},
      {"hotfix_installed": "KB1"}]})");
  check_refused(target.evaluate(p),
                "needs Windows Server 2008 and x64 architecture and "
                "Windows/System32/inetsrv/appcmd.exe version 7.0.6001.18000 or later and hotfix "
                "KB1; Windows/System32/inetsrv/appcmd.exe is version 7.0.6000.16386");
  // It stops at the first failure: the hotfix was never asked about.
  CHECK(target.asked == std::vector<std::string>{"file Windows/System32/inetsrv/appcmd.exe"});

  target.files["Windows/System32/inetsrv/appcmd.exe"] = Version(7, 0, 6001, 18000);
  CHECK_THAT(target.evaluate(p).reason, Catch::Matchers::EndsWith("; hotfix KB1 is not installed"));
  target.hotfixes.insert("KB1");
  check_satisfied(target.evaluate(p));
  target.facts.architecture = Arch::kIa64;
  CHECK_THAT(target.evaluate(p).reason,
             Catch::Matchers::EndsWith("; target architecture is IA-64"));
}

TEST_CASE("any_of: one clause suffices, when none holds, each distinct detail is given once") {
  Target target{vista_sp1()};
  Prerequisite p = parse(R"({"any_of": [{"hotfix_installed": "KB1"}, {"hotfix_installed": "KB2"},
                                        {"version_at_least": "6.1"}]})");
  check_refused(target.evaluate(p),
                "needs hotfix KB1 or hotfix KB2 or version 6.1.0.0 or later; hotfix KB1 is not "
                "installed; hotfix KB2 is not installed; target version is 6.0.6001.0");
  target.hotfixes.insert("KB2");
  check_satisfied(target.evaluate(p));
  // It stops at the first clause that holds.
  target.asked.clear();
  target.hotfixes = {"KB1"};
  check_satisfied(target.evaluate(p));
  CHECK(target.asked == std::vector<std::string>{"hotfix KB1"});
}

TEST_CASE("Nesting: the top clause's wording, the failing leaf's detail") {
  Prerequisite p = parse(R"({"all_of": [
      {"any_of": [{"all_of": [{"product": "Windows Vista"}, {"service_pack_at_least": 1}],
                   "label": "Windows Vista SP1"},
                  {"product": "Windows Server 2008"}]},
      {"any_of": [{"architecture": "x86"}, {"architecture": "x64"}]}]})");
  CHECK(p.describe() ==
        "(Windows Vista SP1 or Windows Server 2008) and (x86 architecture or x64 architecture)");
  Target rtm{vista_rtm()};
  check_refused(rtm.evaluate(p),
                "needs (Windows Vista SP1 or Windows Server 2008) and (x86 architecture or x64 "
                "architecture); target is Windows Vista RTM");
  Target ia64{windows("Windows Server 2008", "6.0.6001", 1, Arch::kIa64)};
  check_refused(ia64.evaluate(p),
                "needs (Windows Vista SP1 or Windows Server 2008) and (x86 architecture or x64 "
                "architecture); target architecture is IA-64");
  Target server{server_2008()};
  check_satisfied(server.evaluate(p));
  Target vista{vista_sp1()};
  check_satisfied(vista.evaluate(p));

  p.label = "a supported IIS 7.0 server";
  check_refused(rtm.evaluate(p), "needs a supported IIS 7.0 server; target is Windows Vista RTM");
}

TEST_CASE("Facts from a Linux root evaluate the same way") {
  TargetFacts facts;
  facts.family = "linux";
  facts.product = "Debian GNU/Linux 12 (bookworm)";
  facts.version = Version(12, 0, 0, 0);
  facts.architecture = Arch::kX64;
  Target target{facts};
  check_satisfied(target.evaluate(parse(R"({"version_at_least": "12"})")));
  check_refused(target.evaluate(parse(R"j({"all_of": [{"product": "Debian GNU/Linux 13 (trixie)"
},
                                                     {"version_at_least": "13"}]
})j")),
                "needs Debian GNU/Linux 13 (trixie) and version 13.0.0.0 or later; target is "
                "Debian GNU/Linux 12 (bookworm)");
}
