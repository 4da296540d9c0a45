// The bundle container: one zstd-compressed tar stream (docs/bundle-format.md).
//   manifest.json        the bundle's manifest (one architecture, every file's sha256)
//   manifest.json.sig    64-byte raw Ed25519 signature of manifest.json
//   payload/<sha256>     each distinct file content once, named by its SHA-256
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "manifests/arch.h"

namespace hotfix {

inline constexpr std::string_view kManifestEntry = "manifest.json";
inline constexpr std::string_view kSignatureEntry = "manifest.json.sig";
inline constexpr std::string_view kPayloadPrefix = "payload/";
inline constexpr std::string_view kBundleExtension = ".hotfix";
inline constexpr std::uint64_t kMaxManifestSize = 16 * 1024 * 1024;

// "KB967131-x64.hotfix", or "KB967131-x64-de-DE.hotfix" for one language of several.
std::string bundle_file_name(const std::string& id, Arch arch,
                             const std::optional<std::string>& language);

// Whether `size` bytes at `start` begin a zstd frame (or a skippable frame), as every bundle
// does: how a bundle is told from a manifest whatever its name.
bool has_bundle_magic(const unsigned char* start, std::size_t size);

}  // namespace hotfix
