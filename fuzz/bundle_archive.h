// A bundle as a list of tar entries, for building and mutating fuzz inputs: decoded from
// zstd-compressed (or plain) tar, changed, re-signed with the fuzz key and encoded again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hotfix::fuzz {

struct TarEntry {
  enum class Type { kFile, kDirectory, kSymlink, kHardlink, kFifo, kCharDevice };
  std::string name;
  Type type = Type::kFile;
  std::string data;  // a file's content, or a link's target
};

// The entries of a tar stream, zstd-compressed or not; nullopt when the bytes are not a
// complete, readable tar stream or hold more than `max_bytes` of names and data.
std::optional<std::vector<TarEntry>> decode_tar(std::span<const std::uint8_t> bytes,
                                                std::size_t max_bytes);

// A pax tar stream of the entries, uncompressed.
std::string encode_tar(const std::vector<TarEntry>& entries);

std::string zstd_compress(std::string_view data, int level);

// When manifest.json is followed by manifest.json.sig, as in a bundle, the signature
// becomes the fuzz key's over that manifest. Returns whether it did.
bool sign_manifest(std::vector<TarEntry>& entries);

}  // namespace hotfix::fuzz
