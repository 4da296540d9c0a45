#include "manifests/version.h"

#include <charconv>

namespace hotfix {

Version Version::from_ms_ls(std::uint32_t ms, std::uint32_t ls) {
  return Version(static_cast<std::uint16_t>(ms >> 16), static_cast<std::uint16_t>(ms & 0xffff),
                 static_cast<std::uint16_t>(ls >> 16), static_cast<std::uint16_t>(ls & 0xffff));
}

std::optional<Version> Version::parse(std::string_view text, bool require_four_parts) {
  std::array<std::uint16_t, 4> parts{};
  std::size_t count = 0;
  std::size_t pos = 0;
  while (true) {
    if (count == 4) return std::nullopt;
    std::size_t end = text.find('.', pos);
    std::string_view part = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (part.empty() || part.size() > 5) return std::nullopt;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
    }
    unsigned value = 0;
    std::from_chars(part.data(), part.data() + part.size(), value);
    if (value > 0xffff) return std::nullopt;
    parts[count++] = static_cast<std::uint16_t>(value);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  if (require_four_parts && count != 4) return std::nullopt;
  return Version(parts[0], parts[1], parts[2], parts[3]);
}

std::string Version::to_string() const {
  return std::to_string(parts_[0]) + "." + std::to_string(parts_[1]) + "." +
         std::to_string(parts_[2]) + "." + std::to_string(parts_[3]);
}

std::string format_file_version(const std::optional<Version>& version) {
  return version ? version->to_string() : std::string(kNotApplicableText);
}

}  // namespace hotfix
