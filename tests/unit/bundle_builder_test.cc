// Building all bundles of a hotfix: per architecture, per language, checked before written.
#include <sys/stat.h>
#include <sys/time.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "manifests/bundle_reader.h"
#include "manifests/manifest_json.h"
#include "packager/bundle_builder.h"
#include "tests/support/temp_dir.h"

using namespace hotfix;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr const char* kTimestamp = "2008-12-13T04:27:00Z";

FileEntry text_file(const std::string& name, const std::string& dest, std::size_t size,
                    std::optional<std::string> language = std::nullopt) {
  FileEntry f;
  f.name = name;
  f.destination = dest;
  f.size = size;
  f.timestamp = *Timestamp::parse_iso8601(kTimestamp);
  f.platform = Arch::kNeutral;
  f.language = std::move(language);
  return f;
}

void put(const fs::path& drop, const FileEntry& f, char fill) {
  fs::path p = drop / f.path();
  hotfix::test::write_file(p, std::string(f.size, fill));
  struct timeval tv[2] = {{f.timestamp.unix_seconds(), 0}, {f.timestamp.unix_seconds(), 0}};
  ::utimes(p.c_str(), tv);
}

struct Fixture {
  TempDir dir;
  Manifest m;
  BuildRequest request;
  Fixture() {
    m.id = "KB000002";
    m.title = "two languages";
    m.languages = {"en-US", "de-DE"};
    m.restart = RestartRequirement::kServices;
    m.architectures[Arch::kX86] = {text_file("app.xml", "app", 100),
                                   text_file("strings.txt", "app/en-US", 10, "en-US"),
                                   text_file("strings.txt", "app/de-DE", 12, "de-DE")};
    m.architectures[Arch::kX64] = {text_file("app.xml", "app", 200)};
    hotfix::test::write_file(dir / "hotfix.json", write_manifest(m));
    for (const auto& [arch, files] : m.architectures) {
      for (const FileEntry& f : files)
        put(dir / ("drops/" + std::string(arch_token(arch))), f, 'a');
    }
    PrivateKey key = PrivateKey::generate();
    write_key_pair(key, (dir / "k").string(), false);
    request.manifest_path = (dir / "hotfix.json").string();
    request.drops[Arch::kX86] = (dir / "drops/x86").string();
    request.drops[Arch::kX64] = (dir / "drops/x64").string();
    request.key_path = (dir / "k.key").string();
    request.out_dir = (dir / "out").string();
  }
};

}  // namespace

TEST_CASE("A hotfix with several languages gets one bundle per architecture and language") {
  Fixture fx;
  BuildReport report = build_bundles(fx.request);
  REQUIRE(report.bundles.size() == 4);
  TrustStore trust;
  trust.add_path((fx.dir / "k.pub").string());
  for (const char* name : {"KB000002-x86-en-US.hotfix", "KB000002-x86-de-DE.hotfix",
                           "KB000002-x64-en-US.hotfix", "KB000002-x64-de-DE.hotfix"}) {
    INFO(name);
    REQUIRE(fs::exists(fx.dir / ("out/" + std::string(name))));
  }
  BundleReader de =
      BundleReader::open_verified((fx.dir / "out/KB000002-x86-de-DE.hotfix").string(), trust);
  REQUIRE(de.manifest().bundle->language == "de-DE");
  const auto& files = de.manifest().architectures.at(Arch::kX86);
  REQUIRE(files.size() == 2);  // the neutral file and the German one, not the English one
  CHECK(files[0].path() == "app/app.xml");
  CHECK(files[1].path() == "app/de-DE/strings.txt");
}

TEST_CASE("Building some architectures needs only their drops") {
  Fixture fx;
  fx.request.only = {Arch::kX64};
  fx.request.drops.erase(Arch::kX86);
  BuildReport report = build_bundles(fx.request);
  CHECK(report.bundles.size() == 2);
  CHECK_FALSE(fs::exists(fx.dir / "out/KB000002-x86-en-US.hotfix"));

  fx.request.only = {Arch::kIa64};
  CHECK_THROWS_WITH(build_bundles(fx.request), Catch::Contains("no files for architecture ia64"));
}

TEST_CASE("Mismatches in several drops are all reported, and nothing is written") {
  Fixture fx;
  fs::remove(fx.dir / "drops/x86/app/de-DE/strings.txt");
  hotfix::test::write_file(fx.dir / "drops/x64/app/app.xml", std::string(201, 'a'));
  hotfix::test::write_file(fx.dir / "drops/x64/app/stray.dll", "x");
  try {
    build_bundles(fx.request);
    FAIL("build succeeded");
  } catch (const DropMismatchError& e) {
    REQUIRE(e.issues().size() == 3);  // missing; wrong size; wrong timestamp (rewritten now)
    CHECK(e.issues()[0].where == "x86: app/de-DE/strings.txt");
    CHECK(e.issues()[1].message == "size is 201 bytes, the manifest says 200");
    CHECK(e.issues()[2].message.find("timestamp is") == 0);
    CHECK(e.kind() == ErrorKind::kVerification);
    // Through the base class, as the program prints errors: one line per issue.
    const hotfix::Error& base = e;
    std::vector<std::string> lines = base.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "x86: app/de-DE/strings.txt: " + e.issues()[0].message);
    CHECK(lines[1] == "x64: app/app.xml: size is 201 bytes, the manifest says 200");
  }
  CHECK_FALSE(fs::exists(fx.dir / "out"));
}

TEST_CASE("Files in a drop that the manifest does not name are warned about, not bundled") {
  Fixture fx;
  hotfix::test::write_file(fx.dir / "drops/x64/app/stray.dll", "x");
  BuildReport report = build_bundles(fx.request);
  REQUIRE(report.warnings.size() == 1);
  CHECK(report.warnings[0].where == "x64: app/stray.dll");
}

TEST_CASE("A mode with setuid, setgid or sticky bits is built, with a warning saying so") {
  Fixture fx;
  fx.m.architectures[Arch::kX64][0].mode = 07755;
  hotfix::test::write_file(fx.dir / "hotfix.json", write_manifest(fx.m));
  BuildReport report = build_bundles(fx.request);
  REQUIRE(report.warnings.size() == 1);
  CHECK(report.warnings[0].where == "x64: app/app.xml");
  CHECK(report.warnings[0].message ==
        "mode 7755 sets setuid (it runs as its owner, root, whoever starts it), setgid (it runs "
        "with its group), sticky on every server that installs it; make sure the manifest "
        "means it");
  fx.m.architectures[Arch::kX64][0].mode = 0755;
  hotfix::test::write_file(fx.dir / "hotfix.json", write_manifest(fx.m));
  fs::remove_all(fx.dir / "out");
  CHECK(build_bundles(fx.request).warnings.empty());
}

TEST_CASE("A versioned entry whose file has no version resource is a mismatch") {
  Fixture fx;
  fx.m.architectures[Arch::kX64][0].version = Version(7, 0, 6001, 22329);
  fx.m.architectures[Arch::kX64][0].platform = Arch::kX64;
  hotfix::test::write_file(fx.dir / "hotfix.json", write_manifest(fx.m));
  try {
    build_bundles(fx.request);
    FAIL("build succeeded");
  } catch (const DropMismatchError& e) {
    REQUIRE(e.issues().size() == 2);
    CHECK(e.issues()[0].message ==
          "has no version resource, the manifest says version 7.0.6001.22329");
    CHECK(e.issues()[1].message == "platform is data (no machine code), the manifest says x64");
  }
}
