// What a hotfix IS: its metadata, prerequisites, restart need, and per-architecture files.
// Format documented in docs/manifest-format.md; JSON in manifests/manifest_json.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "manifests/arch.h"
#include "manifests/prerequisite.h"
#include "manifests/sha256.h"
#include "manifests/timestamp.h"
#include "manifests/version.h"

namespace hotfix {

inline constexpr int kManifestSchemaVersion = 1;

// Binary: product files, replaced when older. Config: files an administrator may edit;
// a changed one is never overwritten (the new one is written beside it).
enum class FileKind { kBinary, kConfig };

enum class RestartRequirement { kNone, kServices, kReboot };

std::string_view file_kind_token(FileKind kind);            // "binary", "config"
std::string_view restart_token(RestartRequirement restart);  // "none", "services", "reboot"

struct FileEntry {
  std::string name;                // "Admwprox.dll"
  std::string destination;         // "Windows/System32/inetsrv": relative, forward slashes
  std::optional<Version> version;  // nullopt: unversioned ("Not Applicable")
  std::uint64_t size = 0;
  Timestamp timestamp;             // UTC
  Arch platform = Arch::kNeutral;  // machine type; kNeutral for data files
  FileKind kind = FileKind::kBinary;
  bool only_if_present = false;  // install only where the file already exists on the target
  std::optional<Sha256Digest> sha256;  // optional in a source manifest, required in a bundle
  std::optional<std::uint32_t> mode;   // permission bits for a new file, e.g. 0644
  std::optional<std::string> language;  // set only on language-specific files

  // "Windows/System32/inetsrv/Admwprox.dll"
  std::string path() const { return destination.empty() ? name : destination + "/" + name; }

  friend bool operator==(const FileEntry&, const FileEntry&) = default;
};

// Present only in the manifest inside a bundle: which slice of the hotfix the bundle holds.
struct BundleScope {
  Arch arch = Arch::kX86;
  std::optional<std::string> language;  // set when the hotfix declares several languages
  std::string key_id;  // fingerprint of the signing key (signed with the rest)
  friend bool operator==(const BundleScope&, const BundleScope&) = default;
};

struct Manifest {
  int schema = kManifestSchemaVersion;
  std::string id;           // "KB967131"
  std::string title;
  std::string description;
  std::uint64_t revision = 1;          // only grows between releases of the same id
  std::vector<std::string> languages;  // "en-US"; at least one
  Prerequisite prerequisites = Prerequisite::always();
  RestartRequirement restart = RestartRequirement::kNone;
  std::vector<std::string> supersedes;  // ids of hotfixes this one replaces
  std::string family;  // "windows" or "linux": the targets it is for; "" for any
  std::map<Arch, std::vector<FileEntry>> architectures;  // in article order per architecture
  std::optional<BundleScope> bundle;

  friend bool operator==(const Manifest&, const Manifest&) = default;
};

}  // namespace hotfix
