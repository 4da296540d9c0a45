#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "manifests/errors.h"
#include "samples/standins/code_filler.h"
#include "samples/standins/sample_root.h"
#include "samples/standins/standin_files.h"
#include "samples/standins/text_standin.h"

using hotfix::Arch;
using hotfix::FileEntry;
using hotfix::Timestamp;
using hotfix::Version;
using namespace hotfix::standins;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// ASCII text as the UTF-16LE a version resource stores.
std::string utf16(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

Timestamp at(const char* iso) { return *Timestamp::parse_iso8601(iso); }

FileEntry entry(const char* name, std::optional<Version> version, std::uint64_t size,
                const char* timestamp, Arch platform) {
  FileEntry e;
  e.name = name;
  e.destination = "Windows/System32/inetsrv";
  e.version = version;
  e.size = size;
  e.timestamp = at(timestamp);
  e.platform = platform;
  return e;
}

}  // namespace

TEST_CASE("Text stand-ins have exactly the requested size, down to zero bytes") {
  for (const char* name : {"Redirection.config", "Iis_schema.xml", "readme.txt"}) {
    for (std::uint64_t size = 0; size <= 700; ++size) {
      INFO(name << " " << size);
      REQUIRE(text_standin(name, size, "hotfix sample", 7).size() == size);
    }
    for (std::uint64_t size : {3654, 7989, 38786, 77747}) {
      REQUIRE(text_standin(name, size, "hotfix sample", 7).size() == size);
    }
  }
}

TEST_CASE("XML stand-ins are declared, name the stand-in and close their root element") {
  // 490 bytes: the article's Redirection.config, the smallest file of the hotfix.
  const std::string config = text_standin("Redirection.config", 490, "hotfix sample", 1);
  CHECK(config.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0) == 0);
  CHECK(config.find("Stand-in for Redirection.config") != std::string::npos);
  CHECK(count(config, "<configuration>") == 1);
  CHECK(config.size() >= 17);
  CHECK(config.substr(config.size() - 17) == "</configuration>\n");
  CHECK(count(config, "<add ") >= 3);
  CHECK(count(config, "<add ") == count(config, " />"));
  CHECK(count(config, "<!--") == count(config, "-->"));

  const std::string schema = text_standin("Iis_schema.xml", 77747, "hotfix sample", 1);
  CHECK(schema.substr(schema.size() - 16) == "</configSchema>\n");
  CHECK(count(schema, "<add ") == count(schema, " />"));
  CHECK(count(schema, "<!--") == count(schema, "-->"));

  // Every size from the smallest closed frame upwards stays closed.
  for (std::uint64_t size = 150; size <= 700; ++size) {
    const std::string text = text_standin("Redirection.config", size, "hotfix sample", 3);
    INFO(size);
    CHECK(text.substr(text.size() - 17) == "</configuration>\n");
    CHECK(count(text, "<!--") == count(text, "-->"));
  }
}

TEST_CASE("XML stand-ins too small for the full frame keep a valid prefix") {
  const std::string tiny = text_standin("Redirection.config", 60, "hotfix sample", 1);
  CHECK(tiny.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration />", 0) == 0);
  const std::string smaller = text_standin("Redirection.config", 20, "hotfix sample", 1);
  CHECK(smaller == std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").substr(0, 20));
}

TEST_CASE("Text stand-ins are deterministic, seed and edition change them") {
  const std::string a = text_standin("Appcmd.xml", 3654, "hotfix sample", 11);
  CHECK(a == text_standin("Appcmd.xml", 3654, "hotfix sample", 11));
  CHECK(a != text_standin("Appcmd.xml", 3654, "hotfix sample", 12));
  CHECK(a != text_standin("Appcmd.xml", 3654, "IIS 7.0 RTM", 11));
  const std::string plain = text_standin("notes.txt", 300, "hotfix sample", 11);
  CHECK(plain.rfind("; Stand-in for notes.txt", 0) == 0);
  CHECK(plain.find('=') != std::string::npos);
}

TEST_CASE("Code-like filler is deterministic and neither random nor uniform") {
  const std::string a = code_like_bytes(filler_seed("Appobj.dll"), 65536);
  REQUIRE(a.size() == 65536);
  CHECK(a == code_like_bytes(filler_seed("Appobj.dll"), 65536));
  CHECK(a != code_like_bytes(filler_seed("Appcmd.exe"), 65536));
  CHECK(code_like_bytes(1, 100) == code_like_bytes(1, 1000).substr(0, 100));
  // Byte frequencies: code has favourite opcodes, but uses a good part of the byte range.
  std::array<std::size_t, 256> histogram{};
  for (unsigned char c : a) ++histogram[c];
  std::size_t used = 0, top = 0;
  for (std::size_t n : histogram) {
    used += n > 0;
    top = std::max(top, n);
  }
  CHECK(used > 128);
  CHECK(top > 65536 / 64);
  CHECK(top < 65536 / 4);
}

TEST_CASE("Code-like filler copies only from bytes it already wrote, at every size") {
  // A back-reference once reached before the start of a buffer just over 4 KiB long
  // (AddressSanitizer caught it on 8 KiB stand-ins). Whatever was read there made the output
  // depend on memory, not on the seed: every shorter output must be a prefix of a longer one.
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const std::string longer = code_like_bytes(seed, 16384);
    REQUIRE(code_like_bytes(seed, 8192) == longer.substr(0, 8192));
    REQUIRE(code_like_bytes(seed, 4200) == longer.substr(0, 4200));
  }
}

TEST_CASE("Installed names are lower case except IIS's own spellings") {
  CHECK(installed_name("Appcmd.exe") == "appcmd.exe");
  CHECK(installed_name("Admwprox.dll") == "admwprox.dll");
  CHECK(installed_name("Appcmd.xml") == "appcmd.xml");
  CHECK(installed_name("Applicationhost.config") == "applicationHost.config");
  CHECK(installed_name("Redirection.config") == "redirection.config");
  CHECK(installed_name("Iis_schema.xml") == "IIS_schema.xml");
  CHECK(installed_name("Aspnet_schema.xml") == "ASPNET_schema.xml");
  CHECK(installed_name("Fx_schema.xml") == "FX_schema.xml");
  CHECK(installed_name("Rscaext.xml") == "rscaext.xml");
  CHECK(installed_name("Rscaext.dll") == "rscaext.dll");
}

TEST_CASE("RTM versions are revision 18000 of the same build and never newer") {
  CHECK(rtm_version(Version(7, 0, 6001, 22329)) == Version(7, 0, 6001, 18000));
  CHECK(rtm_version(Version(6, 0, 6001, 22329)) == Version(6, 0, 6001, 18000));
  CHECK(rtm_version(Version(7, 0, 6001, 17000)) == Version(7, 0, 6001, 17000));
  CHECK(rtm_version(Version(7, 0, 6001, 18000)) == Version(7, 0, 6001, 18000));
}

TEST_CASE("RTM dates keep the hotfix file's time of day on 2008-01-19") {
  CHECK(rtm_binary_time(at("2008-12-13T04:27:00Z")) == at("2008-01-19T04:27:00Z"));
  CHECK(rtm_binary_time(at("2008-12-13T23:59:00Z")) == at("2008-01-19T23:59:00Z"));
  CHECK(kRtmTextTime == at("2008-01-19T07:00:00Z"));
}

TEST_CASE("RTM binary sizes are a few KiB smaller, whole 512-byte units, never below minimum") {
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    for (std::uint64_t size : {10752, 51712, 51713, 154112}) {
      const std::uint64_t rtm = rtm_binary_size(size, 2048, seed);
      INFO(size << " " << seed);
      CHECK(rtm % 512 == 0);
      CHECK(rtm + 2048 <= size);
      CHECK(rtm + 4096 + 512 > size);
    }
  }
  CHECK(rtm_binary_size(3000, 2048, 0) == 2048);
  CHECK(rtm_binary_size(0, 2048, 0) == 2048);
}

TEST_CASE("The sample root's system facts are Vista SP1 on x86 and Server 2008 otherwise") {
  auto x86 = nlohmann::json::parse(system_facts_json(Arch::kX86));
  CHECK(x86["family"] == "windows");
  CHECK(x86["product"] == "Windows Vista");
  CHECK(x86["version"] == "6.0.6001");
  CHECK(x86["service_pack"] == 1);
  CHECK(x86["architecture"] == "x86");
  CHECK(x86["hotfixes"] == nlohmann::json::array());
  auto ia64 = nlohmann::json::parse(system_facts_json(Arch::kIa64));
  CHECK(ia64["product"] == "Windows Server 2008");
  CHECK(ia64["architecture"] == "ia64");
  CHECK(system_facts_standin(Arch::kX64).path == "etc/hotfix/system.json");
}

TEST_CASE("Drop stand-ins have the entry's size and date, roots follow the RTM rules") {
  const FileEntry dll =
      entry("Admwprox.dll", Version(7, 0, 6001, 22329), 51712, "2008-12-13T04:27:00Z", Arch::kX86);
  const StandinFile drop = drop_standin(dll, "x");
  CHECK(drop.path == "Windows/System32/inetsrv/Admwprox.dll");
  CHECK(drop.content.size() == 51712);
  CHECK(drop.content.rfind("MZ", 0) == 0);
  CHECK(drop.mtime == dll.timestamp);
  const StandinFile root = root_standin(dll, "x");
  CHECK(root.path == "Windows/System32/inetsrv/admwprox.dll");
  CHECK(root.content.size() < 51712);
  CHECK(root.content.size() % 512 == 0);
  CHECK(root.mtime == at("2008-01-19T04:27:00Z"));
  CHECK(root.content.find(utf16("7.0.6001.18000")) != std::string::npos);  // FileVersion
  CHECK(root.content.find(utf16("7.0.6001.22329")) == std::string::npos);
  CHECK(drop.content.find(utf16("7.0.6001.22329")) != std::string::npos);

  // A text file the hotfix ships as RTM had it: the root holds the same bytes and date.
  const FileEntry old_config =
      entry("Redirection.config", std::nullopt, 490, "2007-12-18T21:00:00Z", Arch::kNeutral);
  const StandinFile old_drop = drop_standin(old_config, "x");
  const StandinFile old_root = root_standin(old_config, "x");
  CHECK(old_drop.content.size() == 490);
  CHECK(old_root.path == "Windows/System32/inetsrv/redirection.config");
  CHECK(old_root.content == old_drop.content);
  CHECK(old_root.mtime == old_config.timestamp);

  // A text file the hotfix changed: the root holds an older, different, smaller text.
  const FileEntry new_schema =
      entry("Iis_schema.xml", std::nullopt, 77747, "2008-09-09T22:22:00Z", Arch::kNeutral);
  const StandinFile new_root = root_standin(new_schema, "x");
  CHECK(new_root.path == "Windows/System32/inetsrv/IIS_schema.xml");
  CHECK(new_root.content != drop_standin(new_schema, "x").content);
  CHECK(new_root.content.size() < 77747);
  CHECK(new_root.content.size() > 77747 / 2);
  CHECK(new_root.mtime == kRtmTextTime);
}

TEST_CASE("Equal entries in different bundles give equal bytes") {
  FileEntry native =
      entry("Iisres.dll", Version(7, 0, 6001, 22329), 193024, "2008-12-13T02:51:00Z", Arch::kX86);
  FileEntry wow64 = native;
  wow64.destination = "Windows/SysWOW64/inetsrv";
  CHECK(drop_standin(native, "x").content == drop_standin(wow64, "x").content);
  FileEntry x64 = native;
  x64.platform = Arch::kX64;
  CHECK(drop_standin(native, "x").content != drop_standin(x64, "x").content);
}

TEST_CASE("A versioned entry too small for a PE image is an error naming the entry") {
  const FileEntry tiny =
      entry("Tiny.dll", Version(7, 0, 6001, 22329), 1500, "2008-12-13T04:27:00Z", Arch::kX64);
  try {
    (void)drop_standin(tiny, "architectures.x64.files[3] (Tiny.dll)");
    FAIL("accepted a 1500-byte PE image");
  } catch (const hotfix::Error& e) {
    CHECK(e.kind() == hotfix::ErrorKind::kBadInput);
    CHECK(e.where() == "architectures.x64.files[3] (Tiny.dll)");
    CHECK(e.message().find("too small") != std::string::npos);
  }
  CHECK_THROWS_AS(check_drop_standin(tiny, "x"), hotfix::Error);
  FileEntry enough = tiny;
  enough.size = 2048;
  CHECK_NOTHROW(check_drop_standin(enough, "x"));
  CHECK(drop_standin(enough, "x").content.size() == 2048);
  FileEntry huge = tiny;
  huge.size = kMaxStandinSize + 1;
  CHECK_THROWS_AS(check_drop_standin(huge, "x"), hotfix::Error);
}
