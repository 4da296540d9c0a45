#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "manifests/manifest_json.h"
#include "tests/support/temp_dir.h"

using hotfix::Arch;
using hotfix::ManifestError;
using hotfix::ManifestIssue;
using hotfix::ManifestReadOptions;
using Json = nlohmann::ordered_json;

namespace {

const ManifestReadOptions kBundle{.bundle = true};

Json file(std::string name, std::string destination, Json version, std::uint64_t size,
          std::string timestamp, std::string platform) {
  return Json{{"name", name}, {"destination", destination}, {"version", version},
              {"size", size}, {"timestamp", timestamp},     {"platform", platform}};
}

// An excerpt of KB967131's file tables: WOW64 copies in the x64 list (two Appcmd.xml rows
// with one name but different destinations), an unversioned config file.
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

// The x64 slice of the excerpt as a bundle's manifest carries it.
Json kb967131_x64_bundle() {
  Json doc = kb967131();
  Json x64 = doc["architectures"]["x64"];
  for (Json& entry : x64["files"]) entry["sha256"] = std::string(64, 'a');
  doc["bundle"] =
      Json{{"architecture", "x64"}, {"language", "en-US"}, {"key_id", std::string(64, 'a')}};
  doc["architectures"] = Json{{"x64", x64}};
  return doc;
}

std::vector<ManifestIssue> text_issues(const std::string& text, ManifestReadOptions options = {}) {
  try {
    hotfix::parse_manifest(text, "test.json", options);
  } catch (const ManifestError& e) {
    return e.issues();
  }
  return {};
}

std::vector<ManifestIssue> issues_of(const Json& doc, ManifestReadOptions options = {}) {
  return text_issues(doc.dump(2), options);
}

std::string show(const std::vector<ManifestIssue>& issues) {
  std::string out;
  for (const auto& issue : issues) out += issue.path + ": " + issue.message + "\n";
  return out;
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// The text has exactly one issue, at `path`, and its message contains each fragment.
void require_single_text_issue(const std::string& text, const std::string& path,
                               const std::vector<std::string>& fragments,
                               ManifestReadOptions options = {}) {
  auto issues = text_issues(text, options);
  INFO(show(issues));
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].path == path);
  for (const auto& fragment : fragments) {
    INFO("fragment: " << fragment);
    CHECK(contains(issues[0].message, fragment));
  }
}

void require_single_issue(const Json& doc, const std::string& path,
                          const std::vector<std::string>& fragments,
                          ManifestReadOptions options = {}) {
  require_single_text_issue(doc.dump(2), path, fragments, options);
}

void require_valid(const Json& doc, ManifestReadOptions options = {}) {
  auto issues = issues_of(doc, options);
  INFO(show(issues));
  CHECK(issues.empty());
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

// "/architectures/x86/files/0" with the field set.
Json with_file_field(const std::string& field, Json value) {
  return with(kb967131(), "/architectures/x86/files/0/" + field, std::move(value));
}
const std::string kFile0 = "architectures.x86.files[0].";

struct BadValue {
  Json value;
  std::string fragment;  // part of the expected message
};

void check_bad_values(const std::string& pointer, const std::string& path,
                      const std::vector<BadValue>& cases, const Json& base = kb967131(),
                      ManifestReadOptions options = {}) {
  for (const BadValue& c : cases) {
    INFO("value: " << c.value.dump());
    require_single_issue(with(base, pointer, c.value), path, {c.fragment}, options);
  }
}

void check_good_values(const std::string& pointer, const std::vector<Json>& values,
                       const Json& base = kb967131()) {
  for (const Json& value : values) {
    INFO("value: " << value.dump());
    require_valid(with(base, pointer, value));
  }
}

hotfix::Manifest parse(const Json& doc, ManifestReadOptions options = {}) {
  return hotfix::parse_manifest(doc.dump(2), "test.json", options);
}

// {"all_of": [{"all_of": [... {"product": "Windows Vista"}]}]}, `levels` nodes deep.
Json nested_prerequisite(int levels) {
  Json node = {{"product", "Windows Vista"}};
  for (int i = 1; i < levels; ++i) node = Json{{"all_of", Json::array({node})}};
  return node;
}

std::string insert_after(std::string text, const std::string& needle, const std::string& extra) {
  std::size_t at = text.find(needle);
  REQUIRE(at != std::string::npos);
  return text.insert(at + needle.size(), extra);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The model as parsed

TEST_CASE("The KB967131 excerpt parses into the model") {
  auto m = parse(kb967131());
  CHECK(m.schema == 1);
  CHECK(m.id == "KB967131");
  CHECK(m.revision == 1);
  CHECK(m.restart == hotfix::RestartRequirement::kReboot);
  CHECK(m.languages == std::vector<std::string>{"en-US"});
  CHECK(m.description.empty());
  CHECK(m.supersedes.empty());
  CHECK_FALSE(m.bundle);
  REQUIRE(m.architectures.size() == 3);
  const auto& x86 = m.architectures.at(Arch::kX86);
  REQUIRE(x86.size() == 2);
  CHECK(x86[0].path() == "Windows/System32/inetsrv/Admwprox.dll");
  CHECK(x86[0].version == hotfix::Version(7, 0, 6001, 22329));
  CHECK(x86[0].size == 51712);
  CHECK(x86[0].timestamp.iso8601() == "2008-12-13T04:27:00Z");
  CHECK(x86[0].platform == Arch::kX86);
  CHECK(x86[0].kind == hotfix::FileKind::kBinary);
  CHECK_FALSE(x86[0].only_if_present);
  CHECK_FALSE(x86[0].sha256);
  CHECK_FALSE(x86[0].mode);
  CHECK_FALSE(x86[0].language);
  CHECK(x86[1].path() == "Windows/System32/inetsrv/config/Applicationhost.config");
  CHECK_FALSE(x86[1].version);
  CHECK(x86[1].kind == hotfix::FileKind::kConfig);
  CHECK(x86[1].platform == Arch::kNeutral);
  const auto& x64 = m.architectures.at(Arch::kX64);
  REQUIRE(x64.size() == 4);
  CHECK(x64[1].platform == Arch::kX86);
  CHECK(x64[1].path() == "Windows/SysWOW64/inetsrv/Admwprox.dll");
  CHECK(m.architectures.at(Arch::kIa64)[0].size == 119808);
  CHECK(m.prerequisites.describe() == "Windows Vista SP1 or Windows Server 2008");
  REQUIRE(m.prerequisites.children.size() == 2);
  CHECK(m.prerequisites.children[0].children[1].service_pack == 1);
}

TEST_CASE("Optional fields have their documented defaults") {
  auto m = parse(kb967131());
  CHECK(m.description == "");
  CHECK(m.supersedes.empty());
  CHECK(parse(without(kb967131(), "/prerequisites")).prerequisites.is_always());
  const auto& entry = m.architectures.at(Arch::kX86)[0];
  CHECK(entry.kind == hotfix::FileKind::kBinary);
  CHECK(entry.only_if_present == false);
}

// ---------------------------------------------------------------------------------------
// The whole document

TEST_CASE("A document over 16 MiB is refused before parsing") {
  std::string text = kb967131().dump();
  text.resize(hotfix::kMaxManifestBytes, ' ');  // trailing whitespace is valid JSON
  CHECK(text_issues(text).empty());
  text.push_back(' ');
  require_single_text_issue(text, "",
                            {"document is 16777217 bytes", "expected at most 16777216 bytes"});
}

TEST_CASE("Nesting deeper than 64 levels is refused with line and column") {
  auto nested = [](int arrays) {
    return "{\"x\":\n" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
  };
  SECTION("64 levels are read (and the unknown field reported)") {
    Json doc = kb967131();
    std::string text = doc.dump();
    text.pop_back();
    text += ",\"x\":" + std::string(63, '[') + std::string(63, ']') + "}";
    require_single_text_issue(text, "x", {"unknown field"});
  }
  SECTION("65 levels are refused, pointing at the bracket that opens level 65") {
    require_single_text_issue(nested(64), "",
                              {"nesting deeper than 64 levels at line 2, column 64",
                               "expected at most 64 nested arrays and objects"});
  }
  SECTION("brackets inside strings do not count") {
    Json doc = kb967131();
    doc["description"] = "\"[" + std::string(100, '[') + std::string(100, '{');
    require_valid(doc);
  }
}

TEST_CASE("Malformed JSON is one issue with line and column") {
  struct Case {
    std::string text;
    std::string where;
  };
  for (const Case& c : std::vector<Case>{
           {"{\"schema\": 1,\n \"id\": [1, 2,]\n}", "line 2, column 14"},
           {"{\"schema\": 1,\n \"id\": \"KB1\"\n \"title\": \"x\"}", "line 3, column 8"},
           {"", "line 1, column 1"},
           {"{\"schema\": 1", "line 1, column 13"},
           {"{} {}", "line 1, column 4"},
           {"{\"schema\": 1 // comment\n}", "line 1, column 14"},
           {"{\"id\": \"\xff\"}", "line 1, column 9"},
           {"{'schema': 1}", "line 1, column 2"},
       }) {
    INFO(c.text);
    auto issues = text_issues(c.text);
    INFO(show(issues));
    REQUIRE(issues.size() == 1);
    CHECK(issues[0].path == "");
    CHECK(contains(issues[0].message, "invalid JSON at " + c.where + ": "));
  }
}

TEST_CASE("A key given twice in one object is reported where it occurs") {
  SECTION("in a file entry") {
    std::string text =
        insert_after(kb967131().dump(), "\"name\":\"Admwprox.dll\"", ",\"name\":\"Other.dll\"");
    require_single_text_issue(text, "architectures.x86.files[0].name",
                              {"duplicate key \"name\"", "expected each key once"});
  }
  SECTION("at the top") {
    std::string text = insert_after(kb967131().dump(), "\"id\":\"KB967131\"", ",\"id\":\"KB1\"");
    require_single_text_issue(text, "id", {"duplicate key \"id\""});
  }
  SECTION("deep in arrays") {
    auto issues = text_issues(R"({"a": [{"b": 1}, {"c": [0, {"d": 1, "d": 2}]}]})");
    bool found = false;
    for (const auto& issue : issues) {
      found = found || (issue.path == "a[1].c[1].d" && contains(issue.message, "duplicate key"));
    }
    INFO(show(issues));
    CHECK(found);
  }
}

TEST_CASE("The document must be a JSON object") {
  for (const char* text : {"[]", "\"KB967131\"", "1", "null", "true"}) {
    INFO(text);
    require_single_text_issue(std::string(text), "", {"expected a manifest object, found"});
  }
  require_single_text_issue(std::string("[]"), "", {"found an array"});
}

TEST_CASE("ManifestError names the source, is bad input, and reports every issue") {
  Json doc = kb967131();
  doc["id"] = "KB 967131";
  doc["title"] = "";
  try {
    hotfix::parse_manifest(doc.dump(), "KB967131.json");
    FAIL("accepted an invalid manifest");
  } catch (const ManifestError& e) {
    CHECK(e.kind() == hotfix::ErrorKind::kBadInput);
    CHECK(hotfix::exit_code_for(e.kind()) == hotfix::ExitCode::kBadInput);
    CHECK(e.source() == "KB967131.json");
    CHECK(std::string(e.what()).rfind("KB967131.json: id: \"KB 967131\" is not a valid id", 0) ==
          0);
    REQUIRE(e.issues().size() == 2);
    std::string report = e.report();
    CHECK(contains(report, "KB967131.json: id: \"KB 967131\" is not a valid id"));
    CHECK(contains(report, "\nKB967131.json: title: is empty"));
    CHECK(report.back() == '\n');
    // Through the base class, as the programs print errors: one line per issue.
    const hotfix::Error& base = e;
    std::vector<std::string> lines = base.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].rfind("KB967131.json: id: \"KB 967131\" is not a valid id", 0) == 0);
    CHECK(lines[1].rfind("KB967131.json: title: is empty", 0) == 0);
    CHECK(report == lines[0] + "\n" + lines[1] + "\n");
  }
  try {
    hotfix::parse_manifest("[", "broken.json");
    FAIL("accepted broken JSON");
  } catch (const ManifestError& e) {
    CHECK(std::string(e.what()).rfind("broken.json: invalid JSON at line 1, column 2", 0) == 0);
  }
}

TEST_CASE("Several problems in one document are all reported") {
  Json doc = kb967131();
  doc["id"] = "KB 967131";
  doc["colour"] = "blue";
  doc = with(doc, "/architectures/x86/files/0/size", -1);
  doc = with(doc, "/architectures/x86/files/0/version", "7.0");
  doc = with(doc, "/prerequisites/any_of/0/all_of/1/service_pack_at_least", "1");
  doc = with(doc, "/architectures/ia64/files/0/timestamp", "13-Dec-2008 04:37");
  doc = with(doc, "/architectures/x64/files/3/name", "APPCMD.XML");
  doc = with(doc, "/architectures/x64/files/3/destination", "windows/system32/INETSRV");
  auto issues = issues_of(doc);
  INFO(show(issues));
  std::vector<std::string> paths;
  for (const auto& issue : issues) paths.push_back(issue.path);
  CHECK(paths == std::vector<std::string>{
                     "colour", "id", "prerequisites.any_of[0].all_of[1].service_pack_at_least",
                     "architectures.x86.files[0].version", "architectures.x86.files[0].size",
                     "architectures.x64.files[3]", "architectures.ia64.files[0].timestamp"});
}

// ---------------------------------------------------------------------------------------
// Unknown fields and required fields

TEST_CASE("Unknown fields are errors in every kind of object") {
  SECTION("top level") {
    require_single_issue(
        with(kb967131(), "/colour", "blue"), "colour",
        {"unknown field (expected one of: schema, id, title, description, "
         "revision, languages, restart, supersedes, family, prerequisites, bundle, "
         "architectures)"});
  }
  SECTION("a key that is not a plain word is quoted in the path") {
    require_single_issue(with(kb967131(), "/weird key.x", 1), "[\"weird key.x\"]",
                         {"unknown field"});
  }
  SECTION("file entry") {
    require_single_issue(with_file_field("checksum", "abc"), kFile0 + "checksum",
                         {"unknown field (expected one of: name, destination, version, size, "
                          "timestamp, platform, kind, only_if_present, sha256, mode, language)"});
  }
  SECTION("architecture object") {
    require_single_issue(with(kb967131(), "/architectures/x86/file", Json::array()),
                         "architectures.x86.file", {"unknown field (expected one of: files)"});
  }
  SECTION("architecture key") {
    require_single_issue(with(kb967131(), "/architectures/IA-64", Json::object()),
                         "architectures.IA-64", {"unknown architecture", "x86, x64, ia64, arm64"});
  }
  SECTION("bundle") {
    require_single_issue(with(kb967131_x64_bundle(), "/bundle/arch", "x64"), "bundle.arch",
                         {"unknown field (expected one of: architecture, language, key_id)"},
                         kBundle);
  }
  SECTION("prerequisite node") {
    require_single_issue(with(kb967131(), "/prerequisites/any_of/1/version", "6.0"),
                         "prerequisites.any_of[1].version",
                         {"unknown field (expected one of: all_of, any_of, product, "
                          "version_at_least, service_pack_at_least, architecture, "
                          "hotfix_installed, file_version_at_least, os_id, "
                          "os_version_at_least, label)"});
  }
  SECTION("file_version_at_least") {
    Json condition = {{"path", "Windows/System32/inetsrv/appcmd.exe"},
                      {"version", "7.0.6001.18000"},
                      {"minimum", "7.0"}};
    require_single_issue(
        with(kb967131(), "/prerequisites", Json{{"file_version_at_least", condition}}),
        "prerequisites.file_version_at_least.minimum",
        {"unknown field (expected one of: path, version)"});
  }
}

TEST_CASE("Each required top-level field is reported when missing") {
  for (const char* field :
       {"schema", "id", "title", "revision", "languages", "restart", "architectures"}) {
    INFO(field);
    require_single_issue(without(kb967131(), std::string("/") + field), field,
                         {"missing (expected"});
  }
  for (const char* field : {"description", "supersedes", "prerequisites", "bundle"}) {
    INFO(field);
    Json doc = kb967131();
    doc.erase(field);
    require_valid(doc);
  }
}

TEST_CASE("Each required file field is reported when missing") {
  for (const char* field : {"name", "destination", "version", "size", "timestamp", "platform"}) {
    INFO(field);
    require_single_issue(without(kb967131(), std::string("/architectures/x86/files/0/") + field),
                         kFile0 + field, {"missing (expected"});
  }
  require_single_issue(without(kb967131(), "/architectures/x86/files/0/version"),
                       kFile0 + "version", {"or null for an unversioned file"});
}

// ---------------------------------------------------------------------------------------
// Top-level fields

TEST_CASE("schema must be the integer 1") {
  check_bad_values("/schema", "schema",
                   {{2, "2 is not a supported schema version (expected 1)"},
                    {0, "0 is not a supported schema version"},
                    {"1", "expected the integer 1, found string \"1\""},
                    {1.0, "expected the integer 1, found number 1.0"},
                    {nullptr, "found null"}});
}

TEST_CASE("id must match the id pattern") {
  check_bad_values(
      "/id", "id",
      {{"", "\"\" is not a valid id (expected an id: 1 to 64 letters, digits"},
       {"KB 967131", "\"KB 967131\" is not a valid id"},
       {".KB967131", "is not a valid id"},
       {"-KB967131", "is not a valid id"},
       {"KB/967131", "is not a valid id"},
       {"KB967131\xc3\xa9", "is not a valid id"},
       {std::string(65, 'K'), "is not a valid id"},
       {967131,
        "expected an id: 1 to 64 letters, digits, \".\", \"_\" or \"-\", starting with a "
        "letter or digit, like \"KB967131\", found number 967131"}});
  check_good_values("/id", {"K", "kb967131", "KB967131-v2.1_x", std::string(64, 'K')});
}

TEST_CASE("title must be a non-empty string") {
  check_bad_values("/title", "title",
                   {{"", "is empty (expected a non-empty title)"},
                    {12, "expected a non-empty string, found number 12"},
                    {nullptr, "found null"}});
}

TEST_CASE("description must be a string") {
  check_bad_values("/description", "description",
                   {{12, "expected a string, found number 12"}, {Json::array(), "an array"}});
  CHECK(parse(with(kb967131(), "/description", "Line one.\nLine two.")).description ==
        "Line one.\nLine two.");
}

TEST_CASE("revision must be an integer from 1 that fits int64") {
  check_bad_values("/revision", "revision",
                   {{0, "0 is too small (expected an integer from 1 to 9223372036854775807)"},
                    {-1, "-1 is negative"},
                    {1.5, "1.5 is not an integer"},
                    {2.0, "2.0 is not an integer"},
                    {"1", "expected an integer from 1 to 9223372036854775807, found string"},
                    {true, "found boolean true"},
                    {9223372036854775808ULL, "9223372036854775808 is too large"}});
  CHECK(parse(with(kb967131(), "/revision", 9223372036854775807LL)).revision ==
        9223372036854775807ULL);
}

TEST_CASE("languages must be a non-empty list of unique language tags") {
  check_bad_values("/languages", "languages",
                   {{"en-US", "expected a non-empty array of language tags, found string"},
                    {Json::array(), "is empty (expected at least one language tag"}});
  check_bad_values("/languages/0", "languages[0]",
                   {{1, "found number 1"},
                    {"english", "\"english\" is not a language tag (expected a tag like"},
                    {"en_US", "is not a language tag"},
                    {"EN-us", "is not a language tag"},
                    {"", "is not a language tag"},
                    {"en-US-x", "is not a language tag"}});
  require_single_issue(with(kb967131(), "/languages", {"en-US", "de-DE", "en-US"}), "languages[2]",
                       {"\"en-US\" is listed twice (first at languages[0]"});
  auto m = parse(with(kb967131(), "/languages",
                      {"en-US", "de-DE", "zh-Hans-CN", "es-419", "sr-Latn", "neutral"}));
  CHECK(m.languages ==
        std::vector<std::string>{"en-US", "de-DE", "zh-Hans-CN", "es-419", "sr-Latn", "neutral"});
}

TEST_CASE("restart must be none, services or reboot") {
  check_bad_values("/restart", "restart",
                   {{"now",
                     "\"now\" is not a restart requirement (expected one of \"none\", "
                     "\"services\", \"reboot\")"},
                    {"Reboot", "is not a restart requirement"},
                    {1, "found number 1"}});
  CHECK(parse(with(kb967131(), "/restart", "none")).restart == hotfix::RestartRequirement::kNone);
  CHECK(parse(with(kb967131(), "/restart", "services")).restart ==
        hotfix::RestartRequirement::kServices);
}

TEST_CASE("supersedes lists other hotfixes' ids, each once") {
  check_bad_values("/supersedes", "supersedes",
                   {{"KB955136", "expected an array of hotfix ids, found string"}});
  check_bad_values("/supersedes", "supersedes[0]",
                   {{{"KB 955136"}, "\"KB 955136\" is not a valid id"},
                    {{955136}, "found number 955136"},
                    {{"KB967131"}, "\"KB967131\" is this manifest's own id"},
                    {{"kb967131"}, "\"kb967131\" is this manifest's own id"}});
  require_single_issue(with(kb967131(), "/supersedes", {"KB955136", "KB1", "kb955136"}),
                       "supersedes[2]", {"\"kb955136\" is listed twice (first at supersedes[0]"});
  CHECK(parse(with(kb967131(), "/supersedes", {"KB955136", "KB1"})).supersedes ==
        std::vector<std::string>{"KB955136", "KB1"});
}

TEST_CASE("architectures holds x86, x64, ia64 or arm64, each with a non-empty files list") {
  check_bad_values("/architectures", "architectures",
                   {{Json::array(),
                     "expected an object with a files list per architecture, "
                     "found an array"},
                    {Json::object(), "is empty (expected at least one of x86, x64, ia64, arm64)"}});
  require_single_issue(with(kb967131(), "/architectures/neutral", Json::object()),
                       "architectures.neutral", {"unknown architecture", "platform \"neutral\""});
  require_single_issue(with(kb967131(), "/architectures/x64", Json::array()), "architectures.x64",
                       {"expected an object like {\"files\": [...]}, found an array"});
  require_single_issue(without(kb967131(), "/architectures/x64/files"), "architectures.x64.files",
                       {"missing (expected a non-empty array of file entries)"});
  require_single_issue(with(kb967131(), "/architectures/x64/files", Json::object()),
                       "architectures.x64.files", {"expected a non-empty array of file entries"});
  require_single_issue(with(kb967131(), "/architectures/x64/files", Json::array()),
                       "architectures.x64.files", {"is empty (expected at least one file entry)"});
  Json arm = kb967131();
  arm["architectures"] = Json{
      {"arm64",
       {{"files", {file("A.dll", "Windows", "1.0.0.0", 1, "2020-01-01T00:00:00Z", "arm64")}}}}};
  CHECK(parse(arm).architectures.count(Arch::kArm64) == 1);
}

// ---------------------------------------------------------------------------------------
// File entries

TEST_CASE("A file entry must be an object") {
  require_single_issue(with(kb967131(), "/architectures/x86/files/0", "Admwprox.dll"),
                       "architectures.x86.files[0]",
                       {"expected a file entry object, found string \"Admwprox.dll\""});
}

TEST_CASE("name must be one path component of at most 255 bytes") {
  check_bad_values("/architectures/x86/files/0/name", kFile0 + "name",
                   {{"", "\"\" is empty (expected one file name, like \"Admwprox.dll\")"},
                    {".", "\".\" is not a file name"},
                    {"..", "\"..\" is not a file name"},
                    {"inetsrv/Admwprox.dll", "contains \"/\""},
                    {"inetsrv\\Admwprox.dll", "contains a backslash"},
                    {std::string("Admwprox.dll\0.txt", 17), "contains a NUL character"},
                    {std::string(256, 'a'), "is 256 bytes long, more than 255"},
                    {"\xc3\xa9" + std::string(254, 'a'), "is 256 bytes long"},
                    {12, "found number 12"}});
  check_good_values("/architectures/x86/files/0/name",
                    {std::string(210, 'a'), "...", ".hidden", "Admwprox.dll",
                     "Gr\xc3\xb6\xc3\x9f"
                     "e.dll"});
}

// The installer stages each file beside its destination under a longer name
// (".NAME.hotfix-new.hotfix-<transaction>"): a name or path that fits the file system but not
// its staged form would fail only once staged (kMaxInstallableNameBytes,
// kMaxInstallablePathBytes).
TEST_CASE("a file's name and path must fit the installer's staged name") {
  Json doc = with(kb967131(), "/architectures/x86/files/0/name", std::string(211, 'a'));
  require_single_issue(doc, "architectures.x86.files[0]",
                       {"has a name of 211 bytes; at most 210 fit",
                        "the name staged beside it during an apply adds 45"});
  // A path of 4050 bytes fits; one more does not (components of at most 255 bytes).
  std::string destination;
  while (destination.size() < 4050 - 1 - 12 - 256) destination += std::string(255, 'd') + "/";
  destination += std::string(4050 - 1 - 12 - destination.size(), 'e');  // name: Admwprox.dll
  Json fits = with(kb967131(), "/architectures/x86/files/0/destination", destination);
  CHECK(parse(fits).architectures.at(Arch::kX86)[0].path().size() == 4050);
  Json too_long = with(kb967131(), "/architectures/x86/files/0/destination", destination + "e");
  require_single_issue(too_long, "architectures.x86.files[0]",
                       {"is 4051 bytes long; at most 4050 fit"});
}

TEST_CASE("destination must be a safe relative directory") {
  const std::string path = kFile0 + "destination";
  check_bad_values("/architectures/x86/files/0/destination", path,
                   {{"/Windows/System32",
                     "\"/Windows/System32\" is absolute (expected a relative "
                     "directory with forward slashes"},
                    {"/", "is absolute"},
                    {"C:/Windows", "\"C:/Windows\" starts with a drive letter"},
                    {"c:", "starts with a drive letter"},
                    {"C:Windows", "starts with a drive letter"},
                    {"Windows\\System32", "contains a backslash"},
                    {"\\\\server\\share", "contains a backslash"},
                    {"..", "has a \"..\" component"},
                    {"Windows/../../etc", "has a \"..\" component"},
                    {".", "has a \".\" component"},
                    {"Windows/./System32", "has a \".\" component"},
                    {"Windows//System32", "has an empty component"},
                    {"Windows/", "has an empty component"},
                    {std::string("Windows\0/x", 10), "contains a NUL character"},
                    {std::string(4097, 'a'), "is 4097 bytes long, more than 4096"},
                    {nullptr, "found null"}});
  check_good_values("/architectures/x86/files/0/destination",
                    {"", "Windows", "Windows/System32/inetsrv", "..a/b..", "ab:c/d"});
  CHECK(parse(with_file_field("destination", "")).architectures.at(Arch::kX86)[0].path() ==
        "Admwprox.dll");
}

TEST_CASE("version must be four numeric parts or null") {
  const std::string expected =
      "(expected \"A.B.C.D\", each 0-65535, or null for an unversioned file)";
  check_bad_values("/architectures/x86/files/0/version", kFile0 + "version",
                   {{"7.0.6001", "\"7.0.6001\" is not a four-part version " + expected},
                    {"7.0.6001.65536", "is not a four-part version"},
                    {"7.0.6001.22329.1", "is not a four-part version"},
                    {"a.b.c.d", "is not a four-part version"},
                    {"Not Applicable", "is not a four-part version"},
                    {"", "is not a four-part version"},
                    {" 7.0.6001.22329", "is not a four-part version"},
                    {7, "found number 7"}});
  CHECK_FALSE(parse(with_file_field("version", nullptr)).architectures.at(Arch::kX86)[0].version);
  CHECK(parse(with_file_field("version", "65535.0.65535.0"))
            .architectures.at(Arch::kX86)[0]
            .version == hotfix::Version(65535, 0, 65535, 0));
}

TEST_CASE("size must be a non-negative integer that fits uint64") {
  const std::string expected =
      "(expected a size in bytes: an integer from 0 to 18446744073709551615)";
  check_bad_values("/architectures/x86/files/0/size", kFile0 + "size",
                   {{-1, "-1 is negative " + expected},
                    {51712.5, "51712.5 is not an integer"},
                    {-0.5, "is negative"},
                    {"51712", "found string \"51712\""},
                    {nullptr, "found null"}});
  SECTION("written with an exponent") {
    require_single_text_issue(insert_after(kb967131().dump(), "\"size\":51712", "e0"),
                              kFile0 + "size",
                              {"is not an integer: it has a fraction or exponent"});
  }
  SECTION("too big for uint64") {
    std::string text = kb967131().dump();
    text.replace(text.find("\"size\":51712"), 12, "\"size\":18446744073709551616");
    require_single_text_issue(text, kFile0 + "size", {"is too large " + expected});
    text = kb967131().dump();
    text.replace(text.find("\"size\":51712"), 12, "\"size\":1e30");
    require_single_text_issue(text, kFile0 + "size", {"is too large"});
  }
  CHECK(parse(with_file_field("size", 0)).architectures.at(Arch::kX86)[0].size == 0);
  CHECK(parse(with_file_field("size", 18446744073709551615ULL))
            .architectures.at(Arch::kX86)[0]
            .size == 18446744073709551615ULL);
}

TEST_CASE("timestamp must be an ISO 8601 time in UTC") {
  check_bad_values("/architectures/x86/files/0/timestamp", kFile0 + "timestamp",
                   {{"13-Dec-2008 04:27",
                     "\"13-Dec-2008 04:27\" is not a valid UTC timestamp (expected a UTC "
                     "time \"YYYY-MM-DDTHH:MM:SSZ\" from 1970 on"},
                    {"2008-12-13 04:27:00Z", "is not a valid UTC timestamp"},
                    {"2008-02-30T04:27:00Z", "is not a valid UTC timestamp"},
                    {"2008-13-01T04:27:00Z", "is not a valid UTC timestamp"},
                    {"2008-12-13T24:00:00Z", "is not a valid UTC timestamp"},
                    {"1969-12-31T23:59:59Z", "is not a valid UTC timestamp"},
                    {"2008-12-13T04:27:00.000Z", "is not a valid UTC timestamp"},
                    {"2008-12-13T04:27:00+01:00", "\"2008-12-13T04:27:00+01:00\" is not in UTC"},
                    {"2008-12-13T04:27:00-05:00", "is not in UTC"},
                    {"2008-12-13T04:27:00", "is not in UTC"},
                    {1229142420, "found number 1229142420"}});
  CHECK(parse(with_file_field("timestamp", "2008-02-29T23:59:59Z"))
            .architectures.at(Arch::kX86)[0]
            .timestamp.iso8601() == "2008-02-29T23:59:59Z");
}

TEST_CASE("platform must be a canonical architecture token") {
  check_bad_values("/architectures/x86/files/0/platform", kFile0 + "platform",
                   {{"x32",
                     "\"x32\" is not a platform (expected one of x86, x64, ia64, arm64, "
                     "neutral)"},
                    {"IA-64", "write \"ia64\" for \"IA-64\""},
                    {"Not Applicable", "write \"neutral\" for \"Not Applicable\""},
                    {"X86", "write \"x86\""},
                    {86, "found number 86"}});
}

TEST_CASE("A file's platform must fit its architecture") {
  // The contract's table: what each architecture can run besides neutral data files.
  const std::map<std::string, std::set<std::string>> fits = {
      {"x86", {"x86", "neutral"}},
      {"x64", {"x64", "x86", "neutral"}},
      {"ia64", {"ia64", "x86", "neutral"}},
      {"arm64", {"arm64", "x64", "x86", "neutral"}}};
  for (const auto& [arch, allowed] : fits) {
    for (const char* platform : {"x86", "x64", "ia64", "arm64", "neutral"}) {
      INFO(arch << " / " << platform);
      Json doc = kb967131();
      doc["architectures"] =
          Json{{arch,
                {{"files", {file("A.dll", "W", "1.0.0.0", 1, "2020-01-01T00:00:00Z", platform)}}}}};
      if (allowed.count(platform)) {
        require_valid(doc);
      } else {
        require_single_issue(doc, "architectures." + arch + ".files[0].platform",
                             {"\"" + std::string(platform) + "\" does not fit the " + arch +
                              " architecture (expected "});
      }
    }
  }
  require_single_issue(with_file_field("platform", "x64"), kFile0 + "platform",
                       {"does not fit the x86 architecture (expected x86 or neutral)"});
  require_single_issue(with(kb967131(), "/architectures/x64/files/0/platform", "ia64"),
                       "architectures.x64.files[0].platform", {"(expected x64, x86 or neutral)"});
}

TEST_CASE("kind is binary or config, binary by default") {
  check_bad_values("/architectures/x86/files/0/kind", kFile0 + "kind",
                   {{"exe", "\"exe\" is not a file kind (expected \"binary\" or \"config\")"},
                    {"Config", "is not a file kind"},
                    {1, "found number 1"}});
  CHECK(parse(with_file_field("kind", "config")).architectures.at(Arch::kX86)[0].kind ==
        hotfix::FileKind::kConfig);
  CHECK(parse(with_file_field("kind", "binary")).architectures.at(Arch::kX86)[0].kind ==
        hotfix::FileKind::kBinary);
}

TEST_CASE("only_if_present is a boolean, false by default") {
  check_bad_values("/architectures/x86/files/0/only_if_present", kFile0 + "only_if_present",
                   {{"yes", "expected true or false, found string \"yes\""},
                    {1, "found number 1"},
                    {nullptr, "found null"}});
  CHECK(parse(with_file_field("only_if_present", true))
            .architectures.at(Arch::kX86)[0]
            .only_if_present);
}

TEST_CASE("sha256 is 64 hex digits") {
  check_bad_values("/architectures/x86/files/0/sha256", kFile0 + "sha256",
                   {{std::string(63, 'a'),
                     "is not a SHA-256 (expected the file's SHA-256 as 64 "
                     "hex digits)"},
                    {std::string(65, 'a'), "is not a SHA-256"},
                    {std::string(64, 'g'), "is not a SHA-256"},
                    {1, "found number 1"}});
  std::string hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::string upper = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";
  auto lower_digest = parse(with_file_field("sha256", hex)).architectures.at(Arch::kX86)[0].sha256;
  auto upper_digest =
      parse(with_file_field("sha256", upper)).architectures.at(Arch::kX86)[0].sha256;
  REQUIRE(lower_digest);
  CHECK(hotfix::to_hex(*lower_digest) == hex);
  CHECK(upper_digest == lower_digest);
}

TEST_CASE("mode is a 3- or 4-digit octal string") {
  check_bad_values("/architectures/x86/files/0/mode", kFile0 + "mode",
                   {{"0o644",
                     "\"0o644\" is not an octal mode (expected 3 or 4 octal digits, "
                     "like \"0644\")"},
                    {"0648", "is not an octal mode"},
                    {"64", "is not an octal mode"},
                    {"07777", "is not an octal mode"},
                    {"-644", "is not an octal mode"},
                    {"", "is not an octal mode"},
                    {644, "found number 644"}});
  CHECK(parse(with_file_field("mode", "644")).architectures.at(Arch::kX86)[0].mode == 0644u);
  CHECK(parse(with_file_field("mode", "0755")).architectures.at(Arch::kX86)[0].mode == 0755u);
  CHECK(parse(with_file_field("mode", "7777")).architectures.at(Arch::kX86)[0].mode == 07777u);
}

TEST_CASE("A file's language must be one of the manifest's languages") {
  check_bad_values("/architectures/x86/files/0/language", kFile0 + "language",
                   {{"de-DE",
                     "\"de-DE\" is not one of the manifest's languages (expected one of "
                     "[\"en-US\"])"},
                    {"en-us", "is not one of the manifest's languages"},
                    {1, "found number 1"}});
  CHECK(parse(with_file_field("language", "en-US")).architectures.at(Arch::kX86)[0].language ==
        "en-US");
}

TEST_CASE("Several problems in one file entry are all reported") {
  Json doc = with_file_field("size", -1);
  doc = with(doc, "/architectures/x86/files/0/platform", "IA-64");
  doc = with(doc, "/architectures/x86/files/0/mode", "999");
  auto issues = issues_of(doc);
  INFO(show(issues));
  REQUIRE(issues.size() == 3);
  CHECK(issues[0].path == kFile0 + "size");
  CHECK(issues[1].path == kFile0 + "platform");
  CHECK(issues[2].path == kFile0 + "mode");
}

// ---------------------------------------------------------------------------------------
// Destinations unique per architecture

TEST_CASE("Two files in one architecture may not share a destination path") {
  SECTION("the same path, naming the earlier entry") {
    Json doc = kb967131();
    doc["architectures"]["x64"]["files"].push_back(doc["architectures"]["x64"]["files"][1]);
    require_single_issue(doc, "architectures.x64.files[4]",
                         {"destination \"Windows/SysWOW64/inetsrv/Admwprox.dll\" is already used "
                          "by files[1] (\"Windows/SysWOW64/inetsrv/Admwprox.dll\")",
                          "compared ignoring case"});
  }
  SECTION("paths that differ only in case") {
    Json doc = kb967131();
    doc = with(doc, "/architectures/x64/files/3/name", "APPCMD.XML");
    doc = with(doc, "/architectures/x64/files/3/destination", "Windows/System32/inetsrv");
    require_single_issue(doc, "architectures.x64.files[3]",
                         {"destination \"Windows/System32/inetsrv/APPCMD.XML\" is already used by "
                          "files[2] (\"Windows/System32/inetsrv/Appcmd.xml\")"});
  }
  SECTION("names that differ in Unicode case or normalization only") {
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"\xc3\x89.dll", "\xc3\xa9.dll"},                  // É, é
        {"\xc3\xa9.dll", "e\xcc\x81.dll"},                 // é precomposed, e + combining acute
        {"\xc3\x89.dll", "e\xcc\x81.DLL"},                 // both at once
        {"\xce\xa3\xce\xb1.dll", "\xcf\x83\xce\xb1.dll"},  // Σα, σα
        {"\xe2\x84\xa6.dll", "\xcf\x89.dll"},              // OHM SIGN is Ω canonically, then ω
    };
    for (const auto& [first, second] : pairs) {
      INFO(first << " / " << second);
      Json doc = kb967131();
      doc = with(doc, "/architectures/x86/files/0/name", first);
      doc = with(doc, "/architectures/x86/files/1/name", second);
      doc = with(doc, "/architectures/x86/files/1/destination", "Windows/System32/inetsrv");
      require_single_issue(doc, "architectures.x86.files[1]",
                           {"is already used by files[0]", "compared ignoring case"});
    }
  }
  SECTION("a directory spelled two ways, in case or in normalization") {
    Json doc = kb967131();
    doc = with(doc, "/architectures/x86/files/1/destination", "Windows/system32/inetsrv/config");
    require_single_issue(doc, "architectures.x86.files[1]",
                         {"destination \"Windows/system32/inetsrv/config/Applicationhost.config\" "
                          "spells the "
                          "directory \"Windows/system32\" otherwise than files[0] "
                          "(\"Windows/System32\")"});
    doc = kb967131();
    doc = with(doc, "/architectures/x86/files/0/destination", "Caf\xc3\xa9");
    doc = with(doc, "/architectures/x86/files/1/destination", "Cafe\xcc\x81/sub");
    require_single_issue(doc, "architectures.x86.files[1]", {"spells the directory"});
  }
  SECTION("a path that is a file of one entry and a directory of another") {
    Json doc = kb967131();
    doc = with(doc, "/architectures/x86/files/1/destination",
               "Windows/System32/inetsrv/admwprox.DLL");
    require_single_issue(doc, "architectures.x86.files[1]",
                         {"has the directory \"Windows/System32/inetsrv/admwprox.DLL\", which is "
                          "the file of files[0]"});
    doc = kb967131();  // the directory first, then the file
    doc = with(doc, "/architectures/x86/files/0/destination",
               "Windows/System32/inetsrv/config/Applicationhost.config");
    require_single_issue(doc, "architectures.x86.files[1]",
                         {"destination \"Windows/System32/inetsrv/config/Applicationhost.config\" "
                          "is a directory of "
                          "files[0]",
                          "a path cannot be both"});
  }
  SECTION("every later duplicate names the first entry") {
    Json doc = kb967131();
    Json entry = doc["architectures"]["ia64"]["files"][0];
    doc["architectures"]["ia64"]["files"].push_back(entry);
    doc["architectures"]["ia64"]["files"].push_back(entry);
    auto issues = issues_of(doc);
    INFO(show(issues));
    REQUIRE(issues.size() == 2);
    CHECK(issues[0].path == "architectures.ia64.files[1]");
    CHECK(issues[1].path == "architectures.ia64.files[2]");
    CHECK(contains(issues[1].message, "already used by files[0]"));
  }
  SECTION("the root destination joins without a slash") {
    Json doc = kb967131();
    doc = with(doc, "/architectures/x86/files/0/destination", "");
    doc = with(doc, "/architectures/x86/files/1/destination", "");
    doc = with(doc, "/architectures/x86/files/1/name", "admwprox.DLL");
    require_single_issue(doc, "architectures.x86.files[1]",
                         {"\"admwprox.DLL\" is already used by files[0] (\"Admwprox.dll\")"});
  }
  SECTION("one name in two directories, and one path in two architectures, are fine") {
    require_valid(kb967131());  // Appcmd.xml twice in x64; Admwprox.dll in every architecture
  }
}

TEST_CASE("A manifest for the Windows family names only what Windows can hold") {
  const auto kb967131 = [] { return with(::kb967131(), "/family", "windows"); };
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"CON", "reserved device name con"},
      {"nul.dll", "reserved device name nul"},
      {"Com1.txt.bak", "reserved device name com1"},
      {"LPT9", "reserved device name lpt9"},
      {"aux .dll", "reserved device name aux"},
      {"COM\xc2\xb9.dll", "reserved device name com"},
      {"CONOUT$", "reserved device name conout$"},
      {"a.dll.", "ends with a dot"},
      {"a.dll ", "ends with a space"},
      {"a:b.dll", "contains ':'"},
      {"a<b", "contains '<'"},
      {"a>b", "contains '>'"},
      {"a\"b", "contains '\"'"},
      {"a|b", "contains '|'"},
      {"a?b", "contains '?'"},
      {"a*b", "contains '*'"},
      {"a\tb", "contains the control character 0x09"},
      {"a\x1f", "contains the control character 0x1f"},
  };
  for (const auto& [name, says] : bad) {
    INFO(name);
    SECTION("the name " + name) {
      require_single_issue(
          with(kb967131(), "/architectures/x86/files/0/name", name), "architectures.x86.files[0]",
          {"has the component \"" + name + "\", which", says, "the manifest's family is windows"});
    }
  }
  SECTION("a directory on the way") {
    require_single_issue(with(kb967131(), "/architectures/x86/files/0/destination", "Windows/COM1"),
                         "architectures.x86.files[0]",
                         {"has the component \"COM1\"", "reserved device name com1"});
  }
  SECTION("names near the reserved ones are fine") {
    for (const char* name :
         {"CONSOLE.dll", "nul_x.dll", "COM10", "LPT", "a.dll.bak", ".dll", "con-x", "x.con"}) {
      INFO(name);
      require_valid(with(kb967131(), "/architectures/x86/files/0/name", name));
    }
  }
  SECTION("a manifest for the Linux family, or of no family, keeps Linux's rules") {
    for (Json family : {Json("linux"), Json()}) {
      Json doc = with(::kb967131(), "/architectures/x86/files/0/name", "Foo::Bar.3pm");
      doc = family.is_null() ? without(doc, "/family") : with(doc, "/family", family);
      require_valid(with(doc, "/architectures/x64/files/0/name", "CON"));
    }
  }
  SECTION("the family is one of two words") {
    require_single_issue(with(kb967131(), "/family", "Windows"), "family",
                         {"\"Windows\" is not a family", "\"windows\" or \"linux\""});
    require_single_issue(with(kb967131(), "/family", 1), "family", {"expected"});
  }
}

// ---------------------------------------------------------------------------------------
// Source and bundle manifests

TEST_CASE("A source manifest must not carry bundle") {
  require_single_issue(kb967131_x64_bundle(), "bundle", {"not allowed in a source manifest"});
}

TEST_CASE("A bundle's manifest follows the bundle rules") {
  SECTION("a valid one reads into the model") {
    auto m = parse(kb967131_x64_bundle(), kBundle);
    REQUIRE(m.bundle);
    CHECK(m.bundle->arch == Arch::kX64);
    CHECK(m.bundle->language == "en-US");
    CHECK(m.architectures.size() == 1);
    CHECK(m.architectures.at(Arch::kX64)[0].sha256 ==
          hotfix::parse_sha256_hex(std::string(64, 'a')));
    CHECK_FALSE(
        parse(without(kb967131_x64_bundle(), "/bundle/language"), kBundle).bundle->language);
  }
  SECTION("bundle is required") {
    require_single_issue(
        without(kb967131_x64_bundle(), "/bundle"), "bundle",
        {"missing (expected an object like {\"architecture\": \"x64\", \"key_id\": "}, kBundle);
  }
  SECTION("bundle must be an object") {
    require_single_issue(with(kb967131_x64_bundle(), "/bundle", "x64"), "bundle",
                         {"expected an object like {\"architecture\": \"x64\", \"language\": "
                          "\"en-US\", \"key_id\": \"<64 hex>\"}, found string \"x64\""},
                         kBundle);
  }
  SECTION("bundle.architecture is required and is an architecture") {
    require_single_issue(without(kb967131_x64_bundle(), "/bundle/architecture"),
                         "bundle.architecture", {"missing"}, kBundle);
    check_bad_values("/bundle/architecture", "bundle.architecture",
                     {{"neutral",
                       "\"neutral\" is not a bundle architecture (expected one of x86, "
                       "x64, ia64, arm64)"},
                      {"IA-64", "is not a bundle architecture"},
                      {64, "found number 64"}},
                     kb967131_x64_bundle(), kBundle);
  }
  SECTION("bundle.language must be one of the languages") {
    check_bad_values("/bundle/language", "bundle.language",
                     {{"de-DE",
                       "\"de-DE\" is not one of the manifest's languages (expected one "
                       "of [\"en-US\"])"},
                      {1, "found number 1"}},
                     kb967131_x64_bundle(), kBundle);
  }
  SECTION("bundle.key_id is required and is 64 lower-case hex digits") {
    require_single_issue(without(kb967131_x64_bundle(), "/bundle/key_id"), "bundle.key_id",
                         {"missing (expected the signing key's fingerprint"}, kBundle);
    check_bad_values("/bundle/key_id", "bundle.key_id",
                     {{std::string(64, 'A'),
                       "is not a key fingerprint (expected the signing key's "
                       "fingerprint: 64 lower-case hex digits)"},
                      {std::string(63, 'a'), "is not a key fingerprint"},
                      {std::string(64, 'g'), "is not a key fingerprint"},
                      {"", "is not a key fingerprint"},
                      {64, "found number 64"}},
                     kb967131_x64_bundle(), kBundle);
    CHECK(parse(kb967131_x64_bundle(), kBundle).bundle->key_id == std::string(64, 'a'));
  }
  SECTION("architectures holds only the bundle's architecture") {
    Json doc = kb967131_x64_bundle();
    Json x86 = kb967131()["architectures"]["x86"];
    for (Json& entry : x86["files"]) entry["sha256"] = std::string(64, 'b');
    doc["architectures"]["x86"] = x86;
    require_single_issue(doc, "architectures.x86",
                         {"a bundle for x64 holds only that architecture (found x86)"}, kBundle);
  }
  SECTION("architectures must hold the bundle's architecture") {
    auto issues = issues_of(with(kb967131_x64_bundle(), "/bundle/architecture", "ia64"), kBundle);
    INFO(show(issues));
    REQUIRE(issues.size() == 2);
    CHECK(issues[0].path == "architectures.x64");
    CHECK(
        contains(issues[0].message, "a bundle for ia64 holds only that architecture (found x64)"));
    CHECK(issues[1].path == "architectures");
    CHECK(contains(issues[1].message,
                   "has no \"ia64\" entry (expected exactly the bundle's architecture ia64)"));
  }
  SECTION("every file carries a sha256") {
    require_single_issue(without(kb967131_x64_bundle(), "/architectures/x64/files/2/sha256"),
                         "architectures.x64.files[2].sha256",
                         {"missing", "a bundle's manifest needs one for every file"}, kBundle);
  }
}

// ---------------------------------------------------------------------------------------
// Prerequisites

TEST_CASE("Each prerequisite kind reads into the model") {
  using Type = hotfix::Prerequisite::Type;
  auto read = [](Json node) {
    return parse(with(kb967131(), "/prerequisites", node)).prerequisites;
  };
  auto all = read({{"all_of", {{{"product", "Windows Vista"}}, {{"service_pack_at_least", 1}}}}});
  CHECK(all.type == Type::kAllOf);
  REQUIRE(all.children.size() == 2);
  CHECK(all.children[0].type == Type::kProduct);
  CHECK(all.children[0].value == "Windows Vista");
  CHECK(all.children[1].type == Type::kServicePackAtLeast);
  CHECK(all.children[1].service_pack == 1);
  auto any = read({{"any_of", {{{"hotfix_installed", "KB955136"}}}}, {"label", "the earlier fix"}});
  CHECK(any.type == Type::kAnyOf);
  CHECK(any.label == "the earlier fix");
  CHECK(any.children.at(0).type == Type::kHotfixInstalled);
  CHECK(any.children.at(0).value == "KB955136");
  auto version = read({{"version_at_least", "6.0.6001"}});
  CHECK(version.type == Type::kVersionAtLeast);
  CHECK(version.version == hotfix::Version(6, 0, 6001, 0));
  auto arch = read({{"architecture", "ia64"}});
  CHECK(arch.type == Type::kArchitecture);
  CHECK(arch.arch == Arch::kIa64);
  auto file_version =
      read({{"file_version_at_least",
             {{"path", "Windows/System32/inetsrv/appcmd.exe"}, {"version", "7.0.6001.18000"}}}});
  CHECK(file_version.type == Type::kFileVersionAtLeast);
  CHECK(file_version.value == "Windows/System32/inetsrv/appcmd.exe");
  CHECK(file_version.version == hotfix::Version(7, 0, 6001, 18000));
  auto os = read({{"os_id", "debian"}});
  CHECK(os.type == Type::kOsId);
  CHECK(os.value == "debian");
  auto os_version = read({{"os_version_at_least", "22.04"}});
  CHECK(os_version.type == Type::kOsVersionAtLeast);
  CHECK(os_version.value == "22.04");
  CHECK(os_version.version == hotfix::Version(22, 4, 0, 0));
  CHECK(os_version.describe() == "os version 22.04 or later");
  auto empty = read({{"all_of", Json::array()}});
  CHECK(empty.is_always());
  auto sp0 = read({{"service_pack_at_least", 0}});
  CHECK(sp0.service_pack == 0);
  CHECK(read({{"service_pack_at_least", 255}}).service_pack == 255);
}

TEST_CASE("Each prerequisite error is reported at its node") {
  struct Case {
    Json node;
    std::string path;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"Windows Vista", "prerequisites",
       "expected a prerequisite object, like {\"product\": "
       "\"Windows Vista\"}, found string"},
      {Json::object(), "prerequisites",
       "has no condition (expected exactly one of: all_of, "
       "any_of, product"},
      {{{"label", "Vista"}}, "prerequisites", "has no condition"},
      {{{"product", "Windows Vista"}, {"architecture", "x64"}},
       "prerequisites",
       "has 2 conditions (\"product\" and \"architecture\"); expected exactly one per node"},
      {{{"product", "Windows Vista"}, {"label", ""}},
       "prerequisites.label",
       "is empty (expected a non-empty label)"},
      {{{"product", "Windows Vista"}, {"label", 1}}, "prerequisites.label", "found number 1"},
      {{{"all_of", Json::object()}},
       "prerequisites.all_of",
       "expected an array of prerequisite objects, found an object"},
      {{{"any_of", Json::array()}},
       "prerequisites.any_of",
       "is empty (expected at least one alternative)"},
      {{{"any_of", {1}}}, "prerequisites.any_of[0]", "expected a prerequisite object"},
      {{{"product", ""}}, "prerequisites.product", "is empty (expected a non-empty product name)"},
      {{{"product", 1}}, "prerequisites.product", "expected a non-empty string, found number 1"},
      {{{"version_at_least", "6.0.x"}},
       "prerequisites.version_at_least",
       "\"6.0.x\" is not a version (expected a version of 1 to 4 numeric parts"},
      {{{"version_at_least", "6.0.6001.1.2"}},
       "prerequisites.version_at_least",
       "is not a version"},
      {{{"version_at_least", ""}}, "prerequisites.version_at_least", "is not a version"},
      {{{"version_at_least", 6}}, "prerequisites.version_at_least", "found number 6"},
      {{{"service_pack_at_least", -1}},
       "prerequisites.service_pack_at_least",
       "-1 is negative (expected a service pack number from 0 to 255)"},
      {{{"service_pack_at_least", 256}}, "prerequisites.service_pack_at_least", "256 is too large"},
      {{{"service_pack_at_least", 1.5}},
       "prerequisites.service_pack_at_least",
       "1.5 is not an integer"},
      {{{"service_pack_at_least", "1"}}, "prerequisites.service_pack_at_least", "found string"},
      {{{"architecture", "neutral"}},
       "prerequisites.architecture",
       "\"neutral\" is not an architecture (expected one of x86, x64, ia64, arm64)"},
      {{{"architecture", "IA-64"}}, "prerequisites.architecture", "is not an architecture"},
      {{{"architecture", 64}}, "prerequisites.architecture", "found number 64"},
      {{{"hotfix_installed", "KB 955136"}}, "prerequisites.hotfix_installed", "is not a valid id"},
      {{{"hotfix_installed", 955136}}, "prerequisites.hotfix_installed", "found number"},
      {{{"file_version_at_least", "appcmd.exe"}},
       "prerequisites.file_version_at_least",
       "expected an object like {\"path\": "},
      {{{"file_version_at_least", {{"path", "appcmd.exe"}}}},
       "prerequisites.file_version_at_least.version",
       "missing"},
      {{{"file_version_at_least", {{"version", "7.0"}}}},
       "prerequisites.file_version_at_least.path",
       "missing"},
      {{{"file_version_at_least", {{"path", "../appcmd.exe"}, {"version", "7.0"}}}},
       "prerequisites.file_version_at_least.path",
       "has a \"..\" component"},
      {{{"file_version_at_least", {{"path", "/Windows/appcmd.exe"}, {"version", "7.0"}}}},
       "prerequisites.file_version_at_least.path",
       "is absolute"},
      {{{"file_version_at_least", {{"path", "C:/appcmd.exe"}, {"version", "7.0"}}}},
       "prerequisites.file_version_at_least.path",
       "starts with a drive letter"},
      {{{"file_version_at_least", {{"path", "inetsrv\\appcmd.exe"}, {"version", "7.0"}}}},
       "prerequisites.file_version_at_least.path",
       "contains a backslash"},
      {{{"file_version_at_least", {{"path", ""}, {"version", "7.0"}}}},
       "prerequisites.file_version_at_least.path",
       "\"\" is empty (expected a relative file path"},
      {{{"file_version_at_least", {{"path", "appcmd.exe"}, {"version", "seven"}}}},
       "prerequisites.file_version_at_least.version",
       "\"seven\" is not a version"},
      {{{"os_id", "Debian"}},
       "prerequisites.os_id",
       "\"Debian\" is not an os-release ID (expected an os-release ID: 1 to 64 of a-z"},
      {{{"os_id", ""}}, "prerequisites.os_id", "is not an os-release ID"},
      {{{"os_id", 12}}, "prerequisites.os_id", "found number 12"},
      {{{"os_version_at_least", "rolling"}},
       "prerequisites.os_version_at_least",
       "\"rolling\" is not a version"},
  };
  for (const Case& c : cases) {
    INFO(c.node.dump());
    require_single_issue(with(kb967131(), "/prerequisites", c.node), c.path, {c.fragment});
  }
}

TEST_CASE("Prerequisite issues deep in the tree carry the whole path") {
  require_single_issue(
      with(kb967131(), "/prerequisites/any_of/0/all_of/1/service_pack_at_least", "1"),
      "prerequisites.any_of[0].all_of[1].service_pack_at_least",
      {"expected a service pack number from 0 to 255, found string \"1\""});
}

TEST_CASE("Prerequisites nest at most 32 levels") {
  SECTION("in a manifest, 32 levels fit within the JSON nesting limit") {
    auto m = parse(with(kb967131(), "/prerequisites", nested_prerequisite(32)));
    int depth = 1;
    for (const auto* p = &m.prerequisites; !p->children.empty(); p = &p->children[0]) ++depth;
    CHECK(depth == 32);
  }
  SECTION("in a manifest, 33 levels exceed the JSON nesting limit first") {
    auto issues = issues_of(with(kb967131(), "/prerequisites", nested_prerequisite(33)));
    REQUIRE(issues.size() == 1);
    CHECK(contains(issues[0].message, "nesting deeper than 64 levels"));
  }
  SECTION("as a tree, 32 levels are read and 33 are refused at the 33rd node") {
    CHECK_NOTHROW(hotfix::parse_prerequisite(nested_prerequisite(32), "expr"));
    std::string path = "prerequisites";
    for (int i = 1; i < 33; ++i) path += ".all_of[0]";
    try {
      hotfix::parse_prerequisite(nested_prerequisite(33), "expr");
      FAIL("accepted 33 levels");
    } catch (const ManifestError& e) {
      REQUIRE(e.issues().size() == 1);
      CHECK(e.issues()[0].path == path);
      CHECK(contains(e.issues()[0].message, "nested 33 levels deep (expected at most 32)"));
    }
  }
}

TEST_CASE("parse_prerequisite reads an expression on its own") {
  Json node = {{"any_of", {{{"product", "Windows Vista"}}, {{"product", "Windows Server 2008"}}}}};
  auto p = hotfix::parse_prerequisite(node, "--require");
  CHECK(p.describe() == "Windows Vista or Windows Server 2008");
  CHECK(hotfix::write_prerequisite(p) == node);
  try {
    hotfix::parse_prerequisite(Json{{"any_of", Json::array()}}, "--require", "");
    FAIL("accepted an empty any_of");
  } catch (const ManifestError& e) {
    REQUIRE(e.issues().size() == 1);
    CHECK(e.issues()[0].path == "any_of");
    CHECK(e.source() == "--require");
  }
}

// ---------------------------------------------------------------------------------------
// Writing

namespace {

hotfix::Manifest every_field_manifest(bool bundle) {
  using hotfix::Prerequisite;
  using Type = Prerequisite::Type;
  hotfix::Manifest m;
  m.id = "KB967131";
  m.title = "IIS 7.0 hotfix";
  m.description = "Replaces the configuration system \"atomically\".\nSecond line: \xc3\xa9";
  m.revision = 3;
  m.languages = {"en-US", "de-DE"};
  m.restart = hotfix::RestartRequirement::kServices;
  m.supersedes = {"KB955136", "KB1"};
  m.family = "windows";
  auto leaf = [](Type type) {
    Prerequisite p;
    p.type = type;
    return p;
  };
  Prerequisite product = leaf(Type::kProduct);
  product.value = "Windows Vista";
  Prerequisite version = leaf(Type::kVersionAtLeast);
  version.version = hotfix::Version(6, 0, 6001, 0);
  Prerequisite sp = leaf(Type::kServicePackAtLeast);
  sp.service_pack = 1;
  sp.label = "SP1";
  Prerequisite arch = leaf(Type::kArchitecture);
  arch.arch = Arch::kArm64;
  Prerequisite installed = leaf(Type::kHotfixInstalled);
  installed.value = "KB955136";
  Prerequisite file_version = leaf(Type::kFileVersionAtLeast);
  file_version.value = "Windows/System32/inetsrv/appcmd.exe";
  file_version.version = hotfix::Version(7, 0, 6001, 18000);
  Prerequisite labelled_empty = leaf(Type::kAllOf);
  labelled_empty.label = "nothing needed";
  Prerequisite os_id = leaf(Type::kOsId);
  os_id.value = "debian";
  Prerequisite os_version = leaf(Type::kOsVersionAtLeast);
  os_version.value = "22.04";
  os_version.version = hotfix::Version(22, 4, 0, 0);
  Prerequisite any = leaf(Type::kAnyOf);
  any.children = {product, version, arch};
  m.prerequisites = leaf(Type::kAllOf);
  m.prerequisites.children = {any, sp, installed, file_version, labelled_empty, os_id, os_version};
  m.prerequisites.label = "everything";

  hotfix::FileEntry native;
  native.name = "Admwprox.dll";
  native.destination = "Windows/System32/inetsrv";
  native.version = hotfix::Version(7, 0, 6001, 22329);
  native.size = 18446744073709551615ULL;
  native.timestamp = *hotfix::Timestamp::parse_iso8601("2008-12-13T04:27:00Z");
  native.platform = Arch::kArm64;
  native.sha256 = hotfix::Sha256::of("Admwprox");
  native.mode = 0755;
  native.only_if_present = true;
  hotfix::FileEntry config;
  config.name = "Applicationhost.config";
  config.destination = "";
  config.size = 0;
  config.timestamp = hotfix::Timestamp(0);
  config.platform = Arch::kNeutral;
  config.kind = hotfix::FileKind::kConfig;
  config.sha256 = hotfix::Sha256::of("config");
  config.language = "de-DE";
  config.mode = 0;
  m.architectures[Arch::kArm64] = {native, config};
  if (bundle) {
    m.bundle = hotfix::BundleScope{Arch::kArm64, std::string("de-DE"), std::string(64, 'b')};
  } else {
    hotfix::FileEntry wow = native;
    wow.platform = Arch::kX86;
    wow.sha256.reset();
    wow.mode.reset();
    wow.version.reset();
    m.architectures[Arch::kX64] = {wow};
  }
  return m;
}

}  // namespace

TEST_CASE("Writing and reading back gives the same manifest and the same bytes") {
  SECTION("the KB967131 excerpt") {
    auto m = parse(kb967131());
    std::string text = hotfix::write_manifest(m);
    auto again = hotfix::parse_manifest(text, "written.json");
    CHECK(again == m);
    CHECK(hotfix::write_manifest(again) == text);
  }
  SECTION("a source manifest using every field") {
    auto m = every_field_manifest(false);
    std::string text = hotfix::write_manifest(m);
    INFO(text);
    CHECK(hotfix::parse_manifest(text, "written.json") == m);
  }
  SECTION("a bundle's manifest using every field") {
    auto m = every_field_manifest(true);
    std::string text = hotfix::write_manifest(m);
    INFO(text);
    CHECK(hotfix::parse_manifest(text, "written.json", kBundle) == m);
  }
  SECTION("a labelled empty all_of is kept, the unlabelled one is omitted") {
    auto m = parse(kb967131());
    m.prerequisites = hotfix::Prerequisite::always();
    CHECK_FALSE(contains(hotfix::write_manifest(m), "prerequisites"));
    m.prerequisites.label = "no prerequisites";
    std::string text = hotfix::write_manifest(m);
    CHECK(contains(text, "\"prerequisites\""));
    CHECK(hotfix::parse_manifest(text, "written.json") == m);
  }
}

TEST_CASE("Canonical output has fixed key order, two-space indent and a trailing newline") {
  hotfix::Manifest m;
  m.id = "KB1";
  m.title = "T";
  m.revision = 2;
  m.languages = {"en-US"};
  hotfix::FileEntry config;
  config.name = "a.config";
  config.size = 5;
  config.timestamp = hotfix::Timestamp(0);
  config.kind = hotfix::FileKind::kConfig;
  config.mode = 0644;
  hotfix::FileEntry binary = config;
  binary.name = "a.dll";
  binary.destination = "Windows";
  binary.version = hotfix::Version(1, 2, 3, 4);
  binary.platform = Arch::kX64;
  binary.kind = hotfix::FileKind::kBinary;
  binary.mode.reset();
  binary.language = "en-US";
  m.architectures[Arch::kArm64] = {binary};
  m.architectures[Arch::kX86] = {config};
  const std::string expected = R"({
  "schema": 1,
  "id": "KB1",
  "title": "T",
  "description": "",
  "revision": 2,
  "languages": [
    "en-US"
  ],
  "restart": "none",
  "supersedes": [],
  "architectures": {
    "x86": {
      "files": [
        {
          "name": "a.config",
          "destination": "",
          "version": null,
          "size": 5,
          "timestamp": "1970-01-01T00:00:00Z",
          "platform": "neutral",
          "kind": "config",
          "only_if_present": false,
          "mode": "0644"
        }
      ]
    },
    "arm64": {
      "files": [
        {
          "name": "a.dll",
          "destination": "Windows",
          "version": "1.2.3.4",
          "size": 5,
          "timestamp": "1970-01-01T00:00:00Z",
          "platform": "x64",
          "kind": "binary",
          "only_if_present": false,
          "language": "en-US"
        }
      ]
    }
  }
}
)";
  CHECK(hotfix::write_manifest(m) == expected);
}

TEST_CASE("Written keys follow the declared canonical order") {
  auto written = Json::parse(hotfix::write_manifest(every_field_manifest(true)));
  std::vector<std::string> top, expected_top;
  for (const auto& [key, value] : written.items()) top.push_back(key);
  for (auto field : hotfix::kManifestFields) expected_top.emplace_back(field);
  CHECK(top == expected_top);  // every field is present in this manifest
  std::vector<std::string> keys, expected_keys;
  for (const auto& [key, value] : written["architectures"]["arm64"]["files"][0].items()) {
    keys.push_back(key);
  }
  for (auto field : hotfix::kFileFields) {
    if (field != "language") expected_keys.emplace_back(field);  // only the config has one
  }
  CHECK(keys == expected_keys);
}

TEST_CASE("Differently written input gives byte-identical canonical output") {
  Json shuffled;
  Json original = with_file_field("mode", "755");
  original = with(original, "/architectures/x86/files/0/sha256", std::string(64, 'F'));
  // Same content, keys reversed at every level and compact.
  std::function<Json(const Json&)> reverse = [&](const Json& j) -> Json {
    if (j.is_object()) {
      Json out = Json::object();
      std::vector<std::pair<std::string, Json>> items;
      for (const auto& [k, v] : j.items()) items.emplace_back(k, reverse(v));
      for (auto it = items.rbegin(); it != items.rend(); ++it) out[it->first] = it->second;
      return out;
    }
    if (j.is_array()) {
      Json out = Json::array();
      for (const auto& v : j) out.push_back(reverse(v));
      return out;
    }
    return j;
  };
  std::string a = hotfix::write_manifest(hotfix::parse_manifest(original.dump(4), "a"));
  std::string b = hotfix::write_manifest(hotfix::parse_manifest(reverse(original).dump(), "b"));
  CHECK(a == b);
  CHECK(contains(a, "\"mode\": \"0755\""));
  CHECK(contains(a, "\"sha256\": \"" + std::string(64, 'f') + "\""));
  CHECK(a.rfind("{\n  \"schema\": 1,\n  \"id\": \"KB967131\",", 0) == 0);
}

// ---------------------------------------------------------------------------------------
// Reading files

TEST_CASE("read_manifest_file reads a manifest and names the file in errors") {
  hotfix::test::TempDir dir;
  SECTION("a valid file") {
    hotfix::test::write_file(dir / "KB967131.json", kb967131().dump(2));
    CHECK(hotfix::read_manifest_file((dir / "KB967131.json").string()) == parse(kb967131()));
  }
  SECTION("an invalid file") {
    std::string path = (dir / "bad.json").string();
    hotfix::test::write_file(path, with(kb967131(), "/id", "").dump(2));
    try {
      hotfix::read_manifest_file(path);
      FAIL("accepted an invalid manifest");
    } catch (const ManifestError& e) {
      CHECK(e.source() == path);
      CHECK(std::string(e.what()).rfind(path + ": id: ", 0) == 0);
    }
  }
  SECTION("a missing file is bad input naming the path and why") {
    std::string path = (dir / "missing.json").string();
    try {
      hotfix::read_manifest_file(path);
      FAIL("read a missing file");
    } catch (const ManifestError&) {
      FAIL("a missing file is not a manifest error");
    } catch (const hotfix::Error& e) {
      CHECK(e.kind() == hotfix::ErrorKind::kBadInput);
      CHECK(e.where() == path);
      CHECK(e.message() == "does not exist (a manifest)");
    }
  }
  SECTION("a directory is bad input") {
    try {
      hotfix::read_manifest_file(dir.path().string());
      FAIL("read a directory");
    } catch (const hotfix::Error& e) {
      CHECK(e.kind() == hotfix::ErrorKind::kBadInput);
      CHECK(e.where() == dir.path().string());
      CHECK(contains(e.message(), "is a directory"));
    }
  }
  SECTION("an oversized file is refused by size") {
    std::string path = (dir / "huge.json").string();
    std::string text = kb967131().dump();
    text.resize(hotfix::kMaxManifestBytes + 4096, ' ');
    hotfix::test::write_file(path, text);
    try {
      hotfix::read_manifest_file(path);
      FAIL("accepted an oversized file");
    } catch (const ManifestError& e) {
      REQUIRE(e.issues().size() == 1);
      CHECK(contains(e.issues()[0].message, "expected at most 16777216 bytes"));
    }
  }
}

// ---------------------------------------------------------------------------------------
// The JSON Schema and the reader agree

namespace {

Json load_schema() {
  std::string text =
      hotfix::test::read_file(std::string(HOTFIX_SOURCE_DIR) + "/docs/manifest.schema.json");
  return Json::parse(text);  // throws, failing the test, if the file is not JSON
}

template <class Fields>
std::set<std::string> as_set(const Fields& fields) {
  return std::set<std::string>(fields.begin(), fields.end());
}

std::set<std::string> keys_of(const Json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

std::set<std::string> strings_of(const Json& array) {
  std::set<std::string> values;
  for (const auto& value : array) values.insert(value.get<std::string>());
  return values;
}

}  // namespace

TEST_CASE("The JSON Schema is valid JSON and lists the fields the reader accepts") {
  Json schema = load_schema();
  const Json& defs = schema.at("$defs");
  CHECK(schema.at("$schema") == "https://json-schema.org/draft/2020-12/schema");
  CHECK(keys_of(schema.at("properties")) == as_set(hotfix::kManifestFields));
  CHECK(schema.at("additionalProperties") == false);
  CHECK(keys_of(defs.at("file").at("properties")) == as_set(hotfix::kFileFields));
  CHECK(defs.at("file").at("additionalProperties") == false);
  CHECK(keys_of(defs.at("bundle").at("properties")) == as_set(hotfix::kBundleFields));
  CHECK(keys_of(defs.at("files_for").at("properties")) == as_set(hotfix::kArchitectureFields));
  auto conditions = as_set(hotfix::kPrerequisiteConditions);
  auto node_fields = conditions;
  node_fields.insert("label");
  const Json& prerequisite = defs.at("prerequisite");
  CHECK(keys_of(prerequisite.at("properties")) == node_fields);
  std::set<std::string> exactly_one;
  for (const Json& branch : prerequisite.at("oneOf")) exactly_one.insert(branch.at("required")[0]);
  CHECK(exactly_one == conditions);
  CHECK(keys_of(prerequisite.at("properties").at("file_version_at_least").at("properties")) ==
        as_set(hotfix::kFileVersionConditionFields));
  CHECK(keys_of(schema.at("properties").at("architectures").at("properties")) ==
        std::set<std::string>{"x86", "x64", "ia64", "arm64"});
  CHECK(strings_of(schema.at("properties").at("restart").at("enum")) ==
        std::set<std::string>{"none", "services", "reboot"});
  CHECK(strings_of(defs.at("file").at("properties").at("platform").at("enum")) ==
        std::set<std::string>{"x86", "x64", "ia64", "arm64", "neutral"});
  CHECK(strings_of(defs.at("file").at("properties").at("kind").at("enum")) ==
        std::set<std::string>{"binary", "config"});
}

TEST_CASE("The JSON Schema's required fields are the ones the reader requires") {
  Json schema = load_schema();
  auto schema_required = strings_of(schema.at("required"));
  Json full = with(kb967131(), "/description", "d");
  full["supersedes"] = {"KB1"};
  full["family"] = "windows";
  for (auto field : hotfix::kManifestFields) {
    if (field == "bundle") continue;  // required or forbidden by the reader's mode, not the schema
    std::string name(field);
    INFO(name);
    REQUIRE(full.contains(name));
    auto issues = issues_of(without(full, "/" + name));
    bool reported_missing =
        issues.size() == 1 && issues[0].path == name && contains(issues[0].message, "missing");
    CHECK(reported_missing == (schema_required.count(name) == 1));
  }
  auto file_required = strings_of(schema.at("$defs").at("file").at("required"));
  Json full_file = with_file_field("kind", "binary");
  for (auto [field, value] :
       std::vector<std::pair<std::string, Json>>{{"only_if_present", false},
                                                 {"sha256", std::string(64, 'a')},
                                                 {"mode", "0644"},
                                                 {"language", "en-US"}}) {
    full_file = with(full_file, "/architectures/x86/files/0/" + field, value);
  }
  for (auto field : hotfix::kFileFields) {
    std::string name(field);
    INFO(name);
    auto issues = issues_of(without(full_file, "/architectures/x86/files/0/" + name));
    bool reported_missing = issues.size() == 1 && issues[0].path == kFile0 + name &&
                            contains(issues[0].message, "missing");
    CHECK(reported_missing == (file_required.count(name) == 1));
  }
}

TEST_CASE("The example in docs/manifest-format.md is a canonical, valid manifest") {
  std::string doc =
      hotfix::test::read_file(std::string(HOTFIX_SOURCE_DIR) + "/docs/manifest-format.md");
  const std::string open = "```json\n";
  std::size_t start = doc.find(open);
  REQUIRE(start != std::string::npos);
  start += open.size();
  std::size_t end = doc.find("```", start);
  REQUIRE(end != std::string::npos);
  std::string example = doc.substr(start, end - start);
  auto m = hotfix::parse_manifest(example, "docs/manifest-format.md");
  CHECK(hotfix::write_manifest(m) == example);
  CHECK(m.architectures.at(Arch::kX86)[1].name == "Applicationhost.config");
  CHECK(m.prerequisites.describe() == "Windows Vista SP1 or Windows Server 2008");
}
