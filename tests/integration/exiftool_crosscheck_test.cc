// Reads real PE files shipped by Debian's mingw-w64 packages and checks every field
// against ExifTool, an independent reader; then reads real ELF files of this machine.
#include <dlfcn.h>
#include <stdio.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "manifests/file_identity.h"

using hotfix::FileIdentity;

namespace {

// From the packages libz-mingw-w64, mingw-w64-x86-64-dev and mingw-w64-i686-dev.
const std::vector<std::string> kMingwDlls = {
    "/usr/x86_64-w64-mingw32/lib/zlib1.dll",
    "/usr/i686-w64-mingw32/lib/zlib1.dll",
    "/usr/x86_64-w64-mingw32/lib/libwinpthread-1.dll",
    "/usr/i686-w64-mingw32/lib/libwinpthread-1.dll",
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs `command` and returns its standard output; fails the test if it does not exit 0.
std::string run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = ::pclose(pipe);
  INFO(command);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return output;
}

// ExifTool prints values that look like numbers as JSON numbers.
void check_same_text(const nlohmann::json& theirs, const std::string& ours) {
  if (theirs.is_string()) {
    CHECK(theirs.get<std::string>() == ours);
  } else {
    REQUIRE(theirs.is_number());
    CHECK(std::stod(ours) == Approx(theirs.get<double>()));
  }
}

unsigned native_elf_machine() {
#if defined(__x86_64__)
  return 62;  // EM_X86_64
#elif defined(__aarch64__)
  return 183;  // EM_AARCH64
#elif defined(__i386__)
  return 3;  // EM_386
#else
  return 0;  // unknown: the checks below will say so
#endif
}

}  // namespace

TEST_CASE("Machine, PE type, versions and strings of real DLLs agree with ExifTool") {
  std::vector<std::string> present;
  for (const std::string& path : kMingwDlls) {
    if (std::filesystem::exists(path)) {
      present.push_back(path);
    } else {
      WARN("skipping " << path << ": not installed (see scripts/setup.sh)");
    }
  }
  REQUIRE_FALSE(present.empty());

  std::string command =
      "exiftool -j -n -MachineType -PEType -FileVersionNumber -ProductVersionNumber "
      "-FileVersion -ProductVersion -OriginalFileName -CompanyName";
  for (const std::string& path : present) command += " " + shell_quote(path);
  nlohmann::json report = nlohmann::json::parse(run(command));
  REQUIRE(report.is_array());
  REQUIRE(report.size() == present.size());

  for (const nlohmann::json& theirs : report) {
    const std::string path = theirs.at("SourceFile").get<std::string>();
    INFO(path);
    FileIdentity ours = hotfix::identify_file(path);
    REQUIRE(ours.format == FileIdentity::Format::kPe);
    REQUIRE(ours.pe);

    CHECK(theirs.at("MachineType").get<unsigned>() == ours.pe->machine);
    CHECK(theirs.at("PEType").get<unsigned>() == (ours.pe->pe32_plus ? 0x20bu : 0x10bu));
    CHECK(ours.arch() == hotfix::arch_from_pe_machine(theirs.at("MachineType").get<unsigned>()));
    CHECK(ours.pe->is_dll);

    // Every one of these DLLs carries a version resource; require it so that the
    // comparison cannot pass on two missing values.
    REQUIRE(theirs.contains("FileVersionNumber"));
    REQUIRE(ours.version());
    CHECK(theirs.at("FileVersionNumber").get<std::string>() == ours.version()->to_string());
    REQUIRE(theirs.contains("ProductVersionNumber"));
    REQUIRE(ours.pe->product_version);
    CHECK(theirs.at("ProductVersionNumber").get<std::string>() ==
          ours.pe->product_version->to_string());

    // ExifTool's tag names for the StringFileInfo keys.
    for (const auto& [tag, key] : std::vector<std::pair<std::string, std::string>>{
             {"FileVersion", "FileVersion"},
             {"ProductVersion", "ProductVersion"},
             {"OriginalFileName", "OriginalFilename"},
             {"CompanyName", "CompanyName"},
         }) {
      INFO(tag);
      auto found = ours.pe->strings.find(key);
      if (theirs.contains(tag)) {
        REQUIRE(found != ours.pe->strings.end());
        check_same_text(theirs.at(tag), found->second);
      } else {
        CHECK((found == ours.pe->strings.end() || found->second.empty()));
      }
    }
  }
}

TEST_CASE("Real ELF files of this machine: 64-bit, native machine and byte order") {
  // The program and the shared library holding the C library, wherever the system keeps it.
  Dl_info info{};
  REQUIRE(::dladdr(reinterpret_cast<void*>(&std::abort), &info) != 0);
  REQUIRE(info.dli_fname != nullptr);
  std::vector<std::string> files = {"/bin/ls", "/proc/self/exe", info.dli_fname};

  for (const std::string& path : files) {
    INFO(path);
    FileIdentity id = hotfix::identify_file(path);
    REQUIRE(id.format == FileIdentity::Format::kElf);
    REQUIRE(id.elf);
    CHECK(id.elf->elf_class == static_cast<int>(8 * sizeof(void*)));
    CHECK(id.elf->machine == native_elf_machine());
    CHECK(id.elf->little_endian == (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__));
    CHECK_FALSE(id.version());
  }
#if defined(__x86_64__)
  CHECK(hotfix::identify_file("/bin/ls").elf->machine == 62);
  CHECK(hotfix::identify_file("/bin/ls").arch() == hotfix::Arch::kX64);
#endif
}
