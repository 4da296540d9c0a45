// The version resource of a PE file (VS_VERSIONINFO): the numeric versions of its
// VS_FIXEDFILEINFO and the strings of its first string table.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "manifests/version.h"

namespace hotfix {

struct VersionResource {
  std::optional<Version> file_version;     // dwFileVersionMS / dwFileVersionLS
  std::optional<Version> product_version;  // dwProductVersionMS / dwProductVersionLS
  // StringFileInfo's first StringTable: "FileVersion", "CompanyName", ... in UTF-8.
  std::map<std::string, std::string> strings;
};

// Parses the resource data of an RT_VERSION resource. `file_offset` is where `data`
// starts in the file and only serves error messages. Throws hotfix::Error(kBadInput,
// source, ...) when the block lengths are inconsistent or VS_FIXEDFILEINFO is invalid.
VersionResource parse_version_resource(std::span<const std::uint8_t> data,
                                       std::uint64_t file_offset, const std::string& source);

// UTF-16LE code units to UTF-8; unpaired surrogates become U+FFFD.
std::string utf16_to_utf8(std::span<const std::uint16_t> units);

}  // namespace hotfix
