#include "packager/manifest_from_drops.h"

#include "manifests/case_fold.h"
#include "manifests/errors.h"
#include "manifests/json_context.h"
#include "manifests/os_release.h"
#include "manifests/version.h"
#include "packager/drop_scan.h"

namespace hotfix {

namespace {

bool ends_with_fold(const std::string& name, std::string_view suffix) {
  return name.size() > suffix.size() &&
         equal_fold(std::string_view(name).substr(name.size() - suffix.size()), suffix);
}

Prerequisite leaf(Prerequisite::Type type, const std::string& value) {
  Prerequisite p;
  p.type = type;
  p.value = value;
  return p;
}

}  // namespace

FileKind guess_kind(const FileEntry& entry) {
  if (ends_with_fold(entry.name, ".config") || ends_with_fold(entry.name, ".conf")) {
    return FileKind::kConfig;
  }
  const std::string& d = entry.destination;
  if (d == "etc" || d.rfind("etc/", 0) == 0) return FileKind::kConfig;
  return FileKind::kBinary;
}

Prerequisite os_prerequisites(const std::string& os_release, const std::string& source,
                              std::vector<std::string>& warnings) {
  std::map<std::string, std::string> values = parse_os_release(os_release);
  auto id = values.find("ID");
  if (id == values.end() || !is_valid_os_id(id->second)) {
    throw Error(ErrorKind::kBadInput, source,
                id == values.end() ? "has no ID (the os_id prerequisite comes from it)"
                                   : "ID " + quote(id->second) +
                                         " is not an os-release ID (1 to 64 of a-z, 0-9, '.', "
                                         "'_', '-')");
  }
  Prerequisite all;
  all.type = Prerequisite::Type::kAllOf;
  all.children.push_back(leaf(Prerequisite::Type::kOsId, id->second));
  auto version_id = values.find("VERSION_ID");
  std::optional<Version> version =
      version_id == values.end() ? std::nullopt : Version::parse(version_id->second, false);
  if (version) {
    Prerequisite at_least = leaf(Prerequisite::Type::kOsVersionAtLeast, version_id->second);
    at_least.version = *version;
    all.children.push_back(at_least);
  } else {
    warnings.push_back(source + ": " +
                       (version_id == values.end()
                            ? std::string("has no VERSION_ID")
                            : "VERSION_ID " + quote(version_id->second) + " is not numeric") +
                       ": no os_version_at_least prerequisite, the hotfix is for any version of " +
                       id->second);
  }
  return all;
}

ScannedManifest manifest_from_drops(const std::map<Arch, std::string>& drops,
                                    const ManifestStart& start) {
  ScannedManifest out;
  Manifest& m = out.manifest;
  m.id = start.id;
  m.title = start.title.empty() ? start.id : start.title;
  m.languages = {"neutral"};
  m.restart = start.restart;
  if (start.os_release) {
    m.family = "linux";
    m.prerequisites = os_prerequisites(*start.os_release, start.os_release_source, out.warnings);
  }
  for (const auto& [arch, dir] : drops) {
    std::vector<FileEntry> files = scan_drop(dir);
    for (FileEntry& f : files) f.kind = guess_kind(f);
    m.architectures[arch] = std::move(files);
  }
  return out;
}

}  // namespace hotfix
