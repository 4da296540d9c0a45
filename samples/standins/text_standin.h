// Deterministic text stand-ins for unversioned files (configuration, schema, other data).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hotfix::standins {

// Exactly `size` bytes of text standing in for the file `name`. Names ending in .xml or
// .config (case-insensitively) get XML: a declaration, a comment naming the stand-in and
// `edition`, a root element holding repeated element lines, closed when the size allows,
// padded with a comment or spaces to the byte. Other names get "key=value" lines. The same
// arguments always give the same text; a different seed or edition gives different text.
std::string text_standin(std::string_view name, std::uint64_t size, std::string_view edition,
                         std::uint64_t seed);

}  // namespace hotfix::standins
