#include "manifests/timestamp.h"

#include <cstdio>
#include <ctime>

namespace hotfix {

namespace {

bool digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

std::tm utc(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

std::optional<Timestamp> Timestamp::parse_iso8601(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SSZ
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z') {
    return std::nullopt;
  }
  std::string_view y = s.substr(0, 4), mo = s.substr(5, 2), d = s.substr(8, 2), h = s.substr(11, 2),
                   mi = s.substr(14, 2), se = s.substr(17, 2);
  if (!digits(y) || !digits(mo) || !digits(d) || !digits(h) || !digits(mi) || !digits(se)) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = number(y) - 1900;
  tm.tm_mon = number(mo) - 1;
  tm.tm_mday = number(d);
  tm.tm_hour = number(h);
  tm.tm_min = number(mi);
  tm.tm_sec = number(se);
  if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 59) {
    return std::nullopt;
  }
  std::tm check = tm;
  std::time_t t = timegm(&check);
  // timegm normalises 31-Feb into March: a changed day means the date did not exist.
  if (check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon) return std::nullopt;
  return Timestamp(static_cast<std::int64_t>(t));
}

std::string Timestamp::iso8601() const {
  std::tm tm = utc(seconds_);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string Timestamp::kb_date() const {
  std::tm tm = utc(seconds_);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d-%s-%04d", tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900);
  return buf;
}

std::string Timestamp::kb_time() const {
  std::tm tm = utc(seconds_);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d:%02d", tm.tm_hour, tm.tm_min);
  return buf;
}

std::string Timestamp::local_display() const {
  std::time_t t = static_cast<std::time_t>(seconds_);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M %Z", &tm);
  return buf;
}

namespace {

std::tm local_tm(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

// strftime's %z is "+0100": ISO 8601 and RFC 3339 write "+01:00".
std::string offset_text(const std::tm& tm) {
  long offset = tm.tm_gmtoff;
  char sign = offset < 0 ? '-' : '+';
  offset = offset < 0 ? -offset : offset;
  char buf[48];  // room for any long, though offsets stay within a day
  std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, offset / 3600, offset % 3600 / 60);
  return buf;
}

}  // namespace

std::string Timestamp::local_iso8601() const {
  std::tm tm = local_tm(seconds_);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf + offset_text(tm);
}

std::string Timestamp::local_zone() const {
  std::tm tm = local_tm(seconds_);
  char zone[32];
  std::strftime(zone, sizeof zone, "%Z", &tm);
  return std::string(zone) + " (UTC" + offset_text(tm) + ")";
}

}  // namespace hotfix
