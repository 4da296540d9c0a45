// A point in time in UTC, to the second, as the article lists file dates.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hotfix {

class Timestamp {
 public:
  constexpr Timestamp() = default;
  constexpr explicit Timestamp(std::int64_t unix_seconds) : seconds_(unix_seconds) {}

  // Strict ISO 8601 in UTC: "2008-12-13T04:27:00Z". Rejects other zones and invalid dates.
  static std::optional<Timestamp> parse_iso8601(std::string_view text);

  std::int64_t unix_seconds() const { return seconds_; }
  std::string iso8601() const;  // "2008-12-13T04:27:00Z"
  std::string kb_date() const;  // "13-Dec-2008"
  std::string kb_time() const;  // "04:27"
  // The same instant in the machine's local time zone: "2008-12-13 05:27 CET".
  std::string local_display() const;
  // In local time with its UTC offset, to the second: "2008-12-13T05:27:00+01:00".
  std::string local_iso8601() const;
  // The local zone at this instant with its offset: "CET (UTC+01:00)", "UTC (UTC+00:00)".
  std::string local_zone() const;

  // The article lists times to the minute: two timestamps match if they share the minute.
  bool same_minute(Timestamp other) const { return seconds_ / 60 == other.seconds_ / 60; }

  friend constexpr auto operator<=>(const Timestamp&, const Timestamp&) = default;

 private:
  std::int64_t seconds_ = 0;
};

}  // namespace hotfix
