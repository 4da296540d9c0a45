// Deterministic bytes that look roughly like machine code, for the body of stand-in binaries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hotfix::standins {

// A seed derived from the text that names a stand-in (file name, architecture, variant),
// so that the same manifest always yields the same bytes.
std::uint64_t filler_seed(std::string_view text);

// `count` bytes drawn from a small dictionary of instruction-like sequences with varying
// operands: compresses about 2-3x with zstd, like real code, rather than 1x (random) or
// 100x (zeros). The same seed and count always give the same bytes.
std::string code_like_bytes(std::uint64_t seed, std::size_t count);

}  // namespace hotfix::standins
