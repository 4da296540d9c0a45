#include <catch2/catch.hpp>

#include "manifests/version.h"

using hotfix::Version;

TEST_CASE("Version parses four parts and formats them back") {
  auto v = Version::parse("7.0.6001.22329");
  REQUIRE(v);
  CHECK(v->to_string() == "7.0.6001.22329");
  CHECK(v->parts() == std::array<std::uint16_t, 4>{7, 0, 6001, 22329});
  CHECK(Version::from_ms_ls(v->ms(), v->ls()) == *v);
}

TEST_CASE("Version compares numerically, not as text") {
  CHECK(*Version::parse("7.0.6001.22329") > *Version::parse("7.0.6001.18000"));
  CHECK(*Version::parse("7.0.10.0") > *Version::parse("7.0.9.0"));
  CHECK(*Version::parse("6.0.6001.22329") < *Version::parse("7.0.6001.18000"));
  CHECK(*Version::parse("1.2.3.4") == Version(1, 2, 3, 4));
}

TEST_CASE("Version rejects malformed text") {
  for (const char* bad : {"", "7", "7.0.6001", "7.0.6001.22329.1", "7..0.1", "7.0.6001.65536",
                          "-1.0.0.0", "+1.0.0.0", "1.0.0.a", " 1.0.0.0", "1.0.0.0 ", "1.0.0.",
                          "99999999999999999999.0.0.0"}) {
    INFO(bad);
    CHECK_FALSE(Version::parse(bad));
  }
}

TEST_CASE("Version accepts short forms only when asked") {
  CHECK(Version::parse("6.0.6001", false) == Version(6, 0, 6001, 0));
  CHECK(Version::parse("6", false) == Version(6, 0, 0, 0));
  CHECK_FALSE(Version::parse("6.0.6001", true));
  CHECK(Version::parse("65535.65535.65535.65535") == Version(65535, 65535, 65535, 65535));
}

TEST_CASE("Unversioned files print as Not Applicable") {
  CHECK(hotfix::format_file_version(std::nullopt) == "Not Applicable");
  CHECK(hotfix::format_file_version(Version(7, 0, 6001, 22329)) == "7.0.6001.22329");
}
