#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "manifests/manifest_json.h"

using hotfix::ManifestError;
using hotfix::ManifestIssue;
using hotfix::ManifestReadOptions;
using Json = nlohmann::ordered_json;

namespace {

Json file(std::string name, std::string destination, Json version, std::uint64_t size,
          std::string timestamp, std::string platform) {
  return Json{{"name", name}, {"destination", destination}, {"version", version},
              {"size", size}, {"timestamp", timestamp},     {"platform", platform}};
}

// An excerpt of KB967131's file tables: WOW64 copies in the x64 list, an unversioned config.
Json kb967131() {
  Json config = file("Applicationhost.config", "Windows/System32/inetsrv/config", nullptr, 7989,
                     "2007-12-18T21:00:00Z", "neutral");
  config["kind"] = "config";
  return Json{
      {"schema", 1},
      {"id", "KB967131"},
      {"title", "IIS 7.0 may stop serving requests while applicationHost.config is written"},
      {"revision", 1},
      {"languages", {"en-US"}},
      {"restart", "reboot"},
      {"prerequisites",
       {{"any_of",
         {{{"all_of", {{{"product", "Windows Vista"}}, {{"service_pack_at_least", 1}}}}},
          {{"product", "Windows Server 2008"}}}},
        {"label", "Windows Vista SP1 or Windows Server 2008"}}},
      {"architectures",
       {{"x86",
         {{"files",
           {file("Admwprox.dll", "Windows/System32/inetsrv", "7.0.6001.22329", 51712,
                 "2008-12-13T04:27:00Z", "x86"),
            config}}}},
        {"x64",
         {{"files",
           {file("Admwprox.dll", "Windows/System32/inetsrv", "7.0.6001.22329", 54784,
                 "2008-12-13T04:58:00Z", "x64"),
            file("Admwprox.dll", "Windows/SysWOW64/inetsrv", "7.0.6001.22329", 51712,
                 "2008-12-13T04:27:00Z", "x86"),
            file("Appcmd.xml", "Windows/System32/inetsrv", nullptr, 3654, "2007-12-18T21:00:00Z",
                 "neutral"),
            file("Appcmd.xml", "Windows/SysWOW64/inetsrv", nullptr, 3654, "2007-12-18T21:00:00Z",
                 "neutral")}}}},
        {"ia64",
         {{"files",
           {file("Admwprox.dll", "Windows/System32/inetsrv", "7.0.6001.22329", 119808,
                 "2008-12-13T04:37:00Z", "ia64")}}}}}}};
}

std::vector<ManifestIssue> issues_of(const std::string& text, ManifestReadOptions options = {}) {
  try {
    hotfix::parse_manifest(text, "test.json", options);
  } catch (const ManifestError& e) {
    return e.issues();
  }
  return {};
}

std::vector<ManifestIssue> issues_of(const Json& doc, ManifestReadOptions options = {}) {
  return issues_of(doc.dump(2), options);
}

std::string show(const std::vector<ManifestIssue>& issues) {
  std::string out;
  for (const auto& issue : issues) out += issue.path + ": " + issue.message + "\n";
  return out;
}

// The document has exactly one issue, at `path`, and its message contains each fragment.
void require_single_issue(const Json& doc, const std::string& path,
                          const std::vector<std::string>& fragments,
                          ManifestReadOptions options = {}) {
  auto issues = issues_of(doc, options);
  INFO(show(issues));
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].path == path);
  for (const auto& fragment : fragments) {
    INFO("fragment: " << fragment);
    CHECK(issues[0].message.find(fragment) != std::string::npos);
  }
}

Json with(Json doc, const std::string& pointer, Json value) {
  doc[Json::json_pointer(pointer)] = std::move(value);
  return doc;
}

Json without(Json doc, const std::string& pointer) {
  Json::json_pointer p(pointer);
  doc[p.parent_pointer()].erase(p.back());
  return doc;
}

}  // namespace

TEST_CASE("The KB967131 excerpt parses into the model") {
  auto m = hotfix::parse_manifest(kb967131().dump(2), "kb.json");
  CHECK(m.id == "KB967131");
  CHECK(m.restart == hotfix::RestartRequirement::kReboot);
  CHECK(m.languages == std::vector<std::string>{"en-US"});
  CHECK(m.description.empty());
  CHECK(m.supersedes.empty());
  CHECK_FALSE(m.bundle);
  REQUIRE(m.architectures.size() == 3);
  const auto& x86 = m.architectures.at(hotfix::Arch::kX86);
  REQUIRE(x86.size() == 2);
  CHECK(x86[0].path() == "Windows/System32/inetsrv/Admwprox.dll");
  CHECK(x86[0].version == hotfix::Version(7, 0, 6001, 22329));
  CHECK(x86[0].size == 51712);
  CHECK(x86[0].timestamp.iso8601() == "2008-12-13T04:27:00Z");
  CHECK(x86[0].platform == hotfix::Arch::kX86);
  CHECK(x86[0].kind == hotfix::FileKind::kBinary);
  CHECK_FALSE(x86[1].version);
  CHECK(x86[1].kind == hotfix::FileKind::kConfig);
  CHECK(x86[1].platform == hotfix::Arch::kNeutral);
  CHECK(m.architectures.at(hotfix::Arch::kX64)[1].platform == hotfix::Arch::kX86);
  CHECK(m.prerequisites.describe() == "Windows Vista SP1 or Windows Server 2008");
  REQUIRE(m.prerequisites.children.size() == 2);
  CHECK(m.prerequisites.children[0].children[1].service_pack == 1);
}

TEST_CASE("Writing and reading back gives the same manifest and the same bytes") {
  auto m = hotfix::parse_manifest(kb967131().dump(), "kb.json");
  std::string text = hotfix::write_manifest(m);
  auto again = hotfix::parse_manifest(text, "written.json");
  CHECK(again == m);
  CHECK(hotfix::write_manifest(again) == text);
}

TEST_CASE("A wrong file version is reported with its path and what was expected") {
  require_single_issue(with(kb967131(), "/architectures/x64/files/1/version", "7.0.6001"),
                       "architectures.x64.files[1].version",
                       {"\"7.0.6001\" is not a four-part version (expected \"A.B.C.D\", each "
                        "0-65535, or null for an unversioned file)"});
}

TEST_CASE("Several problems in one document are all reported") {
  Json doc = kb967131();
  doc["id"] = "KB 967131";
  doc["colour"] = "blue";
  doc = with(doc, "/architectures/x86/files/0/size", -1);
  doc = with(doc, "/architectures/ia64/files/0/timestamp", "13-Dec-2008 04:37");
  auto issues = issues_of(doc);
  INFO(show(issues));
  REQUIRE(issues.size() == 4);
  std::vector<std::string> paths;
  for (const auto& issue : issues) paths.push_back(issue.path);
  CHECK(paths == std::vector<std::string>{"colour", "id", "architectures.x86.files[0].size",
                                          "architectures.ia64.files[0].timestamp"});
}

TEST_CASE("A missing required field is reported at its own path") {
  require_single_issue(without(kb967131(), "/title"), "title", {"missing", "non-empty string"});
}
