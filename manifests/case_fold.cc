#include "manifests/case_fold.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include <optional>

namespace hotfix {

namespace {

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::optional<std::u16string> to_utf16(std::string_view text) {
  std::u16string out(text.size(), u'\0');  // never more UTF-16 units than UTF-8 bytes
  int32_t length = 0;
  UErrorCode status = U_ZERO_ERROR;
  u_strFromUTF8(reinterpret_cast<UChar*>(out.data()), static_cast<int32_t>(out.size()), &length,
                text.data(), static_cast<int32_t>(text.size()), &status);
  if (U_FAILURE(status)) return std::nullopt;
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::optional<std::u16string> normalize(const UNormalizer2* form, const std::u16string& text) {
  UErrorCode status = U_ZERO_ERROR;
  const auto* in = reinterpret_cast<const UChar*>(text.data());
  const auto size = static_cast<int32_t>(text.size());
  int32_t length = unorm2_normalize(form, in, size, nullptr, 0, &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) return std::nullopt;
  std::u16string out(static_cast<std::size_t>(length), u'\0');
  status = U_ZERO_ERROR;
  unorm2_normalize(form, in, size, reinterpret_cast<UChar*>(out.data()), length, &status);
  if (U_FAILURE(status)) return std::nullopt;
  return out;
}

std::u16string fold_code_points(const std::u16string& text) {
  std::u16string out;
  out.reserve(text.size());
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c = 0;
    U16_NEXT(text.data(), i, length, c);
    c = u_foldCase(c, U_FOLD_CASE_DEFAULT);
    if (U_IS_BMP(c)) {
      out.push_back(static_cast<char16_t>(c));
    } else {
      out.push_back(static_cast<char16_t>(U16_LEAD(c)));
      out.push_back(static_cast<char16_t>(U16_TRAIL(c)));
    }
  }
  return out;
}

std::optional<std::string> to_utf8(const std::u16string& text) {
  std::string out(text.size() * 3, '\0');
  int32_t length = 0;
  UErrorCode status = U_ZERO_ERROR;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &length,
              reinterpret_cast<const UChar*>(text.data()), static_cast<int32_t>(text.size()),
              &status);
  if (U_FAILURE(status)) return std::nullopt;
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::optional<std::string> unicode_fold(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* nfd = unorm2_getNFDInstance(&status);
  const UNormalizer2* nfc = unorm2_getNFCInstance(&status);
  if (U_FAILURE(status)) return std::nullopt;
  auto wide = to_utf16(text);
  if (!wide) return std::nullopt;
  auto decomposed = normalize(nfd, *wide);
  if (!decomposed) return std::nullopt;
  auto composed = normalize(nfc, fold_code_points(*decomposed));
  if (!composed) return std::nullopt;
  return to_utf8(*composed);
}

}  // namespace

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool equal_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool path_under(std::string_view path, std::string_view dir, bool fold_case) {
  if (path.size() < dir.size()) return false;
  if (path.size() > dir.size() && path[dir.size()] != '/') return false;
  std::string_view head = path.substr(0, dir.size());
  return fold_case ? equal_fold(head, dir) : head == dir;
}

std::string fold_name(std::string_view text) {
  if (is_ascii(text)) return ascii_lower(text);
  if (auto folded = unicode_fold(text)) return *folded;
  return ascii_lower(text);
}

}  // namespace hotfix
