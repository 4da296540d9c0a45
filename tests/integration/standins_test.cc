// make-standins end to end: the real program on the KB967131 sample and on small manifests,
// its output read back by ExifTool, the product's file identity and zstd.
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "manifests/arch.h"
#include "manifests/file_identity.h"
#include "manifests/manifest_json.h"
#include "manifests/sha256.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

using hotfix::Arch;
using hotfix::FileEntry;
using hotfix::Manifest;
using hotfix::Version;
using hotfix::test::run;
using hotfix::test::RunResult;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string& sample_manifest_path() {
  static const std::string path = hotfix::test::source_path("samples/KB967131/hotfix.json");
  return path;
}

const Manifest& sample_manifest() {
  static const Manifest manifest = hotfix::read_manifest_file(sample_manifest_path());
  return manifest;
}

RunResult make_standins(const std::string& manifest, const fs::path& out,
                        std::vector<std::string> more = {}) {
  std::vector<std::string> argv = {hotfix::test::make_standins_path(), "--manifest", manifest,
                                   "--out", out.string()};
  argv.insert(argv.end(), more.begin(), more.end());
  return run(argv);
}

// One generated sample for the checks that only read it.
struct Sample {
  TempDir dir;
  Sample() {
    RunResult r = make_standins(sample_manifest_path(), dir.path());
    if (r.exit_code != 0) throw std::runtime_error("make-standins failed: " + r.err);
  }
};

const Sample& sample() {
  static Sample s;
  return s;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// One ExifTool run over a whole tree, keyed by the file's path.
std::map<std::string, nlohmann::json> exiftool_tree(const fs::path& dir) {
  const std::string command =
      "exiftool -j -n -r -MachineType -FileVersionNumber -ProductVersionNumber "
      "-OriginalFileName " +
      shell_quote(dir.string()) + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  INFO(command);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::map<std::string, nlohmann::json> by_path;
  for (const auto& item : nlohmann::json::parse(output)) {
    by_path[fs::path(item.at("SourceFile").get<std::string>()).lexically_normal().string()] = item;
  }
  return by_path;
}

struct Stat {
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
  std::int64_t atime = 0;
};

Stat stat_file(const fs::path& path) {
  struct stat st {};
  INFO(path.string());
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE(S_ISREG(st.st_mode));
  return {static_cast<std::uint64_t>(st.st_size), st.st_mtim.tv_sec, st.st_atim.tv_sec};
}

// Relative path -> SHA-256 and mtime of every regular file below `dir`.
std::map<std::string, std::pair<std::string, std::int64_t>> fingerprint(const fs::path& dir) {
  std::map<std::string, std::pair<std::string, std::int64_t>> files;
  for (const auto& item : fs::recursive_directory_iterator(dir)) {
    if (!item.is_regular_file()) continue;
    const std::string bytes = hotfix::test::read_file(item.path());
    files[fs::relative(item.path(), dir).string()] = {hotfix::to_hex(hotfix::Sha256::of(bytes)),
                                                      stat_file(item.path()).mtime};
  }
  return files;
}

std::size_t regular_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& item : fs::recursive_directory_iterator(dir)) n += item.is_regular_file();
  return n;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string basename_of(const fs::path& p) { return p.filename().string(); }

// A small manifest in format v1 with the given x86 files (JSON objects).
std::string small_manifest(const std::string& x86_files) {
  return R"({
  "schema": 1, "id": "KB100001", "title": "Small sample", "revision": 1,
  "languages": ["en-US"], "restart": "none",
  "architectures": {"x86": {"files": [)" +
         x86_files + "]}}}\n";
}

std::string file_json(const std::string& name, const std::string& version, std::uint64_t size,
                      const std::string& platform) {
  return R"({"name": ")" + name + R"(", "destination": "bin", "version": )" + version +
         R"(, "size": )" + std::to_string(size) +
         R"(, "timestamp": "2009-03-01T12:34:00Z", "platform": ")" + platform + R"("})";
}

}  // namespace

TEST_CASE("Every drop file exists with the entry's exact size and UTC date") {
  const fs::path out = sample().dir.path();
  const Manifest& m = sample_manifest();
  REQUIRE(m.architectures.size() == 3);
  for (const auto& [arch, files] : m.architectures) {
    const fs::path tree = out / "drops" / hotfix::arch_token(arch);
    CHECK(regular_files(tree) == files.size());
    for (const FileEntry& entry : files) {
      const Stat st = stat_file(tree / entry.path());
      INFO(entry.path());
      CHECK(st.size == entry.size);
      CHECK(st.mtime == entry.timestamp.unix_seconds());
      CHECK(st.atime == entry.timestamp.unix_seconds());
    }
  }
}

TEST_CASE("ExifTool reads every versioned drop file with the entry's version and machine") {
  const fs::path out = sample().dir.path();
  const auto exif = exiftool_tree(out / "drops");
  std::size_t versioned = 0;
  for (const auto& [arch, files] : sample_manifest().architectures) {
    for (const FileEntry& entry : files) {
      const fs::path path =
          (out / "drops" / hotfix::arch_token(arch) / entry.path()).lexically_normal();
      INFO(path.string());
      const auto found = exif.find(path.string());
      if (!entry.version) {
        // ExifTool lists a file only when it found one of the tags asked for.
        if (found != exif.end()) {
          CHECK_FALSE(found->second.contains("MachineType"));
          CHECK_FALSE(found->second.contains("FileVersionNumber"));
        }
        continue;
      }
      REQUIRE(found != exif.end());
      const nlohmann::json& item = found->second;
      ++versioned;
      REQUIRE(item.contains("MachineType"));
      CHECK(item.at("MachineType").get<unsigned>() == hotfix::pe_machine_for(entry.platform));
      CHECK(item.at("FileVersionNumber") == entry.version->to_string());
      CHECK(item.at("ProductVersionNumber") == entry.version->to_string());
      CHECK(item.at("OriginalFileName") == entry.name);
    }
  }
  CHECK(versioned > 0);
}

TEST_CASE("The product's file identity agrees with every drop file") {
  const fs::path out = sample().dir.path();
  for (const auto& [arch, files] : sample_manifest().architectures) {
    for (const FileEntry& entry : files) {
      const fs::path path = out / "drops" / hotfix::arch_token(arch) / entry.path();
      INFO(path.string());
      const hotfix::FileIdentity id = hotfix::identify_file(path.string());
      if (entry.version) {
        CHECK(id.format == hotfix::FileIdentity::Format::kPe);
        CHECK(id.arch() == entry.platform);
        CHECK(id.version() == entry.version);
        REQUIRE(id.pe);
        CHECK(id.pe->is_dll == (lower(entry.name).ends_with(".dll")));
        CHECK(id.pe->strings.at("OriginalFilename") == entry.name);
      } else {
        CHECK(id.format == hotfix::FileIdentity::Format::kData);
      }
    }
  }
}

TEST_CASE("Unversioned drop files are XML text of the exact size, closed properly") {
  const fs::path out = sample().dir.path();
  for (const auto& [arch, files] : sample_manifest().architectures) {
    for (const FileEntry& entry : files) {
      if (entry.version) continue;
      const std::string text =
          hotfix::test::read_file(out / "drops" / hotfix::arch_token(arch) / entry.path());
      INFO(entry.path());
      CHECK(text.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0) == 0);
      CHECK(text.find("Stand-in for " + entry.name) != std::string::npos);
      const std::string root = lower(entry.name).ends_with(".config") ? "configuration" : "";
      if (!root.empty()) CHECK(text.ends_with("</" + root + ">\n"));
      CHECK(text.ends_with(">\n"));
    }
  }
}

TEST_CASE("The roots hold the RTM files under their installed names, and the target's facts") {
  const fs::path out = sample().dir.path();
  const auto exif = exiftool_tree(out / "roots");
  const hotfix::Timestamp rtm_text = *hotfix::Timestamp::parse_iso8601("2008-01-19T07:00:00Z");
  const std::int64_t rtm_day =
      hotfix::Timestamp::parse_iso8601("2008-01-19T00:00:00Z")->unix_seconds();
  std::size_t same_as_hotfix = 0, older_than_hotfix = 0;
  for (const auto& [arch, files] : sample_manifest().architectures) {
    const fs::path tree = out / "roots" / hotfix::arch_token(arch);
    CHECK(regular_files(tree) == files.size() + 1);
    for (const FileEntry& entry : files) {
      // The installed name differs from the manifest's only in case.
      fs::path found;
      for (const auto& item : fs::directory_iterator(tree / entry.destination)) {
        if (item.is_regular_file() && lower(basename_of(item.path())) == lower(entry.name)) {
          found = item.path();
        }
      }
      INFO(entry.path());
      REQUIRE_FALSE(found.empty());
      const std::string name = basename_of(found);
      if (!lower(name).ends_with(".config") && !lower(name).ends_with("_schema.xml")) {
        CHECK(name == lower(entry.name));
      }
      const Stat st = stat_file(found);
      if (entry.version) {
        const auto& p = entry.version->parts();
        const Version rtm(p[0], p[1], p[2], 18000);
        const nlohmann::json& item = exif.at(found.lexically_normal().string());
        CHECK(item.at("FileVersionNumber") == rtm.to_string());
        CHECK(item.at("ProductVersionNumber") == rtm.to_string());
        CHECK(item.at("MachineType").get<unsigned>() == hotfix::pe_machine_for(entry.platform));
        CHECK(hotfix::identify_file(found.string()).version() == rtm);
        CHECK(st.size % 512 == 0);
        CHECK(st.size + 2048 <= entry.size);
        CHECK(st.size + 8192 >= entry.size);
        CHECK(st.mtime == rtm_day + entry.timestamp.unix_seconds() % 86400);
      } else if (entry.timestamp <= rtm_text) {
        // Shipped unchanged since RTM: the same bytes and date, so an install skips it.
        ++same_as_hotfix;
        CHECK(hotfix::test::read_file(found) ==
              hotfix::test::read_file(out / "drops" / hotfix::arch_token(arch) / entry.path()));
        CHECK(st.mtime == entry.timestamp.unix_seconds());
      } else {
        ++older_than_hotfix;
        CHECK(hotfix::test::read_file(found) !=
              hotfix::test::read_file(out / "drops" / hotfix::arch_token(arch) / entry.path()));
        CHECK(st.mtime == rtm_text.unix_seconds());
        CHECK(st.size < entry.size);
      }
    }
    // The real server's spellings.
    const fs::path config = tree / "Windows/System32/inetsrv/config";
    if (arch != Arch::kArm64) {
      CHECK(fs::exists(config / "applicationHost.config"));
      CHECK(fs::exists(config / "redirection.config"));
      CHECK(fs::exists(config / "schema/IIS_schema.xml"));
      CHECK(fs::exists(config / "schema/ASPNET_schema.xml"));
      CHECK(fs::exists(config / "schema/FX_schema.xml"));
      CHECK(fs::exists(config / "schema/rscaext.xml"));
      CHECK(fs::exists(tree / "Windows/System32/inetsrv/appcmd.exe"));
      CHECK(fs::exists(tree / "Windows/System32/inetsrv/admwprox.dll"));
    }

    const auto facts =
        nlohmann::json::parse(hotfix::test::read_file(tree / "etc/hotfix/system.json"));
    CHECK(facts.at("family") == "windows");
    CHECK(facts.at("product") == (arch == Arch::kX86 ? "Windows Vista" : "Windows Server 2008"));
    CHECK(facts.at("version") == "6.0.6001");
    CHECK(facts.at("service_pack") == 1);
    CHECK(facts.at("architecture") == hotfix::arch_token(arch));
    CHECK(facts.at("hotfixes") == nlohmann::json::array());
  }
  // The sample has both kinds of text file: unchanged since RTM, and changed (Iis_schema.xml).
  CHECK(same_as_hotfix > 0);
  CHECK(older_than_hotfix > 0);
  // Rscaext.dll is the one binary at 6.0.
  CHECK(exif.at((out / "roots/x86/Windows/System32/inetsrv/rscaext.dll").string())
            .at("FileVersionNumber") == "6.0.6001.18000");
}

TEST_CASE("Two runs give byte-identical trees with identical dates") {
  TempDir again;
  RunResult r = make_standins(sample_manifest_path(), again.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto first = fingerprint(sample().dir.path());
  const auto second = fingerprint(again.path());
  CHECK(first.size() == 47 + 48 + 47 + 48 + 27 + 28);
  CHECK(first == second);
}

TEST_CASE("A non-empty output is refused without --force, --force replaces only its trees") {
  TempDir out;
  REQUIRE(make_standins(sample_manifest_path(), out.path()).exit_code == 0);
  hotfix::test::write_file(out / "drops/x86/extra.txt", "left over");
  hotfix::test::write_file(out / "drops/x64/extra.txt", "left over");
  hotfix::test::write_file(out / "notes.txt", "not ours");

  RunResult refused = make_standins(sample_manifest_path(), out.path(), {"--arch", "x86"});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("--force") != std::string::npos);
  CHECK(refused.err.find("drops/x86") != std::string::npos);
  CHECK(fs::exists(out / "drops/x86/extra.txt"));

  RunResult forced =
      make_standins(sample_manifest_path(), out.path(), {"--arch", "x86", "--force"});
  INFO(forced.err);
  REQUIRE(forced.exit_code == 0);
  CHECK_FALSE(fs::exists(out / "drops/x86/extra.txt"));
  CHECK(regular_files(out / "drops/x86") == sample_manifest().architectures.at(Arch::kX86).size());
  CHECK(fs::exists(out / "drops/x64/extra.txt"));  // not selected: untouched
  CHECK(fs::exists(out / "notes.txt"));            // not a tree: untouched

  // An existing but empty output directory needs no --force.
  TempDir empty;
  fs::create_directories(empty / "drops/x86");
  fs::create_directories(empty / "roots/x86");
  CHECK(make_standins(sample_manifest_path(), empty.path(), {"--arch", "x86"}).exit_code == 0);
}

TEST_CASE("Only the architectures asked for with --arch are written, others are refused") {
  TempDir out;
  RunResult r = make_standins(sample_manifest_path(), out.path(), {"--arch", "ia64"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(fs::exists(out / "drops/ia64"));
  CHECK(fs::exists(out / "roots/ia64/etc/hotfix/system.json"));
  CHECK_FALSE(fs::exists(out / "drops/x86"));
  CHECK_FALSE(fs::exists(out / "roots/x64"));

  TempDir bad;
  RunResult unknown = make_standins(sample_manifest_path(), bad.path(), {"--arch", "sparc"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("sparc") != std::string::npos);
  RunResult absent = make_standins(sample_manifest_path(), bad.path(), {"--arch", "arm64"});
  CHECK(absent.exit_code == 2);
  CHECK(absent.err.find("arm64") != std::string::npos);
  CHECK(fs::is_empty(bad.path()));
}

TEST_CASE("A small manifest: every platform's machine type, exact sizes, tiny text") {
  TempDir dir;
  const std::string manifest =
      small_manifest(file_json("Tool.exe", "\"1.2.3.4\"", 4097, "x86") + "," +
                     file_json("Lib.DLL", "\"5.6.7.8\"", 2048, "neutral") + "," +
                     file_json("tiny.config", "null", 1, "neutral") + "," +
                     file_json("empty.xml", "null", 0, "neutral") + "," +
                     file_json("notes.txt", "null", 333, "neutral"));
  hotfix::test::write_file(dir / "hotfix.json", manifest);
  RunResult r = make_standins((dir / "hotfix.json").string(), dir / "out");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const fs::path drops = dir / "out/drops/x86/bin";
  CHECK(stat_file(drops / "Tool.exe").size == 4097);
  CHECK(stat_file(drops / "Lib.DLL").size == 2048);
  CHECK(stat_file(drops / "tiny.config").size == 1);
  CHECK(stat_file(drops / "empty.xml").size == 0);
  CHECK(stat_file(drops / "notes.txt").size == 333);
  const auto exif = exiftool_tree(drops);
  CHECK(exif.at((drops / "Tool.exe").string()).at("FileVersionNumber") == "1.2.3.4");
  CHECK(exif.at((drops / "Lib.DLL").string()).at("MachineType") == 0x14c);
  CHECK(hotfix::identify_file((drops / "Lib.DLL").string()).pe->is_dll);
  CHECK_FALSE(hotfix::identify_file((drops / "Tool.exe").string()).pe->is_dll);
  CHECK(fs::exists(dir / "out/roots/x86/bin/tool.exe"));
  CHECK(fs::exists(dir / "out/roots/x86/bin/lib.dll"));
}

TEST_CASE("A versioned entry too small for a PE image is refused and nothing is written") {
  TempDir dir;
  hotfix::test::write_file(dir / "hotfix.json",
                           small_manifest(file_json("Ok.dll", "\"1.0.0.0\"", 8192, "x86") + "," +
                                          file_json("Small.dll", "\"1.0.0.0\"", 1500, "x86")));
  RunResult r = make_standins((dir / "hotfix.json").string(), dir / "out");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("Small.dll") != std::string::npos);
  CHECK(r.err.find("too small") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out/drops"));
}

TEST_CASE("An invalid manifest is refused with the parser's issues") {
  TempDir dir;
  hotfix::test::write_file(dir / "hotfix.json",
                           small_manifest(file_json("Bad.dll", "\"1.0\"", 8192, "x86")));
  RunResult r = make_standins((dir / "hotfix.json").string(), dir / "out");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("architectures.x86.files[0].version") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("The filler of a large stand-in compresses like code with zstd") {
  const fs::path out = sample().dir.path();
  const FileEntry* largest = nullptr;
  Arch largest_arch = Arch::kX86;
  for (const auto& [arch, files] : sample_manifest().architectures) {
    for (const FileEntry& entry : files) {
      if (entry.version && (!largest || entry.size > largest->size)) {
        largest = &entry;
        largest_arch = arch;
      }
    }
  }
  REQUIRE(largest);
  const std::string bytes =
      hotfix::test::read_file(out / "drops" / hotfix::arch_token(largest_arch) / largest->path());
  REQUIRE(bytes.size() > 100000);
  std::string compressed(ZSTD_compressBound(bytes.size()), '\0');
  const std::size_t n =
      ZSTD_compress(compressed.data(), compressed.size(), bytes.data(), bytes.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  const double ratio = static_cast<double>(bytes.size()) / static_cast<double>(n);
  INFO(largest->path() << ": " << bytes.size() << " -> " << n);
  CHECK(ratio > 1.5);
  CHECK(ratio < 5.0);
}
