// Which boot a restart need belongs to, and whether the machine has started since.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "installer/boot_record.h"
#include "installer/root.h"
#include "manifests/errors.h"
#include "tests/support/temp_dir.h"

using hotfix::BootProbe;
using hotfix::BootSince;
using hotfix::Root;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kId1 = "0f3c2b9e-6a7d-4c1e-9b2a-5d8e7f6a1b2c";
const std::string kId2 = "7d1e4a2b-3c5f-4e6a-8b9c-0d1e2f3a4b5c";

BootProbe probe(std::string id, std::int64_t booted = 0) {
  BootProbe p;
  p.boot_id = [id] { return std::optional<std::string>(id); };
  p.boot_time = [booted] { return std::optional<std::int64_t>(booted); };
  return p;
}

}  // namespace

TEST_CASE("a live root knows its boot by the kernel's boot id") {
  TempDir dir;
  Root root = Root::open(dir.path().string());
  std::string boot = hotfix::new_boot_record(true, probe(kId1));
  CHECK(boot == "boot-id " + kId1);
  CHECK(hotfix::is_boot_record(boot));
  CHECK(hotfix::started_since(root, true, boot, 100, probe(kId1)) == BootSince::kSameBoot);
  CHECK(hotfix::started_since(root, true, boot, 100, probe(kId2)) == BootSince::kStarted);
  // Read on another root than the one it was recorded on: no boot id applies.
  CHECK(hotfix::started_since(root, false, boot, 100, probe(kId2)) == BootSince::kUnknown);
  // A kernel that says nothing sensible: a marker instead.
  std::string fallback = hotfix::new_boot_record(true, probe("not a boot id"));
  CHECK(fallback.rfind("marker ", 0) == 0);
}

TEST_CASE("an image knows its boot by a marker under run/, which a restart empties") {
  TempDir dir;
  Root root = Root::open(dir.path().string());
  auto disk = hotfix::make_root_disk(Root::open(dir.path().string()));
  std::string boot = hotfix::new_boot_record(false);
  REQUIRE(hotfix::is_boot_record(boot));
  REQUIRE(boot.size() == 7 + 32);
  CHECK(hotfix::new_boot_record(false) != boot);  // a new token each time
  // Not yet written: the need is not committed, so the marker does not say it.
  CHECK(hotfix::started_since(root, false, boot, 100) == BootSince::kStarted);
  hotfix::write_boot_marker(*disk, boot);
  const fs::path marker = dir.path() / "run/reboot-required.hotfix-boot";
  REQUIRE(fs::is_regular_file(marker));
  CHECK(hotfix::started_since(root, false, boot, 100) == BootSince::kSameBoot);
  fs::remove(marker);
  CHECK(hotfix::started_since(root, false, boot, 100) == BootSince::kStarted);
  REQUIRE(::mkfifo(marker.c_str(), 0644) == 0);
  CHECK_THROWS_AS(hotfix::started_since(root, false, boot, 100), hotfix::UnsafePathError);
}

TEST_CASE("a need recorded without a boot is judged by the boot time, on a live root only") {
  TempDir dir;
  Root root = Root::open(dir.path().string());
  CHECK(hotfix::started_since(root, true, "", 1000, probe(kId1, 2000)) == BootSince::kStarted);
  CHECK(hotfix::started_since(root, true, "", 3000, probe(kId1, 2000)) == BootSince::kSameBoot);
  CHECK(hotfix::started_since(root, false, "", 1000, probe(kId1, 2000)) == BootSince::kUnknown);
  CHECK(hotfix::started_since(root, true, "", std::nullopt, probe(kId1, 2000)) ==
        BootSince::kUnknown);
}

TEST_CASE("only the two forms of boot record are taken from the database") {
  CHECK(hotfix::is_boot_record("boot-id " + kId1));
  CHECK(hotfix::is_boot_record("marker 0123456789abcdef0123456789abcdef"));
  CHECK_FALSE(hotfix::is_boot_record(""));
  CHECK_FALSE(hotfix::is_boot_record("marker 0123"));
  CHECK_FALSE(hotfix::is_boot_record("marker 0123456789ABCDEF0123456789ABCDEF"));
  CHECK_FALSE(hotfix::is_boot_record("boot-id $(reboot)"));
  CHECK_FALSE(hotfix::is_boot_record("boot-id " + kId1 + "\n"));
}
