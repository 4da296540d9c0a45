#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "installer/target_facts.h"
#include "manifests/errors.h"
#include "manifests/manifest_json.h"
#include "samples/standins/sample_root.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using hotfix::Arch;
using hotfix::ErrorKind;
using hotfix::TargetFacts;
using hotfix::Version;
using hotfix::test::TempDir;
using hotfix::test::write_file;

namespace fs = std::filesystem;

namespace {

#if defined(__x86_64__)
constexpr Arch kHostArch = Arch::kX64;
#elif defined(__aarch64__)
constexpr Arch kHostArch = Arch::kArm64;
#elif defined(__i386__)
constexpr Arch kHostArch = Arch::kX86;
#elif defined(__ia64__)
constexpr Arch kHostArch = Arch::kIa64;
#else
constexpr Arch kHostArch = Arch::kNeutral;
#endif

// An architecture that is not this machine's, so that a fact read from a file cannot be
// mistaken for one read from the running kernel.
constexpr Arch kForeignArch = kHostArch == Arch::kArm64 ? Arch::kX64 : Arch::kArm64;

unsigned elf_machine(Arch arch) {
  switch (arch) {
    case Arch::kX86:
      return 3;
    case Arch::kX64:
      return 62;
    case Arch::kIa64:
      return 50;
    case Arch::kArm64:
      return 183;
    case Arch::kNeutral:
      break;
  }
  return 243;  // EM_RISCV: a machine no bundle is built for
}

// The 64-byte header of a little-endian ELF64 executable for `machine`.
std::string elf_header(unsigned machine) {
  std::string bytes(64, '\0');
  bytes[0] = 0x7f;
  bytes[1] = 'E';
  bytes[2] = 'L';
  bytes[3] = 'F';
  bytes[4] = 2;   // ELFCLASS64
  bytes[5] = 1;   // little endian
  bytes[6] = 1;   // EV_CURRENT
  bytes[16] = 2;  // ET_EXEC
  bytes[18] = static_cast<char>(machine & 0xff);
  bytes[19] = static_cast<char>(machine >> 8);
  return bytes;
}

std::string facts_path(const TempDir& root) { return (root / "etc/hotfix/system.json").string(); }

TargetFacts load(const TempDir& root) { return hotfix::load_target_facts(root.path().string()); }

// Loads a root whose system.json is `json` and returns the error it must raise.
hotfix::Error load_error(const std::string& json) {
  TempDir root;
  write_file(root / "etc/hotfix/system.json", json);
  try {
    load(root);
  } catch (const hotfix::Error& e) {
    CHECK(e.kind() == ErrorKind::kBadInput);
    CHECK(e.where() == facts_path(root));
    return e;
  }
  FAIL("no error for " << json);
  throw std::logic_error("unreachable");
}

// system.json with one field replaced (or removed, when `value` is empty).
std::string facts_with(const std::string& field, const std::string& value) {
  std::vector<std::pair<std::string, std::string>> fields{
      {"family", "\"windows\""},   {"product", "\"Windows Server 2008\""},
      {"version", "\"6.0.6001\""}, {"service_pack", "1"},
      {"architecture", "\"x64\""}, {"hotfixes", "[]"}};
  bool replaced = false;
  std::string out = "{";
  for (auto& [name, text] : fields) {
    if (name == field) {
      replaced = true;
      if (value.empty()) continue;
      text = value;
    }
    if (out.size() > 1) out += ", ";
    out += "\"" + name + "\": " + text;
  }
  if (!replaced) out += ", \"" + field + "\": " + value;
  return out + "}";
}

}  // namespace

// ---------------------------------------------------------------------------
// system.json

TEST_CASE("system.json as the sample roots write it is read back for each architecture") {
  for (Arch arch : {Arch::kX86, Arch::kX64, Arch::kIa64}) {
    TempDir root;
    write_file(root / "etc/hotfix/system.json", hotfix::standins::system_facts_json(arch));
    TargetFacts facts = load(root);
    INFO(hotfix::arch_token(arch));
    CHECK(facts.family == "windows");
    CHECK(facts.windows_paths());
    CHECK(facts.product == (arch == Arch::kX86 ? "Windows Vista" : "Windows Server 2008"));
    CHECK(facts.version == Version(6, 0, 6001, 0));
    CHECK(facts.service_pack == 1);
    CHECK(facts.architecture == arch);
    CHECK(facts.hotfixes.empty());
    CHECK(facts.source == facts_path(root));
  }
}

TEST_CASE("The sample roots make-standins writes load as their system.json declares") {
  TempDir out;
  hotfix::test::RunResult r = hotfix::test::run(
      {hotfix::test::make_standins_path(), "--manifest",
       hotfix::test::source_path("samples/KB967131/hotfix.json"), "--out", out.path().string()});
  REQUIRE(r.exit_code == 0);
  for (Arch arch : {Arch::kX86, Arch::kX64, Arch::kIa64}) {
    const fs::path root = out / ("roots/" + std::string(hotfix::arch_token(arch)));
    TargetFacts facts = hotfix::load_target_facts(root.string());
    INFO(root);
    CHECK(facts.architecture == arch);
    CHECK(hotfix::describe_target(facts) ==
          (arch == Arch::kX86 ? "Windows Vista SP1" : "Windows Server 2008 SP1"));
    CHECK(facts.source == (root / "etc/hotfix/system.json").string());
  }
}

TEST_CASE("system.json needs only family, product and architecture") {
  TempDir root;
  write_file(root / "etc/hotfix/system.json",
             R"({"family": "linux", "product": "Appliance OS", "architecture": "arm64"})");
  TargetFacts facts = load(root);
  CHECK(facts.family == "linux");
  CHECK_FALSE(facts.windows_paths());
  CHECK(facts.product == "Appliance OS");
  CHECK_FALSE(facts.version);
  CHECK(facts.service_pack == 0);
  CHECK(facts.architecture == Arch::kArm64);
  CHECK(facts.hotfixes.empty());
}

TEST_CASE("system.json lists hotfixes installed by other means, and a null version") {
  TempDir root;
  write_file(root / "etc/hotfix/system.json", facts_with("version", "null"));
  CHECK_FALSE(load(root).version);

  write_file(root / "etc/hotfix/system.json",
             facts_with("hotfixes", R"(["KB948609", "KB955839"])"));
  CHECK(load(root).hotfixes == std::vector<std::string>{"KB948609", "KB955839"});

  write_file(root / "etc/hotfix/system.json", facts_with("os_id", R"("debian")"));
  CHECK(load(root).os_id == "debian");
}

TEST_CASE("system.json: each bad field is refused, naming the field") {
  struct Case {
    std::string field;
    std::string value;  // empty: the field is removed
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases{
      {"edition", "\"Enterprise\"", {"edition: unknown field"}},
      {"family", "", {"family: missing"}},
      {"family", "\"Windows\"", {"family: \"Windows\" is not a known family"}},
      {"family", "7", {"family: expected \"windows\" or \"linux\", found number 7"}},
      {"product", "", {"product: missing"}},
      {"product", "\"\"", {"product: is empty"}},
      {"product", "[\"Windows\"]", {"product: expected the product name", "found an array"}},
      {"product", "\"" + std::string(300, 'x') + "\"", {"product: is 300 bytes long"}},
      {"version", "\"6.0.x\"", {"version: \"6.0.x\" is not a version"}},
      {"version", "\"6.0.6001.1.2\"", {"version: \"6.0.6001.1.2\" is not a version"}},
      {"version", "6", {"version: expected a version", "found number 6"}},
      {"service_pack", "-1", {"service_pack: -1 is negative"}},
      {"service_pack", "1.5", {"service_pack: 1.5 is not an integer"}},
      {"service_pack", "\"1\"", {"service_pack: expected a service pack number 0-255"}},
      {"service_pack", "256", {"service_pack: 256 is too large"}},
      {"architecture", "", {"architecture: missing"}},
      {"architecture", "\"sparc\"", {"architecture: \"sparc\" is not an architecture"}},
      {"architecture", "\"neutral\"", {"architecture: \"neutral\" is not an architecture"}},
      {"architecture", "\"IA-64\"", {"architecture: \"IA-64\" is not an architecture"}},
      {"architecture", "64", {"architecture: expected one of x86, x64, ia64, arm64"}},
      {"hotfixes", "\"KB1\"", {"hotfixes: expected an array of hotfix ids"}},
      {"hotfixes", "[1]", {"hotfixes[0]: expected a hotfix id", "found number 1"}},
      {"hotfixes", "[\"KB1\", \"bad id!\"]", {"hotfixes[1]: \"bad id!\" is not a hotfix id"}},
      {"hotfixes", "[\"KB1\", \"kb1\"]", {"hotfixes[1]: \"kb1\" is listed twice"}},
      {"os_id", "\"Debian\"", {"os_id: \"Debian\" is not an os-release ID"}},
      {"os_id", "12", {"os_id: expected an os-release ID"}},
  };
  for (const Case& c : cases) {
    const std::string json = facts_with(c.field, c.value);
    INFO(json);
    hotfix::Error e = load_error(json);
    for (const std::string& part : c.expect) CHECK_THAT(e.message(), Contains(part));
  }
}

TEST_CASE("system.json: every problem is reported, not just the first") {
  hotfix::Error e = load_error(R"({"family": "bsd", "product": "X", "architecture": "mips",
                                   "colour": "blue"})");
  CHECK_THAT(e.message(), Contains("colour: unknown field"));
  CHECK_THAT(e.message(), Contains("family: \"bsd\""));
  CHECK_THAT(e.message(), Contains("architecture: \"mips\""));
}

TEST_CASE("system.json: not an object, not JSON, empty, duplicate keys, too large") {
  CHECK_THAT(load_error("[]").message(), Contains("expected an object"));
  CHECK_THAT(load_error("{\"family\": ").message(),
             StartsWith("invalid JSON at line 1, column 12"));
  CHECK_THAT(load_error("").message(), StartsWith("invalid JSON at line 1, column 1"));
  CHECK_THAT(load_error(R"({"family": "linux", "family": "linux", "product": "p",
                            "architecture": "x64"})")
                 .message(),
             Contains("family: duplicate key \"family\""));
  std::string big =
      facts_with("product", "\"" + std::string(hotfix::kMaxSystemFactsBytes, 'x') + "\"");
  CHECK_THAT(load_error(big).message(), Contains("larger than 1048576 bytes"));
  // Exactly at the limit is read.
  std::string padded = facts_with("family", "\"windows\"");
  padded.insert(1, hotfix::kMaxSystemFactsBytes - padded.size(), ' ');
  REQUIRE(padded.size() == hotfix::kMaxSystemFactsBytes);
  TempDir root;
  write_file(root / "etc/hotfix/system.json", padded);
  CHECK(load(root).product == "Windows Server 2008");
}

TEST_CASE("system.json that is a directory is refused") {
  TempDir root;
  fs::create_directories(root / "etc/hotfix/system.json");
  try {
    load(root);
    FAIL("no error");
  } catch (const hotfix::Error& e) {
    CHECK(e.kind() == ErrorKind::kBadInput);
    CHECK(e.where() == facts_path(root));
    CHECK_THAT(e.message(), Contains("not a regular file"));
  }
}

TEST_CASE("An absolute symbolic link to system.json is followed inside the root") {
  TempDir root;
  write_file(root / "srv/facts.json",
             R"({"family": "windows", "product": "Windows Vista", "architecture": "x86"})");
  fs::create_directories(root / "etc/hotfix");
  fs::create_symlink("/srv/facts.json", root / "etc/hotfix/system.json");
  CHECK(load(root).product == "Windows Vista");
  // A link that leads outside the root by ".." stays inside it, as under chroot.
  fs::remove(root / "etc/hotfix/system.json");
  fs::create_symlink("../../../../../../../../srv/facts.json", root / "etc/hotfix/system.json");
  CHECK(load(root).product == "Windows Vista");
}

TEST_CASE("A root that does not exist or is not a directory is refused") {
  TempDir dir;
  for (const fs::path& bad : {dir / "missing", dir / "file"}) {
    if (bad.filename() == "file") write_file(bad, "x");
    try {
      hotfix::load_target_facts(bad.string());
      FAIL("no error for " << bad);
    } catch (const hotfix::Error& e) {
      CHECK(e.kind() == ErrorKind::kBadInput);
      CHECK(e.where() == bad.string());
      CHECK_THAT(e.message(),
                 Contains(bad.filename() == "file" ? "is not a directory" : "does not exist"));
    }
  }
}

// ---------------------------------------------------------------------------
// os-release

TEST_CASE("os-release: plain, double-quoted and single-quoted values") {
  auto values = hotfix::parse_os_release(
      "NAME=Debian\n"
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
      "VERSION='12 (bookworm)'\n"
      "ID=debian\n");
  CHECK(values.size() == 4);
  CHECK(values["NAME"] == "Debian");
  CHECK(values["PRETTY_NAME"] == "Debian GNU/Linux 12 (bookworm)");
  CHECK(values["VERSION"] == "12 (bookworm)");
  CHECK(values["ID"] == "debian");
}

TEST_CASE("os-release: escapes follow the shell") {
  auto values = hotfix::parse_os_release(
      R"(A="say \"hi\" for \$5 \`x\` \\ done")"
      "\n"
      R"(B="a\nb")"
      "\n"  // inside double quotes, \n is not an escape
      R"(C=one\ two\"three)"
      "\n"
      R"(D='no \"escapes\" here')"
      "\n"
      "E=\"first\\\nsecond\"\n"  // backslash-newline inside double quotes joins lines
      "F=x\\\ny\n"               // and outside them
      "G=\"two\nlines\"\n");
  CHECK(values["A"] == R"(say "hi" for $5 `x` \ done)");
  CHECK(values["B"] == R"(a\nb)");
  CHECK(values["C"] == R"(one two"three)");
  CHECK(values["D"] == R"(no \"escapes\" here)");
  CHECK(values["E"] == "firstsecond");
  CHECK(values["F"] == "xy");
  CHECK(values["G"] == "two\nlines");
}

TEST_CASE("os-release: comments, blank lines and whitespace") {
  auto values = hotfix::parse_os_release(
      "# the operating system\n"
      "\n"
      "   # an indented comment\n"
      "  NAME=Indented\n"
      "VERSION_ID=\"12\"   # a comment after a blank\n"
      "ID=a#b\n"  // "#" inside a word is not a comment
      "HASH=#start\n"
      "TRAILING=value   \t\n"
      "QUOTED_BLANKS=\"  kept  \"\n"
      "EMPTY=\n"
      "EMPTY_QUOTED=\"\"\n"
      "CRLF=\"windows\"\r\n"
      "NO_NEWLINE=last");
  CHECK(values["NAME"] == "Indented");
  CHECK(values["VERSION_ID"] == "12");
  CHECK(values["ID"] == "a#b");
  CHECK(values["HASH"] == "#start");
  CHECK(values["TRAILING"] == "value");
  CHECK(values["QUOTED_BLANKS"] == "  kept  ");
  CHECK(values.count("EMPTY") == 1);
  CHECK(values["EMPTY"].empty());
  CHECK(values["EMPTY_QUOTED"].empty());
  CHECK(values["CRLF"] == "windows");
  CHECK(values["NO_NEWLINE"] == "last");
  CHECK(values.count("#") == 0);
}

TEST_CASE("os-release: malformed lines are skipped, the rest is read, the last assignment wins") {
  auto values = hotfix::parse_os_release(
      "just words\n"
      "1ID=digit-first\n"
      "BAD-KEY=x\n"
      "=novalue\n"
      "OPEN=\"never closed\n"
      "AFTER=read\n"
      "SINGLE='never closed\n"
      "NAME=first\n"
      "NAME=second\n");
  CHECK(values.size() == 2);
  CHECK(values["AFTER"] == "read");
  CHECK(values["NAME"] == "second");
}

TEST_CASE("os-release and uname machine names map to architectures") {
  CHECK(hotfix::arch_from_uname_machine("x86_64") == Arch::kX64);
  for (const char* m : {"i386", "i486", "i586", "i686"}) {
    CHECK(hotfix::arch_from_uname_machine(m) == Arch::kX86);
  }
  CHECK(hotfix::arch_from_uname_machine("aarch64") == Arch::kArm64);
  CHECK(hotfix::arch_from_uname_machine("ia64") == Arch::kIa64);
  CHECK_FALSE(hotfix::arch_from_uname_machine("riscv64"));
  CHECK_FALSE(hotfix::arch_from_uname_machine("X86_64"));
}

// ---------------------------------------------------------------------------
// Detection on a Linux root

TEST_CASE("Detection reads PRETTY_NAME and a numeric VERSION_ID from etc/os-release") {
  TempDir root;
  write_file(root / "etc/os-release",
             "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
             "VERSION_ID=\"12\"\n");
  TargetFacts facts = load(root);
  CHECK(facts.family == "linux");
  CHECK(facts.product == "Debian GNU/Linux 12 (bookworm)");
  CHECK(facts.version == Version(12, 0, 0, 0));
  CHECK(facts.service_pack == 0);
  CHECK(facts.hotfixes.empty());
  CHECK_THAT(facts.source, StartsWith("detected from " + (root / "etc/os-release").string()));
}

TEST_CASE("Detection: missing fields fall back as os-release(5) says") {
  TempDir root;
  SECTION("NAME without PRETTY_NAME") {
    write_file(root / "etc/os-release", "NAME=Fedora\nVERSION_ID=22.04\n");
    CHECK(load(root).product == "Fedora");
    CHECK(load(root).version == Version(22, 4, 0, 0));
  }
  SECTION("an empty PRETTY_NAME") {
    write_file(root / "etc/os-release", "NAME=Alpine\nPRETTY_NAME=\nVERSION_ID=3.18.4\n");
    CHECK(load(root).product == "Alpine");
    CHECK(load(root).version == Version(3, 18, 4, 0));
  }
  SECTION("neither: Linux") {
    write_file(root / "etc/os-release", "ID=custom\n");
    CHECK(load(root).product == "Linux");
    CHECK_FALSE(load(root).version);
  }
  SECTION("a VERSION_ID that is not a number") {
    write_file(root / "etc/os-release", "NAME=Arch\nVERSION_ID=rolling\n");
    CHECK_FALSE(load(root).version);
  }
}

TEST_CASE("Detection reads os-release's ID as os_id, linux when absent, none when malformed") {
  TempDir root;
  write_file(root / "etc/os-release", "ID=debian\nVERSION_ID=12\n");
  CHECK(load(root).os_id == "debian");
  CHECK(hotfix::facts_to_json(load(root))["os_id"] == "debian");
  write_file(root / "etc/os-release", "NAME=Something\n");
  CHECK(load(root).os_id == "linux");
  write_file(root / "etc/os-release", "ID=\"Not An Id\"\n");
  CHECK(load(root).os_id.empty());
  CHECK(hotfix::facts_to_json(load(root))["os_id"].is_null());
}

TEST_CASE("Detection falls back to usr/lib/os-release") {
  TempDir root;
  write_file(root / "usr/lib/os-release", "PRETTY_NAME=\"From usr/lib\"\n");
  TargetFacts facts = load(root);
  CHECK(facts.product == "From usr/lib");
  CHECK_THAT(facts.source, StartsWith("detected from " + (root / "usr/lib/os-release").string()));
}

TEST_CASE("Detection follows an absolute os-release link inside the root, not to the host's") {
  TempDir root;
  write_file(root / "usr/lib/os-release", "PRETTY_NAME=\"Inside the root\"\n");
  fs::create_directories(root / "etc");
  fs::create_symlink("/usr/lib/os-release", root / "etc/os-release");
  CHECK(load(root).product == "Inside the root");
}

TEST_CASE("Detection without os-release says the product is unknown") {
  TempDir root;
  TargetFacts facts = load(root);
  CHECK(facts.family == "linux");
  CHECK(facts.product == "unknown");
  CHECK_FALSE(facts.version);
  CHECK_THAT(facts.source, StartsWith("detected: no " + (root / "etc/os-release").string()));
  CHECK_THAT(facts.source, Contains("product unknown"));
}

TEST_CASE("Detection reads the architecture from a copy of this machine's /bin/sh") {
  TempDir root;
  fs::create_directories(root / "bin");
  fs::copy_file("/bin/sh", root / "bin/sh");  // follows the link to the real shell
  TargetFacts facts = load(root);
  CHECK(facts.architecture == kHostArch);
  CHECK_THAT(facts.source, Contains("architecture from " + (root / "bin/sh").string()));
}

TEST_CASE("Detection takes the architecture from the root's executables, not the kernel") {
  TempDir root;
  SECTION("bin/sh") {
    write_file(root / "bin/sh", elf_header(elf_machine(kForeignArch)));
    CHECK(load(root).architecture == kForeignArch);
  }
  SECTION("usr/bin/env when bin/sh is a script") {
    write_file(root / "bin/sh", "#!/bin/busybox\n");
    write_file(root / "usr/bin/env", elf_header(elf_machine(Arch::kIa64)));
    TargetFacts facts = load(root);
    CHECK(facts.architecture == Arch::kIa64);
    CHECK_THAT(facts.source, Contains("architecture from " + (root / "usr/bin/env").string()));
  }
  SECTION("usr/bin/env when bin/sh is a broken ELF file") {
    write_file(root / "bin/sh", std::string("\x7f"
                                            "ELF",
                                            4));
    write_file(root / "usr/bin/env", elf_header(elf_machine(Arch::kX86)));
    CHECK(load(root).architecture == Arch::kX86);
  }
  SECTION("an absolute link is followed inside the root") {
    write_file(root / "usr/bin/dash", elf_header(elf_machine(kForeignArch)));
    fs::create_directories(root / "bin");
    fs::create_symlink("/usr/bin/dash", root / "bin/sh");
    CHECK(load(root).architecture == kForeignArch);
  }
  SECTION("a merged /usr: bin is a relative link to usr/bin") {
    write_file(root / "usr/bin/dash", elf_header(elf_machine(kForeignArch)));
    fs::create_symlink("dash", root / "usr/bin/sh");
    fs::create_directory_symlink("usr/bin", root / "bin");
    CHECK(load(root).architecture == kForeignArch);
  }
}

TEST_CASE("Detection falls back to uname when the root has no executable it can read") {
  TempDir root;
  SECTION("no executables") {}
  SECTION("an executable for a machine no bundle is built for") {
    write_file(root / "bin/sh", elf_header(elf_machine(Arch::kNeutral)));
  }
  SECTION("a link loop") {
    fs::create_directories(root / "bin");
    fs::create_symlink("sh", root / "bin/sh");
  }
  TargetFacts facts = load(root);
  if (kHostArch != Arch::kNeutral) CHECK(facts.architecture == kHostArch);
  CHECK_THAT(facts.source, Contains("architecture from uname ("));
}

TEST_CASE("A root given with a trailing slash names its files with one slash") {
  TempDir root;
  write_file(root / "etc/os-release", "NAME=X\n");
  TargetFacts facts = hotfix::load_target_facts(root.path().string() + "/");
  CHECK_THAT(facts.source, StartsWith("detected from " + (root / "etc/os-release").string()));
}

TEST_CASE("The real / is a Linux system of this machine's architecture") {
  if (fs::exists("/etc/hotfix/system.json")) {
    WARN("SKIPPED: this machine declares its facts in /etc/hotfix/system.json");
    return;
  }
  TargetFacts facts = hotfix::load_target_facts("/");
  CHECK(facts.family == "linux");
  if (kHostArch != Arch::kNeutral) CHECK(facts.architecture == kHostArch);
  CHECK_THAT(facts.source, Contains("architecture from uname ("));
  if (fs::exists("/etc/os-release")) {
    CHECK_THAT(facts.source, StartsWith("detected from /etc/os-release"));
    CHECK(facts.product != "unknown");
    CHECK_FALSE(facts.product.empty());
  }
}

// ---------------------------------------------------------------------------
// Output

TEST_CASE("describe_target names Windows service packs, RTM included") {
  TargetFacts facts;
  facts.family = "windows";
  facts.product = "Windows Vista";
  CHECK(hotfix::describe_target(facts) == "Windows Vista RTM");
  facts.product = "Windows Server 2008";
  facts.service_pack = 1;
  CHECK(hotfix::describe_target(facts) == "Windows Server 2008 SP1");
  facts.family = "linux";
  facts.product = "Debian GNU/Linux 12 (bookworm)";
  facts.service_pack = 0;
  CHECK(hotfix::describe_target(facts) == "Debian GNU/Linux 12 (bookworm)");
  facts.product = "SUSE Linux Enterprise Server 15";
  facts.service_pack = 4;
  CHECK(hotfix::describe_target(facts) == "SUSE Linux Enterprise Server 15 SP4");
}

TEST_CASE("facts_to_json gives every fact, the description and the source, in order") {
  TempDir root;
  write_file(root / "etc/hotfix/system.json", facts_with("hotfixes", R"(["KB948609"])"));
  nlohmann::ordered_json j = hotfix::facts_to_json(load(root));
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  CHECK(keys == std::vector<std::string>{"family", "product", "version", "service_pack",
                                         "architecture", "hotfixes", "os_id", "description",
                                         "source"});
  CHECK(j["family"] == "windows");
  CHECK(j["product"] == "Windows Server 2008");
  CHECK(j["version"] == "6.0.6001.0");
  CHECK(j["service_pack"] == 1);
  CHECK(j["architecture"] == "x64");
  CHECK(j["hotfixes"] == nlohmann::ordered_json::array({"KB948609"}));
  CHECK(j["description"] == "Windows Server 2008 SP1");
  CHECK(j["source"] == facts_path(root));

  TargetFacts unknown;
  unknown.family = "linux";
  unknown.product = "unknown";
  unknown.architecture = Arch::kIa64;
  nlohmann::ordered_json u = hotfix::facts_to_json(unknown);
  CHECK(u["version"].is_null());
  CHECK(u["architecture"] == "ia64");
  CHECK(u["hotfixes"] == nlohmann::ordered_json::array());
}

TEST_CASE("A FIFO where system.json goes is refused at once, not waited on") {
  TempDir root;
  fs::create_directories(root / "etc/hotfix");
  REQUIRE(::mkfifo((root / "etc/hotfix/system.json").c_str(), 0600) == 0);
  try {
    load(root);
    FAIL("no error");
  } catch (const hotfix::Error& e) {
    CHECK(e.where() == facts_path(root));
    CHECK_THAT(e.message(), Contains("not a regular file"));
  }
}

// Found with the manifest fuzzer's finding (every issue kept): system.json shares the
// manifest's issue limit.
TEST_CASE("system facts with many issues are reported in bounded space") {
  std::string object = "{";
  for (int i = 0; i < 500; ++i) object += std::string(i ? "," : "") + R"("product": "x")";
  object += "}";
  try {
    hotfix::parse_system_facts(object, "system.json");
    FAIL("accepted");
  } catch (const hotfix::Error& error) {
    std::string message = error.what();
    std::size_t count = 0;
    for (std::size_t p = 0; (p = message.find("duplicate key", p)) != std::string::npos; ++p) {
      ++count;
    }
    CHECK(count == hotfix::kMaxManifestIssues);
    CHECK(message.find("more issues not listed") != std::string::npos);
  }
}
