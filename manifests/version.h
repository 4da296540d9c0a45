// A four-part file version as in a PE VS_FIXEDFILEINFO: major.minor.build.revision,
// each 0..65535, compared numerically part by part.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hotfix {

class Version {
 public:
  constexpr Version() = default;
  constexpr Version(std::uint16_t a, std::uint16_t b, std::uint16_t c, std::uint16_t d)
      : parts_{a, b, c, d} {}

  // From VS_FIXEDFILEINFO's dwFileVersionMS / dwFileVersionLS.
  static Version from_ms_ls(std::uint32_t ms, std::uint32_t ls);

  // Parses "7.0.6001.22329". With require_four_parts false, "6.0.6001" is 6.0.6001.0.
  // Returns nullopt for anything else: empty parts, signs, spaces, values over 65535.
  static std::optional<Version> parse(std::string_view text, bool require_four_parts = true);

  std::string to_string() const;  // always four parts
  const std::array<std::uint16_t, 4>& parts() const { return parts_; }
  std::uint32_t ms() const { return (std::uint32_t{parts_[0]} << 16) | parts_[1]; }
  std::uint32_t ls() const { return (std::uint32_t{parts_[2]} << 16) | parts_[3]; }

  friend constexpr auto operator<=>(const Version&, const Version&) = default;

 private:
  std::array<std::uint16_t, 4> parts_{};
};

// What the article prints for a file without a version resource.
inline constexpr std::string_view kNotApplicableText = "Not Applicable";

// "7.0.6001.22329", or "Not Applicable" for an unversioned file.
std::string format_file_version(const std::optional<Version>& version);

}  // namespace hotfix
