// Reading and writing manifests as JSON (format v1), with strict validation.
// The format is documented in docs/manifest-format.md and docs/manifest.schema.json.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifests/errors.h"
#include "manifests/manifest.h"

namespace hotfix {

// Limits checked before a JSON tree is built, so hostile input cannot exhaust memory or stack.
inline constexpr std::size_t kMaxManifestBytes = 16 * 1024 * 1024;
inline constexpr int kMaxJsonDepth = 64;  // a top-level object is depth 1
// A prerequisite node directly under "prerequisites" is level 1.
inline constexpr int kMaxPrerequisiteDepth = 32;
// Issues a ManifestError lists at most; the rest are counted in one last issue. Without a
// limit, a 16 MiB document of empty file entries makes gigabytes of messages.
inline constexpr std::size_t kMaxManifestIssues = 100;

// The fields format v1 allows in each kind of object, in canonical (writing) order.
// docs/manifest.schema.json lists the same; a test keeps the two in step.
inline constexpr auto kManifestFields = std::to_array<std::string_view>(
    {"schema", "id", "title", "description", "revision", "languages", "restart", "supersedes",
     "family", "prerequisites", "bundle", "architectures"});
inline constexpr auto kFileFields = std::to_array<std::string_view>(
    {"name", "destination", "version", "size", "timestamp", "platform", "kind", "only_if_present",
     "sha256", "mode", "language"});
inline constexpr auto kBundleFields =
    std::to_array<std::string_view>({"architecture", "language", "key_id"});
inline constexpr auto kArchitectureFields = std::to_array<std::string_view>({"files"});
// A prerequisite node holds exactly one of these conditions, plus an optional "label".
inline constexpr auto kPrerequisiteConditions = std::to_array<std::string_view>(
    {"all_of", "any_of", "product", "version_at_least", "service_pack_at_least", "architecture",
     "hotfix_installed", "file_version_at_least", "os_id", "os_version_at_least"});
inline constexpr auto kFileVersionConditionFields =
    std::to_array<std::string_view>({"path", "version"});

// One problem found while validating, at a JSON path such as
// "architectures.x64.files[12].version". The path is empty for problems with the whole
// document (size, nesting, syntax).
struct ManifestIssue {
  std::string path;
  std::string message;  // what was found and what was expected

  friend bool operator==(const ManifestIssue&, const ManifestIssue&) = default;
};

// Thrown with every problem found (up to kMaxManifestIssues), not just the first. what() is
// the first issue; lines() has them all.
class ManifestError : public Error {
 public:
  ManifestError(std::string source, std::vector<ManifestIssue> issues);
  const std::string& source() const { return source_; }
  const std::vector<ManifestIssue>& issues() const { return issues_; }
  // Every issue, one line each: "<source>: <path>: <message>".
  std::vector<std::string> lines() const override;
  // lines(), each newline-terminated.
  std::string report() const;

 private:
  std::string source_;
  std::vector<ManifestIssue> issues_;
};

struct ManifestReadOptions {
  // A bundle's manifest must carry "bundle" and a sha256 on every file, and only the
  // bundle's architecture; a source manifest must not carry "bundle".
  bool bundle = false;
};

// `source` names the input in messages (a file name, or "manifest.json in X.hotfix").
// Throws ManifestError (ErrorKind::kBadInput) listing every issue found.
Manifest parse_manifest(std::string_view json_text, const std::string& source,
                        ManifestReadOptions options = {});

// Throws Error(kBadInput) naming the path when it is missing or not a regular file,
// SystemError when opening (permission) or reading it fails, ManifestError when invalid.
Manifest read_manifest_file(const std::string& path, ManifestReadOptions options = {});

// Canonical JSON: fixed key order, two-space indent, trailing newline. Byte-identical for
// equal manifests, so bundles built from it are reproducible.
std::string write_manifest(const Manifest& manifest);

// Permission bits as the manifest writes them and messages show them: "0644", "4755".
std::string format_mode(std::uint32_t mode);

// File entries alone, as a JSON array in the same canonical form (for `scan --json`).
std::string write_file_entries(const std::vector<FileEntry>& files);

// The prerequisite language on its own, as it appears under "prerequisites", for tools
// that take an expression from elsewhere. Issue paths start with `path`. Within a manifest
// the JSON nesting limit usually stops deep trees first; this checks kMaxPrerequisiteDepth
// on any tree.
Prerequisite parse_prerequisite(const nlohmann::ordered_json& node, const std::string& source,
                                const std::string& path = "prerequisites");
nlohmann::ordered_json write_prerequisite(const Prerequisite& prerequisite);

}  // namespace hotfix
