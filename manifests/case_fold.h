// Case folding as Windows-family targets compare names, in one place. Hotfix ids are ASCII and
// compare by ASCII letters only, independent of the locale (std::tolower depends on it); file
// and directory names compare by fold_name, which folds Unicode case and normalization.
#pragma once

#include <string>
#include <string_view>

namespace hotfix {

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string ascii_lower(std::string_view text);

inline bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// True when `a` and `b` are equal ignoring ASCII case.
bool equal_fold(std::string_view a, std::string_view b);

// True when `path` is `dir` or lies below it ("a/b" is under "a"), compared exactly or
// ignoring ASCII case.
bool path_under(std::string_view path, std::string_view dir, bool fold_case);

// The key under which two names (or paths) are one on a Windows-family target: Unicode simple
// case folding (what NTFS's upcase table does, one code point for one) of the canonical
// decomposition, recomposed (NFC), so that "É.dll", "é.dll" and "e\u0301.dll" share one key.
// Text that is not valid UTF-8 (a name read from a directory) keeps its bytes, ASCII letters
// lowered. Pure ASCII never reaches the Unicode tables.
std::string fold_name(std::string_view text);

}  // namespace hotfix
