#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "manifests/errors.h"
#include "manifests/file_identity.h"
#include "manifests/version_resource.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using hotfix::Arch;
using hotfix::FileIdentity;
using hotfix::identify_bytes;
using hotfix::Version;

namespace {

using Bytes = std::vector<std::uint8_t>;
using Format = FileIdentity::Format;

// ---------------------------------------------------------------------------
// A small builder of PE images and version resources, laid out as a linker would.

void put16(Bytes& b, std::size_t offset, std::uint32_t value) {
  b.at(offset) = static_cast<std::uint8_t>(value);
  b.at(offset + 1) = static_cast<std::uint8_t>(value >> 8);
}

void put32(Bytes& b, std::size_t offset, std::uint32_t value) {
  put16(b, offset, value & 0xffff);
  put16(b, offset + 2, value >> 16);
}

std::uint16_t get16(const Bytes& b, std::size_t offset) {
  return static_cast<std::uint16_t>(b.at(offset) | (b.at(offset + 1) << 8));
}

void append16(Bytes& b, std::uint32_t value) {
  b.push_back(static_cast<std::uint8_t>(value));
  b.push_back(static_cast<std::uint8_t>(value >> 8));
}

void append32(Bytes& b, std::uint32_t value) {
  append16(b, value & 0xffff);
  append16(b, value >> 16);
}

void append_utf16z(Bytes& b, const std::u16string& text) {
  for (char16_t c : text) append16(b, c);
  append16(b, 0);
}

void pad4(Bytes& b) {
  while (b.size() % 4 != 0) b.push_back(0);
}

// One VS_VERSIONINFO-style node: header, key, padding, value, then aligned children.
Bytes block(const std::u16string& key, const Bytes& value, std::uint16_t value_length,
            std::uint16_t type, const std::vector<Bytes>& children = {}) {
  Bytes b(6, 0);
  append_utf16z(b, key);
  pad4(b);
  b.insert(b.end(), value.begin(), value.end());
  for (const Bytes& child : children) {
    pad4(b);
    b.insert(b.end(), child.begin(), child.end());
  }
  put16(b, 0, static_cast<std::uint32_t>(b.size()));
  put16(b, 2, value_length);
  put16(b, 4, type);
  return b;
}

Bytes text(const std::u16string& key, const std::u16string& value) {
  Bytes v;
  append_utf16z(v, value);
  return block(key, v, static_cast<std::uint16_t>(value.size() + 1), 1);
}

Bytes fixed_file_info(const Version& file, const Version& product,
                      std::uint32_t signature = 0xFEEF04BD) {
  Bytes b;
  append32(b, signature);
  append32(b, 0x00010000);  // dwStrucVersion
  append32(b, file.ms());
  append32(b, file.ls());
  append32(b, product.ms());
  append32(b, product.ls());
  append32(b, 0x3f);     // dwFileFlagsMask
  append32(b, 0);        // dwFileFlags
  append32(b, 0x40004);  // dwFileOS: VOS_NT_WINDOWS32
  append32(b, 2);        // dwFileType: VFT_DLL
  append32(b, 0);        // dwFileSubtype
  append32(b, 0);        // dwFileDateMS
  append32(b, 0);        // dwFileDateLS
  return b;
}

using Strings = std::vector<std::pair<std::u16string, std::u16string>>;

struct VersionSpec {
  Version file{7, 0, 6001, 22329};
  Version product{7, 0, 6001, 22329};
  // Lengths chosen so that String blocks end on 2 modulo 4 as often as on 0: a reader
  // that ignores the 32-bit alignment of children misreads the next key.
  Strings strings = {
      {u"CompanyName", u"Microsoft Corporation"},
      {u"FileDescription", u"IIS Configuration"},
      {u"FileVersion", u"7.0.6001.22329 (vistasp1_ldr.090311-1500)"},
      {u"InternalName", u"ab"},
      {u"LegalCopyright", u"Soci\u00e9t\u00e9 \u00a9 \u20ac \U0001D11E"},
      {u"OriginalFilename", u"nativerd.dll"},
      {u"ProductName", u"Internet Information Services"},
      {u"ProductVersion", u"7.0.6001.22329"},
      {u"Empty", u""},
  };
  bool var_file_info_first = false;
};

Bytes string_table(const std::u16string& key, const Strings& strings) {
  std::vector<Bytes> children;
  for (const auto& [name, value] : strings) children.push_back(text(name, value));
  return block(key, {}, 0, 1, children);
}

Bytes version_blob(const VersionSpec& spec) {
  Bytes string_file_info = block(
      u"StringFileInfo", {}, 0, 1,
      {string_table(u"040904b0", spec.strings),
       // Only the first table counts; this one must not leak into the result.
       string_table(u"040704b0", {{u"FileDescription", u"Zweite Tabelle"}, {u"Extra", u"x"}})});
  Bytes translation;
  append16(translation, 0x0409);
  append16(translation, 0x04b0);
  Bytes var_file_info = block(u"VarFileInfo", {}, 0, 1, {block(u"Translation", translation, 4, 0)});
  std::vector<Bytes> children = {string_file_info, var_file_info};
  if (spec.var_file_info_first) std::swap(children[0], children[1]);
  return block(u"VS_VERSION_INFO", fixed_file_info(spec.file, spec.product), 52, 0, children);
}

struct PeOptions {
  unsigned machine = 0x8664;
  bool pe32_plus = true;
  bool dll = true;
  bool resources = true;              // a resource directory at all
  std::optional<Bytes> version_data;  // RT_VERSION resource data; none when unset
};

// A PE image and the file offsets of its structures, for targeted corruption.
struct PeImage {
  Bytes bytes;
  std::size_t lfanew = 0x80;
  std::size_t coff = 0x84;
  std::size_t optional = 0x98;
  std::size_t optional_size = 0;
  std::size_t directory_count = 0;     // NumberOfRvaAndSizes
  std::size_t resource_directory = 0;  // data directory 2 (RVA, Size)
  std::size_t section_table = 0;
  std::size_t rsrc_header = 0;  // the .rsrc section header
  std::size_t rsrc = 0x400;     // the .rsrc section data
  std::size_t root = 0, name_dir = 0, lang_dir = 0, other_dir = 0;
  std::size_t version_entry = 0;  // root entry for RT_VERSION
  std::size_t name_entry = 0, lang_entry = 0;
  std::size_t data_entry = 0;
  std::size_t blob = 0, blob_size = 0;
};

constexpr std::uint32_t kRsrcRva = 0x2000;

PeImage build_pe(const PeOptions& options) {
  PeImage pe;
  Bytes& b = pe.bytes;
  b.assign(0x400, 0);

  // DOS header and stub.
  b[0] = 'M';
  b[1] = 'Z';
  put32(b, 0x3c, static_cast<std::uint32_t>(pe.lfanew));
  const char stub[] = "This program cannot be run in DOS mode.";
  std::memcpy(&b[0x4e], stub, sizeof stub - 1);

  // Resource section data, built first so that the headers can state its size.
  Bytes rsrc(0x80, 0);
  pe.root = 0;
  const bool has_version = options.version_data.has_value();
  const std::uint32_t ids = has_version ? 2 : 1;
  put16(rsrc, pe.root + 12, 1);  // one named type ("MUI")
  put16(rsrc, pe.root + 14, ids);
  pe.name_dir = 16 + 8 * (1 + ids);
  pe.lang_dir = pe.name_dir + 24;
  pe.data_entry = pe.lang_dir + 24;
  pe.other_dir = pe.data_entry + 16;
  std::size_t mui_name = pe.other_dir + 16;
  std::size_t blob = 0x80;
  put16(rsrc, mui_name, 3);
  put16(rsrc, mui_name + 2, 'M');
  put16(rsrc, mui_name + 4, 'U');
  put16(rsrc, mui_name + 6, 'I');
  // Root entries: named "MUI", RT_ICON (3), RT_VERSION (16); the first two lead to an
  // empty directory that the reader has no reason to enter.
  put32(rsrc, 16, 0x80000000u | static_cast<std::uint32_t>(mui_name));
  put32(rsrc, 20, 0x80000000u | static_cast<std::uint32_t>(pe.other_dir));
  put32(rsrc, 24, 3);
  put32(rsrc, 28, 0x80000000u | static_cast<std::uint32_t>(pe.other_dir));
  if (has_version) {
    pe.version_entry = 32;
    put32(rsrc, 32, 16);
    put32(rsrc, 36, 0x80000000u | static_cast<std::uint32_t>(pe.name_dir));
    put16(rsrc, pe.name_dir + 14, 1);
    pe.name_entry = pe.name_dir + 16;
    put32(rsrc, pe.name_entry, 1);
    put32(rsrc, pe.name_entry + 4, 0x80000000u | static_cast<std::uint32_t>(pe.lang_dir));
    put16(rsrc, pe.lang_dir + 14, 1);
    pe.lang_entry = pe.lang_dir + 16;
    put32(rsrc, pe.lang_entry, 0x409);
    put32(rsrc, pe.lang_entry + 4, static_cast<std::uint32_t>(pe.data_entry));
    put32(rsrc, pe.data_entry, kRsrcRva + static_cast<std::uint32_t>(blob));
    put32(rsrc, pe.data_entry + 4, static_cast<std::uint32_t>(options.version_data->size()));
    put32(rsrc, pe.data_entry + 8, 1200);  // code page
    rsrc.insert(rsrc.end(), options.version_data->begin(), options.version_data->end());
    pe.blob_size = options.version_data->size();
  }
  const auto rsrc_virtual_size = static_cast<std::uint32_t>(rsrc.size());
  const std::uint32_t rsrc_raw_size = (rsrc_virtual_size + 0x1ff) & ~0x1ffu;
  rsrc.resize(rsrc_raw_size, 0);

  // PE signature and COFF header.
  std::memcpy(&b[pe.lfanew], "PE\0\0", 4);
  pe.optional_size = options.pe32_plus ? 240 : 224;
  put16(b, pe.coff, options.machine);
  put16(b, pe.coff + 2, 2);           // NumberOfSections
  put32(b, pe.coff + 4, 0x49b7a4f5);  // TimeDateStamp
  put16(b, pe.coff + 16, static_cast<std::uint32_t>(pe.optional_size));
  std::uint32_t characteristics = 0x0002 | (options.pe32_plus ? 0x0020 : 0x0100);
  if (options.dll) characteristics |= 0x2000;
  put16(b, pe.coff + 18, characteristics);

  // Optional header.
  const std::size_t o = pe.optional;
  put16(b, o, options.pe32_plus ? 0x20b : 0x10b);
  put32(b, o + 4, 0x200);    // SizeOfCode
  put32(b, o + 16, 0x1000);  // AddressOfEntryPoint
  put32(b, o + 20, 0x1000);  // BaseOfCode
  put32(b, o + 32, 0x1000);  // SectionAlignment
  put32(b, o + 36, 0x200);   // FileAlignment
  put16(b, o + 40, 6);       // MajorOperatingSystemVersion
  put16(b, o + 48, 6);       // MajorSubsystemVersion
  put32(b, o + 56, 0x3000);  // SizeOfImage
  put32(b, o + 60, 0x200);   // SizeOfHeaders
  put16(b, o + 68, 3);       // Subsystem: console
  if (options.pe32_plus) {
    put32(b, o + 24, 0x80000000);  // ImageBase (low part)
    put32(b, o + 28, 0x1);
  } else {
    put32(b, o + 28, 0x10000000);  // ImageBase
  }
  pe.directory_count = o + (options.pe32_plus ? 108 : 92);
  put32(b, pe.directory_count, 16);
  pe.resource_directory = pe.directory_count + 4 + 2 * 8;
  if (options.resources) {
    put32(b, pe.resource_directory, kRsrcRva);
    put32(b, pe.resource_directory + 4, rsrc_virtual_size);
  }

  // Section table: .text then .rsrc.
  pe.section_table = o + pe.optional_size;
  std::size_t s = pe.section_table;
  std::memcpy(&b[s], ".text", 5);
  put32(b, s + 8, 0x10);
  put32(b, s + 12, 0x1000);
  put32(b, s + 16, 0x200);
  put32(b, s + 20, 0x200);
  put32(b, s + 36, 0x60000020);
  pe.rsrc_header = s + 40;
  s = pe.rsrc_header;
  std::memcpy(&b[s], ".rsrc", 5);
  put32(b, s + 8, rsrc_virtual_size);
  put32(b, s + 12, kRsrcRva);
  put32(b, s + 16, rsrc_raw_size);
  put32(b, s + 20, static_cast<std::uint32_t>(pe.rsrc));
  put32(b, s + 36, 0x40000040);

  b[0x200] = 0xc3;  // .text: ret
  b.insert(b.end(), rsrc.begin(), rsrc.end());

  // Offsets within .rsrc become file offsets.
  for (std::size_t* p : {&pe.root, &pe.name_dir, &pe.lang_dir, &pe.other_dir, &pe.version_entry,
                         &pe.name_entry, &pe.lang_entry, &pe.data_entry}) {
    *p += pe.rsrc;
  }
  pe.blob = pe.rsrc + blob;
  return pe;
}

PeImage versioned_pe(unsigned machine = 0x8664, bool pe32_plus = true,
                     const VersionSpec& spec = {}) {
  PeOptions options;
  options.machine = machine;
  options.pe32_plus = pe32_plus;
  options.version_data = version_blob(spec);
  return build_pe(options);
}

FileIdentity identify(const Bytes& bytes) { return identify_bytes(bytes, "test.dll"); }

// identify_bytes must reject `bytes` as bad input naming the file, with `fragment` in the message.
void expect_bad(const Bytes& bytes, const std::string& fragment) {
  try {
    identify(bytes);
    FAIL("accepted, expected an error containing: " << fragment);
  } catch (const hotfix::Error& e) {
    CHECK(e.kind() == hotfix::ErrorKind::kBadInput);
    CHECK(e.where() == "test.dll");
    CHECK_THAT(e.message(), Contains(fragment));
  }
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string utf8(const std::u16string& s) {
  std::vector<std::uint16_t> units(s.begin(), s.end());
  return hotfix::utf16_to_utf8(units);
}

}  // namespace

// ---------------------------------------------------------------------------
// Valid PE images

TEST_CASE("PE32 and PE32+ images of every machine report machine, arch and version resource") {
  struct Case {
    unsigned machine;
    Arch arch;
  };
  for (Case c : {Case{0x14c, Arch::kX86}, Case{0x8664, Arch::kX64}, Case{0x200, Arch::kIa64},
                 Case{0xaa64, Arch::kArm64}}) {
    for (bool plus : {false, true}) {
      INFO("machine " << std::hex << c.machine << (plus ? " PE32+" : " PE32"));
      VersionSpec spec;
      // Versions differ per case so that nothing can pass by accident.
      spec.file = Version(static_cast<std::uint16_t>(c.machine >> 8),
                          static_cast<std::uint16_t>(c.machine & 0xff), plus ? 6002 : 6001, 22329);
      spec.product = Version(static_cast<std::uint16_t>(plus ? 65535 : 1), 2, 3,
                             static_cast<std::uint16_t>(c.machine));
      PeImage pe = versioned_pe(c.machine, plus, spec);

      FileIdentity id = identify(pe.bytes);
      REQUIRE(id.format == Format::kPe);
      REQUIRE(id.pe);
      CHECK_FALSE(id.elf);
      CHECK(id.pe->machine == c.machine);
      CHECK(id.pe->pe32_plus == plus);
      CHECK(id.pe->is_dll);
      CHECK(id.arch() == c.arch);
      CHECK(id.version() == spec.file);
      CHECK(id.pe->file_version == spec.file);
      CHECK(id.pe->product_version == spec.product);

      std::map<std::string, std::string> expected;
      for (const auto& [key, value] : spec.strings) expected[utf8(key)] = utf8(value);
      CHECK(id.pe->strings == expected);
    }
  }
}

TEST_CASE("Version strings are decoded from UTF-16LE to UTF-8, surrogate pairs included") {
  FileIdentity id = identify(versioned_pe().bytes);
  REQUIRE(id.pe);
  CHECK(id.pe->strings.at("LegalCopyright") ==
        "Soci\xC3\xA9t\xC3\xA9 \xC2\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E");
  CHECK(id.pe->strings.at("InternalName") == "ab");
  CHECK(id.pe->strings.at("Empty").empty());
  CHECK(id.pe->strings.count("Extra") == 0);  // from the second string table
  CHECK(id.pe->strings.at("FileDescription") == "IIS Configuration");
}

TEST_CASE("utf16_to_utf8 replaces unpaired surrogates") {
  CHECK(hotfix::utf16_to_utf8(std::vector<std::uint16_t>{0x41, 0xD800, 0x42}) ==
        "A\xEF\xBF\xBD"
        "B");
  CHECK(hotfix::utf16_to_utf8(std::vector<std::uint16_t>{0xDC00}) == "\xEF\xBF\xBD");
  CHECK(hotfix::utf16_to_utf8(std::vector<std::uint16_t>{0xD834}) == "\xEF\xBF\xBD");
  CHECK(hotfix::utf16_to_utf8(std::vector<std::uint16_t>{0xD834, 0xDD1E}) == "\xF0\x9D\x84\x9E");
}

TEST_CASE("VarFileInfo before StringFileInfo does not hide the strings") {
  VersionSpec spec;
  spec.var_file_info_first = true;
  FileIdentity id = identify(versioned_pe(0x14c, false, spec).bytes);
  REQUIRE(id.pe);
  CHECK(id.pe->strings.at("OriginalFilename") == "nativerd.dll");
  CHECK(id.version() == spec.file);
}

TEST_CASE("Only the first StringFileInfo block counts") {
  Bytes blob = block(
      u"VS_VERSION_INFO", fixed_file_info({1, 2, 3, 4}, {1, 2, 3, 4}), 52, 0,
      {block(u"StringFileInfo", {}, 0, 1, {string_table(u"040904b0", {{u"FileVersion", u"1"}})}),
       block(u"StringFileInfo", {}, 0, 1,
             {string_table(u"040904b0", {{u"FileVersion", u"2"}, {u"CompanyName", u"X"}})})});
  PeOptions options;
  options.version_data = blob;
  FileIdentity id = identify(build_pe(options).bytes);
  REQUIRE(id.pe);
  CHECK(id.pe->strings == std::map<std::string, std::string>{{"FileVersion", "1"}});
}

TEST_CASE("A version resource without VS_FIXEDFILEINFO has strings but no version") {
  Bytes blob = block(u"VS_VERSION_INFO", {}, 0, 0,
                     {block(u"StringFileInfo", {}, 0, 1,
                            {string_table(u"040904b0", {{u"FileVersion", u"1.2.3.4"}})})});
  PeOptions options;
  options.version_data = blob;
  FileIdentity id = identify(build_pe(options).bytes);
  REQUIRE(id.pe);
  CHECK_FALSE(id.version());
  CHECK_FALSE(id.pe->product_version);
  CHECK(id.pe->strings.at("FileVersion") == "1.2.3.4");
}

TEST_CASE("A PE without a version resource is a PE without a version") {
  SECTION("resources, but no RT_VERSION") {
    PeOptions options;
    FileIdentity id = identify(build_pe(options).bytes);
    REQUIRE(id.format == Format::kPe);
    CHECK_FALSE(id.version());
    CHECK(id.pe->strings.empty());
    CHECK(id.arch() == Arch::kX64);
  }
  SECTION("no resource directory") {
    PeOptions options;
    options.resources = false;
    options.version_data = version_blob({});
    FileIdentity id = identify(build_pe(options).bytes);
    REQUIRE(id.format == Format::kPe);
    CHECK_FALSE(id.version());
  }
  SECTION("too few data directories to have one") {
    PeImage pe = versioned_pe();
    put32(pe.bytes, pe.directory_count, 2);
    FileIdentity id = identify(pe.bytes);
    REQUIRE(id.format == Format::kPe);
    CHECK_FALSE(id.version());
  }
}

TEST_CASE("An executable is not a DLL, an unknown machine has no arch") {
  PeOptions options;
  options.dll = false;
  options.machine = 0x1c4;  // ARMNT
  options.pe32_plus = false;
  options.version_data = version_blob({});
  FileIdentity id = identify(build_pe(options).bytes);
  REQUIRE(id.pe);
  CHECK_FALSE(id.pe->is_dll);
  CHECK(id.pe->machine == 0x1c4);
  CHECK_FALSE(id.arch());
  CHECK(id.version() == Version(7, 0, 6001, 22329));
}

// ---------------------------------------------------------------------------
// Data files

TEST_CASE("Files that are neither PE nor ELF are data") {
  Bytes dos_program(0x200, 0);
  dos_program[0] = 'M';
  dos_program[1] = 'Z';
  put32(dos_program, 0x3c, 0x100);  // inside the file, but no "PE\0\0" there
  Bytes pe_signature_without_mz = versioned_pe().bytes;
  pe_signature_without_mz[0] = 'Z';
  Bytes ne_executable = versioned_pe().bytes;  // 16-bit Windows: "NE" where PE would be
  ne_executable[0x80] = 'N';

  for (const auto& [name, bytes] : std::vector<std::pair<std::string, Bytes>>{
           {"empty", {}},
           {"one byte", {0x4d}},
           {"DOS program", dos_program},
           {"PE signature without MZ", pe_signature_without_mz},
           {"NE executable", ne_executable},
           {"text", bytes_of("<?xml version=\"1.0\"?>\n<configuration/>\n")},
           {"ELF magic cut short", bytes_of("\x7f"
                                            "EL")},
           {"binary", {0x00, 0xff, 0x7f, 0x45, 0x4c, 0x46}},
       }) {
    INFO(name);
    FileIdentity id = identify(bytes);
    CHECK(id.format == Format::kData);
    CHECK_FALSE(id.pe);
    CHECK_FALSE(id.elf);
    CHECK_FALSE(id.arch());
    CHECK_FALSE(id.version());
  }
}

// ---------------------------------------------------------------------------
// Broken PE images

TEST_CASE("A PE truncated at any header boundary is an error, below the DOS header too") {
  PeImage pe = versioned_pe();
  const std::size_t size = pe.bytes.size();
  for (std::size_t length : {std::size_t{2}, std::size_t{0x3c}, std::size_t{0x3f}}) {
    INFO("length " << length);
    expect_bad(Bytes(pe.bytes.begin(), pe.bytes.begin() + length),
               "starts with \"MZ\" but is " + std::to_string(length) +
                   " bytes, shorter than the 64-byte DOS header");
  }
  Bytes mz_header_only(63, 0);  // "MZ" and a DOS header one byte short
  mz_header_only[0] = 'M';
  mz_header_only[1] = 'Z';
  expect_bad(mz_header_only, "is 63 bytes, shorter than the 64-byte DOS header");
  CHECK(identify(bytes_of("M")).format == Format::kData);
  CHECK(identify(bytes_of("MX short")).format == Format::kData);
  struct Cut {
    std::size_t length;
    std::string fragment;
  };
  const std::string rsrc = "section \".rsrc\" data at offset 0x400";
  for (const Cut& cut : std::vector<Cut>{
           {0x40, "e_lfanew 0x80 is past the end of the file (64 bytes)"},
           {pe.lfanew, "e_lfanew 0x80 is past the end"},
           {pe.lfanew + 3, "e_lfanew 0x80 is past the end"},
           {pe.coff, "COFF file header at offset 0x84"},
           {pe.coff + 19, "COFF file header at offset 0x84"},
           {pe.optional, "optional header at offset 0x98"},
           {pe.optional + 2, "optional header at offset 0x98"},
           {pe.optional + pe.optional_size - 1, "optional header at offset 0x98"},
           {pe.section_table, "section table of 2 sections"},
           {pe.section_table + 40, "section table of 2 sections"},
           {pe.section_table + 79, "section table of 2 sections"},
           {pe.section_table + 80, rsrc},
           {pe.rsrc, rsrc},
           {pe.root + 16, rsrc},
           {pe.data_entry + 8, rsrc},
           {pe.blob, rsrc},
           {pe.blob + 6, rsrc},
           {pe.blob + pe.blob_size - 1, rsrc},
           {size - 1, rsrc},
       }) {
    INFO("length " << cut.length);
    expect_bad(Bytes(pe.bytes.begin(), pe.bytes.begin() + cut.length), cut.fragment);
  }
}

TEST_CASE("Broken PE headers are errors") {
  PeImage pe = versioned_pe();
  Bytes b = pe.bytes;

  SECTION("e_lfanew past the end") {
    put32(b, 0x3c, 0x10000);
    expect_bad(
        b, "e_lfanew 0x10000 is past the end of the file (" + std::to_string(b.size()) + " bytes)");
  }
  SECTION("e_lfanew at the top of the address range") {
    put32(b, 0x3c, 0xffffffff);
    expect_bad(b, "e_lfanew 0xffffffff is past the end");
  }
  SECTION("e_lfanew leaving room for the signature only") {
    put32(b, 0x3c, static_cast<std::uint32_t>(b.size() - 4));
    std::memcpy(&b[b.size() - 4], "PE\0\0", 4);
    expect_bad(b, "COFF file header");
  }
  SECTION("unknown optional header magic") {
    put16(b, pe.optional, 0x107);
    expect_bad(b, "unknown magic 0x107 (expected 0x10b or 0x20b)");
  }
  SECTION("no optional header") {
    put16(b, pe.coff + 16, 0);
    expect_bad(b, "optional header size 0 is too small");
  }
  SECTION("optional header too small for its magic") {
    put16(b, pe.coff + 16, 0x50);
    expect_bad(b, "optional header is 80 bytes, a PE32+ header needs at least 112");
  }
  SECTION("optional header larger than the file") {
    put16(b, pe.coff + 16, 0xffff);
    expect_bad(b, "optional header at offset 0x98 (65535 bytes) extends past the end");
  }
  SECTION("NumberOfRvaAndSizes absurd") {
    put32(b, pe.directory_count, 0xffffffff);
    expect_bad(b,
               "NumberOfRvaAndSizes 4294967295 does not fit in the optional header (room for 16)");
  }
  SECTION("NumberOfRvaAndSizes larger than the optional header holds") {
    put16(b, pe.coff + 16, 200);
    expect_bad(b, "NumberOfRvaAndSizes 16 does not fit in the optional header (room for 11)");
  }
  SECTION("section table past the end") {
    put16(b, pe.coff + 2, 0xffff);
    expect_bad(b, "section table of 65535 sections");
  }
  SECTION("resource RVA not in any section") {
    put32(b, pe.resource_directory, 0x9000);
    expect_bad(b, "resource directory RVA 0x9000 is not inside any section");
  }
  SECTION("resource RVA below every section") {
    put32(b, pe.resource_directory, 0x10);
    expect_bad(b, "resource directory RVA 0x10 is not inside any section");
  }
  SECTION("no sections at all") {
    put16(b, pe.coff + 2, 0);
    expect_bad(b, "resource directory RVA 0x2000 is not inside any section");
  }
  SECTION("resource section data offset past the end") {
    put32(b, pe.rsrc_header + 20, 0x7ffffff0);
    expect_bad(b, "section \".rsrc\" data at offset 0x7ffffff0");
  }
  SECTION("resource section raw size past the end") {
    put32(b, pe.rsrc_header + 16, 0xffffffff);
    expect_bad(b, "section \".rsrc\" data at offset 0x400 (4294967295 bytes) extends past");
  }
  SECTION("resource directory beyond the section's file data") {
    put32(b, pe.rsrc_header + 16, 8);
    expect_bad(b, "resource directory RVA 0x2000 is not backed by data in section \".rsrc\"");
  }
}

TEST_CASE("Broken resource trees are errors, never loops") {
  PeImage pe = versioned_pe();
  Bytes b = pe.bytes;
  auto rel = [&](std::size_t file_offset) {
    return static_cast<std::uint32_t>(file_offset - pe.rsrc);
  };

  SECTION("RT_VERSION entry pointing to the root directory") {
    put32(b, pe.version_entry + 4, 0x80000000u | rel(pe.root));
    expect_bad(b, "PE resource directory at offset 0x400 loops back to itself");
  }
  SECTION("name directory entry pointing to itself") {
    put32(b, pe.name_entry + 4, 0x80000000u | rel(pe.name_dir));
    expect_bad(b, "PE resource directory at offset 0x428 loops back to itself");
  }
  SECTION("name directory entry pointing back to the root") {
    put32(b, pe.name_entry + 4, 0x80000000u);
    expect_bad(b,
               "PE resource directory at offset 0x428 loops back to the directory at offset 0x400");
  }
  SECTION("language directory entry pointing to itself") {
    put32(b, pe.lang_entry + 4, 0x80000000u | rel(pe.lang_dir));
    expect_bad(b, "PE resource directory at offset 0x440 loops back to itself");
  }
  SECTION("language directory entry pointing back to the name directory") {
    put32(b, pe.lang_entry + 4, 0x80000000u | rel(pe.name_dir));
    expect_bad(b, "loops back to the directory at offset 0x428");
  }
  SECTION("a fourth directory level") {
    put32(b, pe.lang_entry + 4, 0x80000000u | rel(pe.other_dir));
    expect_bad(b, "points to a fourth directory level");
  }
  SECTION("RT_VERSION entry pointing to data instead of a directory") {
    put32(b, pe.version_entry + 4, rel(pe.data_entry));
    expect_bad(b, "RT_VERSION type entry at offset 0x420 points to data where a directory");
  }
  SECTION("name entry pointing to data instead of a directory") {
    put32(b, pe.name_entry + 4, rel(pe.data_entry));
    expect_bad(b, "RT_VERSION name entry at offset 0x438 points to data where a directory");
  }
  SECTION("huge NumberOfNamedEntries in the root") {
    put16(b, pe.root + 12, 0xffff);
    expect_bad(b, "resource directory at offset 0x400 declares 65537 entries, but only");
  }
  SECTION("huge NumberOfIdEntries in the root") {
    put16(b, pe.root + 14, 0xffff);
    expect_bad(b, "resource directory at offset 0x400 declares 65536 entries, but only");
  }
  SECTION("huge counts in the name directory") {
    put16(b, pe.name_dir + 12, 0xffff);
    put16(b, pe.name_dir + 14, 0xffff);
    expect_bad(b, "resource directory at offset 0x428 declares 131070 entries");
  }
  SECTION("empty name directory") {
    put16(b, pe.name_dir + 14, 0);
    expect_bad(b, "RT_VERSION names directory at offset 0x428 has no entries");
  }
  SECTION("empty language directory") {
    put16(b, pe.lang_dir + 14, 0);
    expect_bad(b, "RT_VERSION languages directory at offset 0x440 has no entries");
  }
  SECTION("subdirectory offset outside the section") {
    put32(b, pe.version_entry + 4, 0xfffffff0u);
    expect_bad(b, "resource directory at offset 0x800003f0 is outside the resource section");
  }
  SECTION("data entry offset outside the section") {
    put32(b, pe.lang_entry + 4, 0x7ffffff0u);
    expect_bad(b, "resource data entry at offset 0x800003f0 is outside the resource section");
  }
  SECTION("version data RVA not in any section") {
    put32(b, pe.data_entry, 0x50000);
    expect_bad(b, "version resource data RVA 0x50000 is not inside any section");
  }
  SECTION("a later root entry loops back to the root") {
    put32(b, pe.rsrc + 16 + 8 * 3 + 4, 0x80000000u);  // a fourth type after RT_VERSION
    put16(b, pe.root + 14, 3);
    expect_bad(b, "PE resource directory at offset 0x400 loops back to itself");
  }
  SECTION("a type the reader does not need loops back through its own directory") {
    put16(b, pe.other_dir + 14, 1);  // MUI and RT_ICON's directory: one entry, to itself
    put32(b, pe.other_dir + 16 + 4, 0x80000000u | rel(pe.other_dir));
    expect_bad(b, "loops back to itself");
  }
  SECTION("a named type whose name lies past the end of the section and the file") {
    put32(b, pe.rsrc + 16, 0x80000000u | 0x7ffffff0u);
    expect_bad(b,
               "resource entry at offset 0x410 has its name at offset 0x800003f0, outside the "
               "resource section");
  }
  SECTION("a name whose length runs past the end of the section") {
    const std::size_t mui_name = pe.other_dir + 16;
    put16(b, mui_name, 0xffff);
    expect_bad(b, "resource entry at offset 0x410 has a name of 65535 UTF-16 units at offset");
  }
  SECTION("a named language entry whose name lies outside the section") {
    put32(b, pe.lang_entry, 0x80000000u | 0x00fffff0u);
    expect_bad(b, "has its name at offset");
  }
  SECTION("data where a directory is expected, under a type the reader does not need") {
    put32(b, pe.rsrc + 16 + 8 + 4, rel(pe.data_entry));  // RT_ICON: data at the name level
    expect_bad(b, "resource type 3 entry at offset 0x418 points to data where a directory");
  }
  SECTION("overlapping directories declaring more entries than the section holds") {
    // One type, whose name directory leads to language directories 8 bytes apart, each
    // declaring 16 entries over the same bytes: a walk over such a tree grows with the
    // square of the section's size. Every directory is in bounds; together they overlap.
    const std::size_t area = b.size() - pe.rsrc;
    std::fill(b.begin() + static_cast<std::ptrdiff_t>(pe.rsrc), b.end(), 0);
    put16(b, pe.rsrc + 14, 1);                   // root: one type
    put32(b, pe.rsrc + 16, 5);                   // RT_DIALOG
    put32(b, pe.rsrc + 20, 0x80000000u | 0x20);  // its name directory at 0x20
    const std::size_t first = 0x100;
    for (std::size_t slot = first; slot + 8 <= area; slot += 8) {
      put32(b, pe.rsrc + slot, 0x409);   // a language id
      put32(b, pe.rsrc + slot + 4, 16);  // data at 16; read as a count, 16 entries
    }
    const std::size_t names = std::min((first - 0x30) / 8, (area - first - 16 - 16 * 8) / 8);
    put16(b, pe.rsrc + 0x20 + 14, static_cast<std::uint32_t>(names));
    for (std::size_t i = 0; i < names; ++i) {
      put32(b, pe.rsrc + 0x30 + 8 * i, static_cast<std::uint32_t>(1 + i));
      put32(b, pe.rsrc + 0x30 + 8 * i + 4, 0x80000000u | static_cast<std::uint32_t>(first + 8 * i));
    }
    REQUIRE(0x30 + 8 * names <= first);
    expect_bad(b, "more than the resource section holds: they overlap");
  }
  SECTION("version data size absurd") {
    put32(b, pe.data_entry + 4, 0xfffffff0u);
    expect_bad(b, "(4294967280 bytes) extends past the data of section \".rsrc\"");
  }
}

TEST_CASE("The subdirectory-outside message names the file offset") {
  PeImage pe = versioned_pe();
  put32(pe.bytes, pe.version_entry + 4, 0x80000000u | 0x1000);
  expect_bad(pe.bytes, "resource directory at offset 0x1400 is outside the resource section");
}

TEST_CASE("Broken version resources are errors") {
  auto with_blob = [](const Bytes& blob) {
    PeOptions options;
    options.version_data = blob;
    return build_pe(options);
  };
  PeImage pe = versioned_pe();
  Bytes b = pe.bytes;
  const std::size_t blob = pe.blob;

  SECTION("VS_VERSIONINFO wLength larger than the data") {
    put16(b, blob, static_cast<std::uint32_t>(pe.blob_size + 4));
    expect_bad(b, "VS_VERSIONINFO at offset 0x480 has length " + std::to_string(pe.blob_size + 4) +
                      " but only " + std::to_string(pe.blob_size) + " bytes remain in its parent");
  }
  SECTION("VS_VERSIONINFO wLength at its maximum") {
    put16(b, blob, 0xffff);
    expect_bad(b, "has length 65535 but only");
  }
  SECTION("VS_VERSIONINFO wLength smaller than a header") {
    put16(b, blob, 2);
    expect_bad(b, "VS_VERSIONINFO at offset 0x480 has length 2, smaller than its 6-byte header");
  }
  SECTION("resource data smaller than a block header") {
    put32(b, pe.data_entry + 4, 4);
    expect_bad(b, "VS_VERSIONINFO at offset 0x480 is truncated: 4 bytes left");
  }
  SECTION("a child longer than VS_VERSIONINFO") {
    // StringFileInfo follows the 52-byte fixed info after the 40-byte header and key.
    std::size_t child = blob + 40 + 52;
    REQUIRE(get16(b, child + 6) == 'S');
    put16(b, child, 0xfff0);
    expect_bad(b, "VS_VERSIONINFO child at offset 0x4dc has length 65520 but only");
  }
  SECTION("a child of length zero") {
    std::size_t child = blob + 40 + 52;
    put16(b, child, 0);
    expect_bad(b, "VS_VERSIONINFO child at offset 0x4dc has length 0, smaller than its 6-byte");
  }
  SECTION("bad VS_FIXEDFILEINFO signature") {
    VersionSpec spec;
    Bytes bad =
        block(u"VS_VERSION_INFO", fixed_file_info(spec.file, spec.product, 0xFEEF04BC), 52, 0);
    expect_bad(with_blob(bad).bytes,
               "VS_FIXEDFILEINFO at offset 0x4a8 has signature 0xfeef04bc, expected 0xfeef04bd");
  }
  SECTION("VS_FIXEDFILEINFO too short") {
    put16(b, blob + 2, 20);
    expect_bad(b, "VS_FIXEDFILEINFO at offset 0x4a8 is 20 bytes, expected 52");
  }
  SECTION("VS_FIXEDFILEINFO longer than VS_VERSIONINFO") {
    put16(b, blob + 2, 0xfff0);
    expect_bad(b, "VS_FIXEDFILEINFO at offset 0x4a8 (65520 bytes) extends past the end");
  }
  SECTION("wrong root key") {
    Bytes bad = block(u"VS_VERSION_INFX", fixed_file_info({}, {}), 52, 0);
    expect_bad(with_blob(bad).bytes, "has key \"VS_VERSION_INFX\", expected \"VS_VERSION_INFO\"");
  }
  SECTION("key without a terminating NUL") {
    Bytes bad(6, 0);
    for (char16_t c : std::u16string(u"VS_VERSION_INFO")) append16(bad, c);
    put16(bad, 0, static_cast<std::uint32_t>(bad.size()));
    expect_bad(with_blob(bad).bytes,
               "VS_VERSIONINFO at offset 0x480 has a key without a terminating NUL");
  }
  SECTION("a String longer than its StringTable") {
    Bytes table = string_table(u"040904b0", {{u"A", u"1"}, {u"B", u"2"}});
    put16(table, 24, 0x400);  // the first String, after the table's 24-byte header and key
    Bytes bad = block(u"VS_VERSION_INFO", {}, 0, 0, {block(u"StringFileInfo", {}, 0, 1, {table})});
    expect_bad(with_blob(bad).bytes, "String at offset");
  }
}

// ---------------------------------------------------------------------------
// ELF

namespace {

Bytes elf_header(int elf_class, bool little_endian, unsigned machine) {
  Bytes b(elf_class == 32 ? 52 : 64, 0);
  b[0] = 0x7f;
  b[1] = 'E';
  b[2] = 'L';
  b[3] = 'F';
  b[4] = elf_class == 32 ? 1 : 2;
  b[5] = little_endian ? 1 : 2;
  b[6] = 1;
  // e_type ET_DYN, e_machine, e_version in the file's byte order.
  auto put = [&](std::size_t offset, std::uint32_t value, int width) {
    for (int i = 0; i < width; ++i) {
      int shift = little_endian ? 8 * i : 8 * (width - 1 - i);
      b[offset + i] = static_cast<std::uint8_t>(value >> shift);
    }
  };
  put(16, 3, 2);
  put(18, machine, 2);
  put(20, 1, 4);
  return b;
}

}  // namespace

TEST_CASE("ELF files of both classes and byte orders report class, order and machine") {
  struct Case {
    unsigned machine;
    std::optional<Arch> arch;
  };
  for (Case c : {Case{3, Arch::kX86}, Case{62, Arch::kX64}, Case{50, Arch::kIa64},
                 Case{183, Arch::kArm64}, Case{40, std::nullopt}, Case{8, std::nullopt},
                 Case{243, std::nullopt}, Case{0x9026, std::nullopt}}) {
    for (int elf_class : {32, 64}) {
      for (bool little : {true, false}) {
        INFO("machine " << c.machine << " class " << elf_class << (little ? " LE" : " BE"));
        Bytes b = elf_header(elf_class, little, c.machine);
        b.resize(b.size() + 100, 0xab);  // program headers and the rest
        FileIdentity id = identify(b);
        REQUIRE(id.format == Format::kElf);
        REQUIRE(id.elf);
        CHECK_FALSE(id.pe);
        CHECK(id.elf->elf_class == elf_class);
        CHECK(id.elf->little_endian == little);
        CHECK(id.elf->machine == c.machine);
        CHECK(id.arch() == c.arch);
        CHECK_FALSE(id.version());
      }
    }
  }
}

TEST_CASE("A truncated ELF header is an error") {
  for (int elf_class : {32, 64}) {
    Bytes full = elf_header(elf_class, true, 62);
    for (std::size_t length = 4; length < full.size(); ++length) {
      INFO("class " << elf_class << " length " << length);
      expect_bad(Bytes(full.begin(), full.begin() + length),
                 length < 16 ? "ELF identification is truncated"
                             : "ELF header is truncated: " + std::to_string(length) + " bytes, a " +
                                   std::to_string(elf_class) + "-bit header needs " +
                                   std::to_string(full.size()));
    }
    CHECK(identify(full).format == Format::kElf);
  }
}

TEST_CASE("An ELF header with an unknown class, byte order or version is an error") {
  Bytes b = elf_header(64, true, 62);
  SECTION("class") {
    for (std::uint8_t bad : {0, 3, 0xff}) {
      b[4] = bad;
      expect_bad(b, "unknown ELF class " + std::to_string(bad));
    }
  }
  SECTION("byte order") {
    for (std::uint8_t bad : {0, 3}) {
      b[5] = bad;
      expect_bad(b, "unknown ELF data encoding " + std::to_string(bad));
    }
  }
  SECTION("version") {
    b[6] = 0;
    expect_bad(b, "unsupported ELF version 0");
  }
}

// ---------------------------------------------------------------------------
// Robustness: every single-byte corruption and every truncation of a valid image either
// parses or throws hotfix::Error. Each input lives in an allocation of exactly its size so
// that AddressSanitizer catches any read past the end.

namespace {

struct Outcomes {
  std::size_t parsed = 0;
  std::size_t rejected = 0;
};

void identify_exactly(const std::uint8_t* data, std::size_t size, const std::string& what,
                      Outcomes& outcomes) {
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[size == 0 ? 1 : size]);
  if (size != 0) std::memcpy(copy.get(), data, size);
  try {
    identify_bytes({copy.get(), size}, "fuzz.dll");
    ++outcomes.parsed;
  } catch (const hotfix::Error& e) {
    if (e.kind() != hotfix::ErrorKind::kBadInput || e.message().empty()) {
      FAIL(what << ": unexpected error kind or empty message: " << e.what());
    }
    ++outcomes.rejected;
  } catch (const std::exception& e) {
    FAIL(what << ": not a hotfix::Error: " << e.what());
  }
}

}  // namespace

TEST_CASE("Every corrupted byte and every truncation of a PE is parsed or rejected cleanly") {
  for (bool plus : {false, true}) {
    PeImage pe = versioned_pe(plus ? 0x8664 : 0x14c, plus);
    const Bytes& good = pe.bytes;
    const std::size_t end = pe.blob + pe.blob_size;  // headers, section table and resources
    Outcomes outcomes;
    for (std::size_t offset = 0; offset < end; ++offset) {
      for (std::uint8_t value : {0x00, 0xff, 0x80, 0x7f, 0x01}) {
        Bytes b = good;
        b[offset] = value;
        identify_exactly(b.data(), b.size(),
                         "byte " + std::to_string(offset) + " = " + std::to_string(value),
                         outcomes);
      }
    }
    for (std::size_t length = 0; length <= good.size(); ++length) {
      identify_exactly(good.data(), length, "length " + std::to_string(length), outcomes);
    }
    INFO((plus ? "PE32+" : "PE32")
         << ": " << outcomes.parsed << " parsed, " << outcomes.rejected << " rejected");
    // Both outcomes must occur, or the corruptions did not reach the parser.
    CHECK(outcomes.parsed > 0);
    CHECK(outcomes.rejected > 0);
  }
}

TEST_CASE("Every corrupted byte and every truncation of an ELF header is handled cleanly") {
  for (int elf_class : {32, 64}) {
    for (bool little : {true, false}) {
      Bytes good = elf_header(elf_class, little, 62);
      Outcomes outcomes;
      for (std::size_t offset = 0; offset < good.size(); ++offset) {
        for (std::uint8_t value : {0x00, 0xff, 0x02}) {
          Bytes b = good;
          b[offset] = value;
          identify_exactly(b.data(), b.size(), "byte " + std::to_string(offset), outcomes);
        }
      }
      for (std::size_t length = 0; length <= good.size(); ++length) {
        identify_exactly(good.data(), length, "length " + std::to_string(length), outcomes);
      }
      CHECK(outcomes.parsed > 0);
      CHECK(outcomes.rejected > 0);
    }
  }
}

// ---------------------------------------------------------------------------
// identify_file

TEST_CASE("identify_file reads files from disk like identify_bytes") {
  hotfix::test::TempDir dir;
  PeImage pe = versioned_pe(0x14c, false);
  hotfix::test::write_file(dir / "nativerd.dll", std::string(pe.bytes.begin(), pe.bytes.end()));
  FileIdentity id = hotfix::identify_file((dir / "nativerd.dll").string());
  REQUIRE(id.format == Format::kPe);
  CHECK(id.pe->machine == 0x14c);
  CHECK(id.version() == Version(7, 0, 6001, 22329));
  CHECK(id.pe->strings.at("OriginalFilename") == "nativerd.dll");

  hotfix::test::write_file(dir / "empty.xml", "");
  CHECK(hotfix::identify_file((dir / "empty.xml").string()).format == Format::kData);
  hotfix::test::write_file(dir / "one", "M");
  CHECK(hotfix::identify_file((dir / "one").string()).format == Format::kData);
  Bytes elf = elf_header(64, true, 62);
  hotfix::test::write_file(dir / "tool", std::string(elf.begin(), elf.end()));
  CHECK(hotfix::identify_file((dir / "tool").string()).elf->machine == 62);
}

TEST_CASE("identify_file names the file in its errors") {
  hotfix::test::TempDir dir;
  SECTION("missing file") {
    std::string path = (dir / "missing.dll").string();
    try {
      hotfix::identify_file(path);
      FAIL("no error");
    } catch (const hotfix::SystemError& e) {
      CHECK(e.error_number() == ENOENT);
      CHECK(e.where() == path);
      CHECK_THAT(e.what(), Contains(path));
    }
  }
  SECTION("broken PE") {
    PeImage pe = versioned_pe();
    put16(pe.bytes, pe.root + 14, 0xffff);
    std::string path = (dir / "broken.dll").string();
    hotfix::test::write_file(path, std::string(pe.bytes.begin(), pe.bytes.end()));
    try {
      hotfix::identify_file(path);
      FAIL("no error");
    } catch (const hotfix::Error& e) {
      CHECK(e.kind() == hotfix::ErrorKind::kBadInput);
      CHECK(e.where() == path);
      CHECK_THAT(e.message(), Contains("declares 65536 entries"));
    }
  }
  SECTION("a directory") {
    try {
      hotfix::identify_file(dir.path().string());
      FAIL("no error");
    } catch (const hotfix::Error& e) {
      CHECK(e.kind() == hotfix::ErrorKind::kBadInput);
      CHECK(e.message() == "not a regular file");
    }
  }
  SECTION("a FIFO is rejected without waiting for a writer") {
    std::string path = (dir / "fifo").string();
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    CHECK_THROWS_AS(hotfix::identify_file(path), hotfix::Error);
  }
}
