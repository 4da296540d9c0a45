// A source manifest made from the build drops themselves (scan --drop ... --manifest-id): one
// manifest for every architecture given, each file as the drop has it (version, size, UTC
// time, platform, mode, SHA-256), configuration files guessed by name, and, for Linux
// targets, prerequisites from an os-release file. The release engineer reviews and completes
// it; build then checks the drops against it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "manifests/manifest.h"

namespace hotfix {

struct ManifestStart {
  std::string id;
  std::string title;  // empty: the id
  RestartRequirement restart = RestartRequirement::kNone;
  // The text of the target's os-release: family linux, and os_id / os_version_at_least
  // prerequisites from its ID and VERSION_ID.
  std::optional<std::string> os_release;
  std::string os_release_source;  // names it in errors
};

// "config" for names ending in .config or .conf (ignoring case) and for files under a
// top-level etc/ directory; "binary" otherwise.
FileKind guess_kind(const FileEntry& entry);

// The prerequisites an os-release text gives: all_of [os_id ID, os_version_at_least
// VERSION_ID], the version only when VERSION_ID is numeric (`warnings` says so otherwise).
// Throws Error(kBadInput) when ID is missing or not an os-release ID.
Prerequisite os_prerequisites(const std::string& os_release, const std::string& source,
                              std::vector<std::string>& warnings);

struct ScannedManifest {
  Manifest manifest;
  std::vector<std::string> warnings;
};

// Scans each drop (drop_scan.h) and makes the manifest; throws what scanning throws.
ScannedManifest manifest_from_drops(const std::map<Arch, std::string>& drops,
                                    const ManifestStart& start);

}  // namespace hotfix
