#include "manifests/manifest_json.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

#include "manifests/case_fold.h"
#include "manifests/destination.h"
#include "manifests/file_descriptor.h"
#include "manifests/input_file.h"
#include "manifests/json_context.h"
#include "manifests/json_prescan.h"
#include "manifests/read_to_end.h"
#include "manifests/windows_names.h"

namespace hotfix {

namespace {

// What each kind of value should look like, as messages say it.
constexpr std::string_view kExpectId =
    "an id: 1 to 64 letters, digits, \".\", \"_\" or \"-\", starting with a letter or digit, "
    "like \"KB967131\"";
constexpr std::string_view kExpectOsId =
    "an os-release ID: 1 to 64 of a-z, 0-9, \".\", \"_\" or \"-\", like \"debian\"";
constexpr std::string_view kExpectLanguage =
    "a tag like \"en-US\", \"de-DE\", \"zh-Hans-CN\", or \"neutral\"";
constexpr std::string_view kExpectArchitecture = "one of x86, x64, ia64, arm64";
constexpr std::string_view kExpectPlatform = "one of x86, x64, ia64, arm64, neutral";
constexpr std::string_view kExpectFileVersion =
    "\"A.B.C.D\", each 0-65535, or null for an unversioned file";
constexpr std::string_view kExpectMinimumVersion =
    "a version of 1 to 4 numeric parts, each 0-65535, like \"6.0.6001\"";
constexpr std::string_view kExpectName = "one file name, like \"Admwprox.dll\"";
constexpr std::string_view kExpectDestination =
    "a relative directory with forward slashes, like \"Windows/System32/inetsrv\", or \"\" "
    "for the root";
constexpr std::string_view kExpectRelativeFile =
    "a relative file path with forward slashes, like \"Windows/System32/inetsrv/appcmd.exe\"";
constexpr std::string_view kExpectTimestamp =
    "a UTC time \"YYYY-MM-DDTHH:MM:SSZ\" from 1970 on, like \"2008-12-13T04:27:00Z\"";
constexpr std::string_view kExpectSha256 = "the file's SHA-256 as 64 hex digits";
constexpr std::string_view kExpectKeyId = "the signing key's fingerprint: 64 lower-case hex digits";
constexpr std::string_view kExpectMode = "3 or 4 octal digits, like \"0644\"";

std::string expected(std::string_view what) { return " (expected " + std::string(what) + ")"; }

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_of_chars(std::string_view text, bool (*predicate)(char)) {
  for (char c : text) {
    if (!predicate(c)) return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// "neutral", or language[-Script][-REGION] in canonical case: en, en-US, zh-Hans-CN, es-419.
bool is_language_tag(std::string_view tag) {
  if (tag == "neutral") return true;
  std::vector<std::string_view> parts = split(tag, '-');
  if (parts.size() > 3) return false;
  if (parts[0].size() < 2 || parts[0].size() > 3 || !all_of_chars(parts[0], is_lower)) {
    return false;
  }
  std::size_t i = 1;
  if (i < parts.size() && parts[i].size() == 4 && is_upper(parts[i][0]) &&
      all_of_chars(parts[i].substr(1), is_lower)) {
    ++i;
  }
  if (i < parts.size() && ((parts[i].size() == 2 && all_of_chars(parts[i], is_upper)) ||
                           (parts[i].size() == 3 && all_of_chars(parts[i], is_digit)))) {
    ++i;
  }
  return i == parts.size();
}

// Only the canonical tokens; parse_arch's article spellings ("IA-64") are not format v1.
std::optional<Arch> parse_arch_token(std::string_view text) {
  for (Arch arch : {Arch::kX86, Arch::kX64, Arch::kIa64, Arch::kArm64, Arch::kNeutral}) {
    if (arch_token(arch) == text) return arch;
  }
  return std::nullopt;
}

// 64-bit Windows runs 32-bit (WOW64) files; ARM64 Windows also runs x64 ones.
bool platform_fits(Arch architecture, Arch platform) {
  if (platform == Arch::kNeutral || platform == architecture) return true;
  switch (architecture) {
    case Arch::kX64:
    case Arch::kIa64:
      return platform == Arch::kX86;
    case Arch::kArm64:
      return platform == Arch::kX64 || platform == Arch::kX86;
    default:
      return false;
  }
}

std::string fitting_platforms(Arch architecture) {
  std::string out(arch_token(architecture));
  for (Arch platform : {Arch::kX64, Arch::kX86}) {
    if (platform != architecture && platform_fits(architecture, platform)) {
      out += ", " + std::string(arch_token(platform));
    }
  }
  return out + " or neutral";
}

// "2008-12-13T04:27:00" followed by something other than "Z": a local or offset time.
bool looks_zoned_but_not_utc(std::string_view text) {
  if (text.size() < 19 || text[10] != 'T') return false;
  std::string_view rest = text.substr(19);
  return rest.empty() || rest[0] == '+' || rest[0] == '-';
}

// Reads one manifest tree. Each section is a small function; all report into one context.
class ManifestReader {
 public:
  ManifestReader(JsonContext& context, ManifestReadOptions options)
      : context_(context), options_(options) {}

  Manifest read(const Json& root);
  Prerequisite read_prerequisite(const Json& node, int level);

 private:
  void read_schema(const Json& value);
  void read_id(const Json& value, std::string& out);
  void read_os_id(const Json& value, std::string& out);
  void read_languages(const Json& value);
  void read_restart(const Json& value);
  void read_supersedes(const Json& value);
  void read_family(const Json& value);
  void read_bundle(const Json& value);
  std::optional<std::string> read_key_id(const Json& value);
  void read_architectures(const Json& value);
  std::vector<FileEntry> read_files(const Json& value, Arch architecture);
  std::optional<FileEntry> read_file(const Json& value, Arch architecture);
  std::optional<std::string> read_file_name(const Json& value);
  std::optional<std::string> read_destination(const Json& value);
  void read_file_version(const Json& value, FileEntry& file);
  void read_timestamp(const Json& value, FileEntry& file);
  void read_platform(const Json& value, Arch architecture, FileEntry& file);
  void read_kind(const Json& value, FileEntry& file);
  void read_sha256(const Json& value, FileEntry& file);
  void read_mode(const Json& value, FileEntry& file);
  std::optional<std::string> read_declared_language(const Json& value);
  void check_unique_destinations(const std::vector<std::pair<std::size_t, FileEntry>>& files);
  void check_bundle_scope();
  std::optional<Arch> read_architecture(const Json& value, std::string_view what);
  Prerequisite read_condition(std::string_view key, const Json& value, int level);
  void read_file_version_condition(const Json& value, Prerequisite& out);
  void read_children(const Json& value, int level, bool allow_empty, Prerequisite& out);
  std::optional<Version> read_minimum_version(const Json& value);
  std::optional<std::string> read_non_empty(const Json& value, std::string_view what);

  JsonContext& context_;
  ManifestReadOptions options_;
  Manifest manifest_;
  bool languages_ok_ = false;  // only then are file and bundle languages checked against them
  std::vector<Arch> architecture_keys_;  // valid keys of "architectures", in document order
};

Manifest ManifestReader::read(const Json& root) {
  JsonObject object(context_, root, kManifestFields, "a manifest object");
  Manifest& m = manifest_;
  object.required("schema", "the integer 1", [&](const Json& v) { read_schema(v); });
  object.required("id", kExpectId, [&](const Json& v) { read_id(v, m.id); });
  object.required("title", "a non-empty string", [&](const Json& v) {
    if (auto s = read_non_empty(v, "title")) m.title = *s;
  });
  object.optional("description", [&](const Json& v) {
    if (auto s = read_string(context_, v, "a string")) m.description = *s;
  });
  object.required("revision", "an integer from 1 up", [&](const Json& v) {
    auto n = read_integer(context_, v, 1, std::numeric_limits<std::int64_t>::max(),
                          "an integer from 1 to 9223372036854775807");
    if (n) m.revision = *n;
  });
  object.required("languages", "a non-empty array of language tags",
                  [&](const Json& v) { read_languages(v); });
  object.required("restart", "one of \"none\", \"services\", \"reboot\"",
                  [&](const Json& v) { read_restart(v); });
  object.optional("supersedes", [&](const Json& v) { read_supersedes(v); });
  object.optional("family", [&](const Json& v) { read_family(v); });
  object.optional("prerequisites",
                  [&](const Json& v) { m.prerequisites = read_prerequisite(v, 1); });
  if (options_.bundle) {
    object.required("bundle",
                    "an object like {\"architecture\": \"x64\", \"key_id\": \"<64 hex>\"} in a "
                    "bundle's manifest",
                    [&](const Json& v) { read_bundle(v); });
  } else {
    object.optional("bundle", [&](const Json&) {
      context_.report(
          "not allowed in a source manifest (only the manifest inside a bundle "
          "says which architecture and language the bundle holds)");
    });
  }
  object.required("architectures", "an object with a files list per architecture",
                  [&](const Json& v) { read_architectures(v); });
  if (options_.bundle) check_bundle_scope();
  return std::move(manifest_);
}

void ManifestReader::read_schema(const Json& value) {
  if (!value.is_number_integer()) {
    context_.report("expected the integer 1, found " + describe_json(value));
  } else if (value.get<std::int64_t>() != kManifestSchemaVersion) {
    context_.report(value.dump() + " is not a supported schema version (expected 1)");
  }
}

void ManifestReader::read_id(const Json& value, std::string& out) {
  auto id = read_string(context_, value, kExpectId);
  if (!id) return;
  if (!is_valid_id(*id)) {
    context_.report(quote(*id) + " is not a valid id" + expected(kExpectId));
    return;
  }
  out = *id;
}

void ManifestReader::read_os_id(const Json& value, std::string& out) {
  auto id = read_string(context_, value, kExpectOsId);
  if (!id) return;
  if (!is_valid_os_id(*id)) {
    context_.report(quote(*id) + " is not an os-release ID" + expected(kExpectOsId));
    return;
  }
  out = *id;
}

std::optional<std::string> ManifestReader::read_non_empty(const Json& value,
                                                          std::string_view what) {
  auto text = read_string(context_, value, "a non-empty string");
  if (text && text->empty()) {
    context_.report("is empty (expected a non-empty " + std::string(what) + ")");
    return std::nullopt;
  }
  return text;
}

void ManifestReader::read_languages(const Json& value) {
  const Json::array_t* array = read_array(context_, value, "a non-empty array of language tags");
  if (!array) return;
  if (array->empty()) {
    context_.report("is empty (expected at least one language tag, like [\"en-US\"])");
    return;
  }
  std::size_t issues_before = context_.issue_count();
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto scope = context_.at(i);
    auto tag = read_string(context_, (*array)[i], kExpectLanguage);
    if (!tag) continue;
    if (!is_language_tag(*tag)) {
      context_.report(quote(*tag) + " is not a language tag" + expected(kExpectLanguage));
    } else if (auto [it, fresh] = seen.emplace(*tag, i); !fresh) {
      context_.report(quote(*tag) + " is listed twice (first at languages[" +
                      std::to_string(it->second) + "]; expected each language once)");
    } else {
      manifest_.languages.push_back(*tag);
    }
  }
  languages_ok_ = context_.issue_count() == issues_before;
}

void ManifestReader::read_restart(const Json& value) {
  constexpr std::string_view kExpect = "one of \"none\", \"services\", \"reboot\"";
  auto text = read_string(context_, value, kExpect);
  if (!text) return;
  for (auto r :
       {RestartRequirement::kNone, RestartRequirement::kServices, RestartRequirement::kReboot}) {
    if (restart_token(r) == *text) {
      manifest_.restart = r;
      return;
    }
  }
  context_.report(quote(*text) + " is not a restart requirement" + expected(kExpect));
}

void ManifestReader::read_family(const Json& value) {
  constexpr std::string_view kExpect = "\"windows\" or \"linux\"";
  auto text = read_string(context_, value, kExpect);
  if (!text) return;
  if (*text != "windows" && *text != "linux") {
    context_.report(quote(*text) + " is not a family" + expected(kExpect));
    return;
  }
  manifest_.family = *text;
}

void ManifestReader::read_supersedes(const Json& value) {
  const Json::array_t* array = read_array(context_, value, "an array of hotfix ids");
  if (!array) return;
  // Ids compare case-insensitively here: "kb967131" and "KB967131" are surely one hotfix.
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto scope = context_.at(i);
    std::string id;
    read_id((*array)[i], id);
    if (id.empty()) continue;
    if (!manifest_.id.empty() && ascii_lower(id) == ascii_lower(manifest_.id)) {
      context_.report(quote(id) +
                      " is this manifest's own id (expected the ids of other "
                      "hotfixes that this one replaces)");
    } else if (auto [it, fresh] = seen.emplace(ascii_lower(id), i); !fresh) {
      context_.report(quote(id) + " is listed twice (first at supersedes[" +
                      std::to_string(it->second) + "]; expected each id once)");
    } else {
      manifest_.supersedes.push_back(id);
    }
  }
}

void ManifestReader::read_bundle(const Json& value) {
  JsonObject object(context_, value, kBundleFields,
                    "an object like {\"architecture\": \"x64\", \"language\": \"en-US\", "
                    "\"key_id\": \"<64 hex>\"}");
  if (!object.ok()) return;
  BundleScope scope;
  std::optional<Arch> arch;
  object.required("architecture", kExpectArchitecture,
                  [&](const Json& v) { arch = read_architecture(v, "a bundle architecture"); });
  object.optional("language", [&](const Json& v) { scope.language = read_declared_language(v); });
  object.required("key_id", kExpectKeyId, [&](const Json& v) {
    if (auto key_id = read_key_id(v)) scope.key_id = *key_id;
  });
  if (!arch) return;
  scope.arch = *arch;
  manifest_.bundle = scope;
}

// The signing key's fingerprint, in the one spelling to_hex() gives, so that it compares
// as text.
std::optional<std::string> ManifestReader::read_key_id(const Json& value) {
  auto text = read_string(context_, value, kExpectKeyId);
  if (!text) return std::nullopt;
  auto digest = parse_sha256_hex(*text);
  if (!digest || to_hex(*digest) != *text) {
    context_.report(quote(*text) + " is not a key fingerprint" + expected(kExpectKeyId));
    return std::nullopt;
  }
  return text;
}

void ManifestReader::read_architectures(const Json& value) {
  if (!value.is_object()) {
    context_.report("expected an object with a files list per architecture, found " +
                    describe_json(value));
    return;
  }
  if (value.empty()) {
    context_.report("is empty (expected at least one of x86, x64, ia64, arm64)");
    return;
  }
  for (const auto& [key, entry] : value.items()) {
    auto scope = context_.at(key);
    auto arch = parse_arch_token(key);
    if (!arch || *arch == Arch::kNeutral) {
      context_.report(
          "unknown architecture (expected one of: x86, x64, ia64, arm64; files for any "
          "machine go in each architecture's list with platform \"neutral\")");
      continue;
    }
    architecture_keys_.push_back(*arch);
    JsonObject object(context_, entry, kArchitectureFields, "an object like {\"files\": [...]}");
    object.required("files", "a non-empty array of file entries", [&](const Json& files) {
      manifest_.architectures[*arch] = read_files(files, *arch);
    });
  }
}

std::vector<FileEntry> ManifestReader::read_files(const Json& value, Arch architecture) {
  std::vector<FileEntry> files;
  const Json::array_t* array = read_array(context_, value, "a non-empty array of file entries");
  if (!array) return files;
  if (array->empty()) {
    context_.report("is empty (expected at least one file entry)");
    return files;
  }
  std::vector<std::pair<std::size_t, FileEntry>> placed;  // index in the array, entry
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto scope = context_.at(i);
    if (auto file = read_file((*array)[i], architecture)) {
      files.push_back(*file);
      placed.emplace_back(i, std::move(*file));
    }
  }
  check_unique_destinations(placed);
  return files;
}

// The entry, if its name and destination are valid (the rest may still have issues).
std::optional<FileEntry> ManifestReader::read_file(const Json& value, Arch architecture) {
  JsonObject object(context_, value, kFileFields, "a file entry object");
  if (!object.ok()) return std::nullopt;
  FileEntry file;
  std::optional<std::string> name, destination;
  object.required("name", kExpectName, [&](const Json& v) { name = read_file_name(v); });
  object.required("destination", kExpectDestination,
                  [&](const Json& v) { destination = read_destination(v); });
  object.required("version", kExpectFileVersion,
                  [&](const Json& v) { read_file_version(v, file); });
  object.required("size", "a size in bytes", [&](const Json& v) {
    auto n = read_integer(context_, v, 0, std::numeric_limits<std::uint64_t>::max(),
                          "a size in bytes: an integer from 0 to 18446744073709551615");
    if (n) file.size = *n;
  });
  object.required("timestamp", kExpectTimestamp, [&](const Json& v) { read_timestamp(v, file); });
  object.required("platform", kExpectPlatform,
                  [&](const Json& v) { read_platform(v, architecture, file); });
  object.optional("kind", [&](const Json& v) { read_kind(v, file); });
  object.optional("only_if_present", [&](const Json& v) {
    if (auto flag = read_bool(context_, v, "true or false")) file.only_if_present = *flag;
  });
  if (options_.bundle) {
    object.required("sha256",
                    "the file's SHA-256 as 64 hex digits: a bundle's manifest needs one "
                    "for every file",
                    [&](const Json& v) { read_sha256(v, file); });
  } else {
    object.optional("sha256", [&](const Json& v) { read_sha256(v, file); });
  }
  object.optional("mode", [&](const Json& v) { read_mode(v, file); });
  object.optional("language", [&](const Json& v) { file.language = read_declared_language(v); });
  if (!name || !destination) return std::nullopt;
  file.name = std::move(*name);
  file.destination = std::move(*destination);
  if (auto problem = reserved_path_problem(file.path())) {
    context_.report("the file " + quote(file.path()) + " " + *problem);
    return std::nullopt;
  }
  if (auto problem = installable_length_problem(file.path())) {
    context_.report("the file " + quote(file.path()) + " " + *problem);
    return std::nullopt;
  }
  if (manifest_.family == "windows") {
    if (auto problem = windows_path_problem(file.path())) {
      context_.report("the file " + quote(file.path()) + " " + *problem +
                      " (the manifest's family is windows)");
      return std::nullopt;
    }
  }
  return file;
}

std::optional<std::string> ManifestReader::read_file_name(const Json& value) {
  auto name = read_string(context_, value, kExpectName);
  if (!name) return std::nullopt;
  if (auto problem = name_problem(*name)) {
    context_.report(quote(*name) + " " + *problem + expected(kExpectName));
    return std::nullopt;
  }
  return name;
}

std::optional<std::string> ManifestReader::read_destination(const Json& value) {
  auto directory = read_string(context_, value, kExpectDestination);
  if (!directory) return std::nullopt;
  if (auto problem = relative_path_problem(*directory)) {
    context_.report(quote(*directory) + " " + *problem + expected(kExpectDestination));
    return std::nullopt;
  }
  return directory;
}

void ManifestReader::read_file_version(const Json& value, FileEntry& file) {
  if (value.is_null()) return;  // unversioned: "Not Applicable" in the article
  auto text = read_string(context_, value, kExpectFileVersion);
  if (!text) return;
  file.version = Version::parse(*text, true);
  if (!file.version) {
    context_.report(quote(*text) + " is not a four-part version" + expected(kExpectFileVersion));
  }
}

void ManifestReader::read_timestamp(const Json& value, FileEntry& file) {
  auto text = read_string(context_, value, kExpectTimestamp);
  if (!text) return;
  if (auto parsed = Timestamp::parse_iso8601(*text)) {
    file.timestamp = *parsed;
  } else if (looks_zoned_but_not_utc(*text)) {
    context_.report(quote(*text) + " is not in UTC" + expected(kExpectTimestamp));
  } else {
    context_.report(quote(*text) + " is not a valid UTC timestamp" + expected(kExpectTimestamp));
  }
}

void ManifestReader::read_platform(const Json& value, Arch architecture, FileEntry& file) {
  auto text = read_string(context_, value, kExpectPlatform);
  if (!text) return;
  auto platform = parse_arch_token(*text);
  if (!platform) {
    std::string hint;
    if (auto spelled = parse_arch(*text)) {
      hint = "; write \"" + std::string(arch_token(*spelled)) + "\" for " + quote(*text);
    }
    context_.report(quote(*text) + " is not a platform (expected " + std::string(kExpectPlatform) +
                    hint + ")");
    return;
  }
  if (!platform_fits(architecture, *platform)) {
    context_.report(quote(*text) + " does not fit the " + std::string(arch_token(architecture)) +
                    " architecture (expected " + fitting_platforms(architecture) + ")");
    return;
  }
  file.platform = *platform;
}

void ManifestReader::read_kind(const Json& value, FileEntry& file) {
  constexpr std::string_view kExpect = "\"binary\" or \"config\"";
  auto kind = read_string(context_, value, kExpect);
  if (!kind) return;
  if (*kind == file_kind_token(FileKind::kConfig)) {
    file.kind = FileKind::kConfig;
  } else if (*kind != file_kind_token(FileKind::kBinary)) {
    context_.report(quote(*kind) + " is not a file kind" + expected(kExpect));
  }
}

void ManifestReader::read_sha256(const Json& value, FileEntry& file) {
  auto hex = read_string(context_, value, kExpectSha256);
  if (!hex) return;
  file.sha256 = parse_sha256_hex(*hex);
  if (!file.sha256) context_.report(quote(*hex) + " is not a SHA-256" + expected(kExpectSha256));
}

void ManifestReader::read_mode(const Json& value, FileEntry& file) {
  auto text = read_string(context_, value, kExpectMode);
  if (!text) return;
  bool octal = (text->size() == 3 || text->size() == 4) &&
               all_of_chars(*text, [](char c) { return c >= '0' && c <= '7'; });
  if (!octal) {
    context_.report(quote(*text) + " is not an octal mode" + expected(kExpectMode));
    return;
  }
  file.mode = static_cast<std::uint32_t>(std::stoul(*text, nullptr, 8));
}

// A file's or bundle's language: one the manifest declares (checked only when the
// declaration itself is valid, so one mistake is not reported over and over).
std::optional<std::string> ManifestReader::read_declared_language(const Json& value) {
  auto tag = read_string(context_, value, "one of the manifest's languages");
  if (!tag) return std::nullopt;
  const auto& declared = manifest_.languages;
  if (languages_ok_ && std::find(declared.begin(), declared.end(), *tag) == declared.end()) {
    context_.report(quote(*tag) + " is not one of the manifest's languages (expected one of " +
                    Json(declared).dump() + ")");
    return std::nullopt;
  }
  return tag;
}

// Windows paths ignore case, so "Admwprox.dll" and "ADMWPROX.DLL" are one file there, and
// "App/a.dll" and "app/b.dll" are in one directory: within one architecture each file path
// is used once, each directory is spelled one way, and no path is both a file and a
// directory, all compared by fold_name (case and Unicode normalization folded).
void ManifestReader::check_unique_destinations(
    const std::vector<std::pair<std::size_t, FileEntry>>& files) {
  struct First {
    std::size_t index;
    std::string spelling;
  };
  std::unordered_map<std::string, First> file_paths, directories;  // folded path -> first use
  auto where = [](const First& first) {
    return "files[" + std::to_string(first.index) + "] (" + quote(first.spelling) + ")";
  };
  for (const auto& [index, file] : files) {
    auto scope = context_.at(index);
    const std::string path = file.path();
    std::string problem;
    for (std::size_t slash = path.find('/'); slash != std::string::npos && problem.empty();
         slash = path.find('/', slash + 1)) {
      const std::string directory = path.substr(0, slash);
      const std::string key = fold_name(directory);
      if (auto f = file_paths.find(key); f != file_paths.end()) {
        problem =
            "has the directory " + quote(directory) + ", which is the file of " + where(f->second);
      } else if (auto [d, fresh] = directories.try_emplace(key, First{index, directory});
                 !fresh && d->second.spelling != directory) {
        problem = "spells the directory " + quote(directory) + " otherwise than " +
                  where(d->second) +
                  "; expected one spelling of each directory, compared ignoring case";
      }
    }
    const std::string key = fold_name(path);
    if (problem.empty()) {
      if (auto d = directories.find(key); d != directories.end()) {
        problem = "is a directory of " + where(d->second) + "; a path cannot be both";
      } else if (auto [f, fresh] = file_paths.try_emplace(key, First{index, path}); !fresh) {
        problem = "is already used by " + where(f->second) +
                  "; expected each destination path once per architecture, compared "
                  "ignoring case";
      }
    }
    if (!problem.empty()) context_.report("destination " + quote(path) + " " + problem);
  }
}

void ManifestReader::check_bundle_scope() {
  if (!manifest_.bundle || architecture_keys_.empty()) return;
  const std::string token(arch_token(manifest_.bundle->arch));
  auto scope = context_.at("architectures");
  bool found = false;
  for (Arch arch : architecture_keys_) {
    if (arch == manifest_.bundle->arch) {
      found = true;
      continue;
    }
    auto inner = context_.at(arch_token(arch));
    context_.report("a bundle for " + token + " holds only that architecture (found " +
                    std::string(arch_token(arch)) + ")");
  }
  if (!found) {
    context_.report("has no \"" + token + "\" entry (expected exactly the bundle's architecture " +
                    token + ")");
  }
}

Prerequisite ManifestReader::read_prerequisite(const Json& node, int level) {
  Prerequisite out;
  if (level > kMaxPrerequisiteDepth) {
    context_.report("prerequisite nested " + std::to_string(level) +
                    " levels deep (expected at most " + std::to_string(kMaxPrerequisiteDepth) +
                    ")");
    return out;
  }
  static constexpr auto kKnown = [] {
    std::array<std::string_view, kPrerequisiteConditions.size() + 1> known{};
    for (std::size_t i = 0; i < kPrerequisiteConditions.size(); ++i) {
      known[i] = kPrerequisiteConditions[i];
    }
    known.back() = "label";
    return known;
  }();
  JsonObject object(context_, node, kKnown,
                    "a prerequisite object, like {\"product\": \"Windows Vista\"}");
  if (!object.ok()) return out;
  std::vector<std::string_view> present;
  for (std::string_view key : kPrerequisiteConditions) {
    if (object.has(key)) present.push_back(key);
  }
  if (present.empty()) {
    context_.report(
        "has no condition (expected exactly one of: all_of, any_of, product, "
        "version_at_least, service_pack_at_least, architecture, hotfix_installed, "
        "file_version_at_least, os_id, os_version_at_least)");
  } else if (present.size() > 1) {
    context_.report("has " + std::to_string(present.size()) + " conditions (\"" +
                    std::string(present[0]) + "\" and \"" + std::string(present[1]) +
                    "\"); expected exactly one per node: combine conditions with all_of or any_of");
  }
  std::string label;
  object.optional("label", [&](const Json& v) {
    if (auto text = read_non_empty(v, "label")) label = *text;
  });
  // Every condition present is checked, so that all issues show; the first one is kept.
  for (std::size_t i = 0; i < present.size(); ++i) {
    object.optional(present[i], [&](const Json& v) {
      Prerequisite condition = read_condition(present[i], v, level);
      if (i == 0) out = std::move(condition);
    });
  }
  out.label = std::move(label);
  return out;
}

void ManifestReader::read_children(const Json& value, int level, bool allow_empty,
                                   Prerequisite& out) {
  const Json::array_t* array = read_array(context_, value, "an array of prerequisite objects");
  if (!array) return;
  if (array->empty() && !allow_empty) {
    context_.report("is empty (expected at least one alternative)");
    return;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto scope = context_.at(i);
    out.children.push_back(read_prerequisite((*array)[i], level + 1));
  }
}

std::optional<Version> ManifestReader::read_minimum_version(const Json& value) {
  auto text = read_string(context_, value, kExpectMinimumVersion);
  if (!text) return std::nullopt;
  auto version = Version::parse(*text, false);
  if (!version)
    context_.report(quote(*text) + " is not a version" + expected(kExpectMinimumVersion));
  return version;
}

// An architecture a bundle or target can have: x86, x64, ia64 or arm64 (not neutral).
std::optional<Arch> ManifestReader::read_architecture(const Json& value, std::string_view what) {
  auto text = read_string(context_, value, kExpectArchitecture);
  if (!text) return std::nullopt;
  auto arch = parse_arch_token(*text);
  if (!arch || *arch == Arch::kNeutral) {
    context_.report(quote(*text) + " is not " + std::string(what) + expected(kExpectArchitecture));
    return std::nullopt;
  }
  return arch;
}

Prerequisite ManifestReader::read_condition(std::string_view key, const Json& value, int level) {
  using Type = Prerequisite::Type;
  Prerequisite p;
  if (key == "all_of" || key == "any_of") {
    p.type = key == "all_of" ? Type::kAllOf : Type::kAnyOf;
    read_children(value, level, key == "all_of", p);
  } else if (key == "product") {
    p.type = Type::kProduct;
    if (auto name = read_non_empty(value, "product name")) p.value = *name;
  } else if (key == "version_at_least") {
    p.type = Type::kVersionAtLeast;
    if (auto v = read_minimum_version(value)) p.version = *v;
  } else if (key == "service_pack_at_least") {
    p.type = Type::kServicePackAtLeast;
    if (auto n = read_integer(context_, value, 0, 255, "a service pack number from 0 to 255")) {
      p.service_pack = static_cast<int>(*n);
    }
  } else if (key == "architecture") {
    p.type = Type::kArchitecture;
    if (auto arch = read_architecture(value, "an architecture")) p.arch = *arch;
  } else if (key == "hotfix_installed") {
    p.type = Type::kHotfixInstalled;
    read_id(value, p.value);
  } else if (key == "file_version_at_least") {
    p.type = Type::kFileVersionAtLeast;
    read_file_version_condition(value, p);
  } else if (key == "os_id") {
    p.type = Type::kOsId;
    read_os_id(value, p.value);
  } else if (key == "os_version_at_least") {
    p.type = Type::kOsVersionAtLeast;
    if (auto v = read_minimum_version(value)) {
      p.version = *v;
      p.value = value.get<std::string>();
    }
  }
  return p;
}

void ManifestReader::read_file_version_condition(const Json& value, Prerequisite& out) {
  JsonObject object(context_, value, kFileVersionConditionFields,
                    "an object like {\"path\": \"Windows/System32/inetsrv/appcmd.exe\", "
                    "\"version\": \"7.0.6001.18000\"}");
  object.required("path", kExpectRelativeFile, [&](const Json& v) {
    auto path = read_string(context_, v, kExpectRelativeFile);
    if (!path) return;
    auto problem =
        path->empty() ? std::optional<std::string>("is empty") : relative_path_problem(*path);
    if (problem) {
      context_.report(quote(*path) + " " + *problem + expected(kExpectRelativeFile));
    } else {
      out.value = *path;
    }
  });
  object.required("version", kExpectMinimumVersion, [&](const Json& v) {
    if (auto version = read_minimum_version(v)) out.version = *version;
  });
}

Json write_file_entry(const FileEntry& file) {
  Json j;
  j["name"] = file.name;
  j["destination"] = file.destination;
  j["version"] = file.version ? Json(file.version->to_string()) : Json(nullptr);
  j["size"] = file.size;
  j["timestamp"] = file.timestamp.iso8601();
  j["platform"] = arch_token(file.platform);
  j["kind"] = file_kind_token(file.kind);
  j["only_if_present"] = file.only_if_present;
  if (file.sha256) j["sha256"] = to_hex(*file.sha256);
  if (file.mode) j["mode"] = format_mode(*file.mode);
  if (file.language) j["language"] = *file.language;
  return j;
}

// Reads at most `limit` bytes: enough for parse_manifest to see the file is too large.
std::string read_limited(const std::string& path, std::size_t limit) {
  FileDescriptor fd = open_named_input(path, O_RDONLY | O_NONBLOCK, "a manifest");
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) throw SystemError(path, "stat", errno);
  if (S_ISDIR(info.st_mode)) {
    throw Error(ErrorKind::kBadInput, path, "is a directory (expected a manifest file)");
  }
  if (!S_ISREG(info.st_mode)) {
    throw Error(ErrorKind::kBadInput, path, "is not a regular file (expected a manifest file)");
  }
  std::string text = read_to_end(fd.get(), limit, path);
  if (text.size() > limit) text.resize(limit);
  return text;
}

std::string first_issue_where(const std::string& source, const std::vector<ManifestIssue>& issues) {
  if (issues.empty() || issues.front().path.empty()) return source;
  return source.empty() ? issues.front().path : source + ": " + issues.front().path;
}

}  // namespace

ManifestError::ManifestError(std::string source, std::vector<ManifestIssue> issues)
    : Error(ErrorKind::kBadInput, first_issue_where(source, issues),
            issues.empty() ? "invalid manifest" : issues.front().message),
      source_(std::move(source)),
      issues_(std::move(issues)) {}

std::vector<std::string> ManifestError::lines() const {
  if (issues_.empty()) return Error::lines();
  std::vector<std::string> out;
  for (const ManifestIssue& issue : issues_) {
    std::string line = source_;
    if (!issue.path.empty()) line += (line.empty() ? "" : ": ") + issue.path;
    line += (line.empty() ? "" : ": ") + issue.message;
    out.push_back(std::move(line));
  }
  return out;
}

std::string ManifestError::report() const {
  std::string out;
  for (const std::string& line : lines()) out += line + "\n";
  return out;
}

Manifest parse_manifest(std::string_view json_text, const std::string& source,
                        ManifestReadOptions options) {
  JsonPrescan prescan = prescan_json(json_text, kMaxManifestBytes, kMaxJsonDepth);
  if (prescan.fatal) throw ManifestError(source, std::move(prescan.issues));
  Json root = Json::parse(json_text);  // cannot fail: the prescan parsed the same text
  std::vector<ManifestIssue> issues = std::move(prescan.issues);
  JsonContext context(issues);
  Manifest manifest = ManifestReader(context, options).read(root);
  note_omitted_issues(issues, prescan.omitted + context.omitted());
  if (!issues.empty()) throw ManifestError(source, std::move(issues));
  return manifest;
}

Manifest read_manifest_file(const std::string& path, ManifestReadOptions options) {
  return parse_manifest(read_limited(path, kMaxManifestBytes + 1), path, options);
}

Prerequisite parse_prerequisite(const nlohmann::ordered_json& node, const std::string& source,
                                const std::string& path) {
  std::vector<ManifestIssue> issues;
  JsonContext context(issues, path);
  Prerequisite out = ManifestReader(context, {}).read_prerequisite(node, 1);
  note_omitted_issues(issues, context.omitted());
  if (!issues.empty()) throw ManifestError(source, std::move(issues));
  return out;
}

nlohmann::ordered_json write_prerequisite(const Prerequisite& p) {
  using Type = Prerequisite::Type;
  Json j = Json::object();
  switch (p.type) {
    case Type::kAllOf:
    case Type::kAnyOf: {
      Json children = Json::array();
      for (const Prerequisite& child : p.children) children.push_back(write_prerequisite(child));
      j[p.type == Type::kAllOf ? "all_of" : "any_of"] = std::move(children);
      break;
    }
    case Type::kProduct:
      j["product"] = p.value;
      break;
    case Type::kVersionAtLeast:
      j["version_at_least"] = p.version.to_string();
      break;
    case Type::kServicePackAtLeast:
      j["service_pack_at_least"] = p.service_pack;
      break;
    case Type::kArchitecture:
      j["architecture"] = arch_token(p.arch);
      break;
    case Type::kHotfixInstalled:
      j["hotfix_installed"] = p.value;
      break;
    case Type::kFileVersionAtLeast:
      j["file_version_at_least"] = Json{{"path", p.value}, {"version", p.version.to_string()}};
      break;
    case Type::kOsId:
      j["os_id"] = p.value;
      break;
    case Type::kOsVersionAtLeast:
      j["os_version_at_least"] = p.value;  // as written: "22.04" stays "22.04"
      break;
  }
  if (!p.label.empty()) j["label"] = p.label;
  return j;
}

std::string write_manifest(const Manifest& m) {
  Json j;
  j["schema"] = m.schema;
  j["id"] = m.id;
  j["title"] = m.title;
  j["description"] = m.description;
  j["revision"] = m.revision;
  j["languages"] = m.languages;
  j["restart"] = restart_token(m.restart);
  j["supersedes"] = m.supersedes;
  if (!m.family.empty()) j["family"] = m.family;
  // A labelled empty all_of is not "no prerequisite": only the exact default is omitted.
  if (m.prerequisites != Prerequisite::always())
    j["prerequisites"] = write_prerequisite(m.prerequisites);
  if (m.bundle) {
    Json bundle;
    bundle["architecture"] = arch_token(m.bundle->arch);
    if (m.bundle->language) bundle["language"] = *m.bundle->language;
    bundle["key_id"] = m.bundle->key_id;
    j["bundle"] = std::move(bundle);
  }
  Json architectures = Json::object();
  for (const auto& [arch, files] : m.architectures) {  // std::map: x86, x64, ia64, arm64
    Json list = Json::array();
    for (const FileEntry& file : files) list.push_back(write_file_entry(file));
    architectures[std::string(arch_token(arch))] = Json{{"files", std::move(list)}};
  }
  j["architectures"] = std::move(architectures);
  try {
    return j.dump(2) + "\n";
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::kBadInput, m.id, "manifest text is not valid UTF-8");
  }
}

std::string format_mode(std::uint32_t mode) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

std::string write_file_entries(const std::vector<FileEntry>& files) {
  Json list = Json::array();
  for (const FileEntry& file : files) list.push_back(write_file_entry(file));
  try {
    return list.dump(2) + "\n";
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::kBadInput, "scan", "a file name is not valid UTF-8");
  }
}

}  // namespace hotfix
