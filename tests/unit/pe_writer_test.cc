#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "manifests/errors.h"
#include "manifests/pe_reader.h"
#include "samples/standins/pe_writer.h"
#include "samples/standins/version_resource_writer.h"

using hotfix::Arch;
using hotfix::Version;
using namespace hotfix::standins;

namespace {

// An independent reader of what the writer must produce, following the PE/COFF
// specification rather than the writer's code.
std::uint32_t u16(const std::string& b, std::size_t at) {
  REQUIRE(at + 2 <= b.size());
  return static_cast<std::uint8_t>(b[at]) | static_cast<std::uint8_t>(b[at + 1]) << 8;
}
std::uint32_t u32(const std::string& b, std::size_t at) {
  return u16(b, at) | u16(b, at + 2) << 16;
}

struct Section {
  std::string name;
  std::uint32_t virtual_size, rva, raw_size, raw_offset, characteristics;
};

struct Parsed {
  std::uint32_t machine, characteristics, magic, section_alignment, file_alignment;
  std::uint32_t size_of_image, size_of_headers, size_of_code, entry_point;
  std::uint32_t resource_rva, resource_size;
  std::vector<Section> sections;
};

Parsed parse_pe(const std::string& b) {
  Parsed p{};
  REQUIRE(b.substr(0, 2) == "MZ");
  const std::uint32_t pe = u32(b, 0x3C);
  REQUIRE(b.substr(0x40, 0x50 - 0x40).find("\x0e\x1f\xba\x0e") == 0);  // a DOS stub is there
  REQUIRE(b.find("This program cannot be run in DOS mode.") < pe);
  REQUIRE(b.substr(pe, 4) == std::string("PE\0\0", 4));
  p.machine = u16(b, pe + 4);
  const std::uint32_t sections = u16(b, pe + 6);
  const std::uint32_t optional_size = u16(b, pe + 20);
  p.characteristics = u16(b, pe + 22);
  const std::size_t opt = pe + 24;
  p.magic = u16(b, opt);
  const bool plus = p.magic == 0x20B;
  p.size_of_code = u32(b, opt + 4);
  p.entry_point = u32(b, opt + 16);
  p.section_alignment = u32(b, opt + 32);
  p.file_alignment = u32(b, opt + 36);
  p.size_of_image = u32(b, opt + 56);
  p.size_of_headers = u32(b, opt + 60);
  const std::size_t dirs = opt + (plus ? 112 : 96);
  REQUIRE(u32(b, dirs - 4) == 16);  // NumberOfRvaAndSizes
  REQUIRE(optional_size == (plus ? 112 : 96) + 16 * 8);
  p.resource_rva = u32(b, dirs + 2 * 8);
  p.resource_size = u32(b, dirs + 2 * 8 + 4);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i != 2) CHECK(u32(b, dirs + i * 8) == 0);
  }
  const std::size_t table = opt + optional_size;
  for (std::uint32_t i = 0; i < sections; ++i) {
    const std::size_t s = table + i * 40;
    std::string name = b.substr(s, 8);
    name.resize(name.find('\0') == std::string::npos ? 8 : name.find('\0'));
    p.sections.push_back(
        {name, u32(b, s + 8), u32(b, s + 12), u32(b, s + 16), u32(b, s + 20), u32(b, s + 36)});
  }
  REQUIRE(table + sections * 40 <= p.size_of_headers);
  return p;
}

std::size_t rva_to_offset(const Parsed& p, std::uint32_t rva) {
  for (const Section& s : p.sections) {
    if (rva >= s.rva && rva < s.rva + s.raw_size) return s.raw_offset + (rva - s.rva);
  }
  FAIL("rva " << rva << " outside every section");
  return 0;
}

std::string utf16_key(const std::string& b, std::size_t at, std::size_t* end) {
  std::string key;
  for (;; at += 2) {
    std::uint32_t c = u16(b, at);
    if (c == 0) break;
    key.push_back(static_cast<char>(c));
  }
  *end = at + 2;
  return key;
}

std::size_t align4(std::size_t v) { return (v + 3) & ~std::size_t{3}; }

struct VersionTree {
  std::uint32_t signature = 0, file_ms = 0, file_ls = 0, product_ms = 0, product_ls = 0;
  std::uint32_t file_os = 0, file_type = 0, translation = 0;
  std::map<std::string, std::string> strings;
};

// Walks VS_VERSIONINFO: every node starts DWORD-aligned and children fill their parent.
void walk(const std::string& b, std::size_t base, std::size_t at, const std::string& parent,
          VersionTree& tree) {
  REQUIRE((at - base) % 4 == 0);
  const std::size_t length = u16(b, at), value_length = u16(b, at + 2), type = u16(b, at + 4);
  REQUIRE(length >= 6);
  const std::size_t end = at + length;
  std::size_t key_end = 0;
  const std::string key = utf16_key(b, at + 6, &key_end);
  std::size_t value = base + align4(key_end - base);
  if (parent.empty()) {
    REQUIRE(key == "VS_VERSION_INFO");
    REQUIRE(value_length == 52);
    tree.signature = u32(b, value);
    tree.file_ms = u32(b, value + 8);
    tree.file_ls = u32(b, value + 12);
    tree.product_ms = u32(b, value + 16);
    tree.product_ls = u32(b, value + 20);
    tree.file_os = u32(b, value + 32);
    tree.file_type = u32(b, value + 36);
  } else if (parent == "040904B0") {
    CHECK(type == 1);
    std::size_t ignored = 0;
    std::string text = utf16_key(b, value, &ignored);
    CHECK(value_length == text.size() + 1);
    tree.strings[key] = text;
    return;
  } else if (key == "Translation") {
    CHECK(value_length == 4);
    tree.translation = u32(b, value);
    return;
  }
  std::size_t child = base + align4(value + (type == 0 ? value_length : 0) - base);
  while (child < end) {
    REQUIRE(u16(b, child) >= 6);
    walk(b, base, child, key, tree);
    child = base + align4(child + u16(b, child) - base);
  }
  CHECK(child == base + align4(end - base));
}

VersionTree read_version_resource(const std::string& b, const Parsed& p) {
  const std::size_t rsrc = rva_to_offset(p, p.resource_rva);
  // Root directory: one id entry, RT_VERSION, pointing at a subdirectory.
  auto entry = [&](std::size_t dir, std::uint32_t expected_id) {
    REQUIRE(u16(b, dir + 12) == 0);  // named entries
    REQUIRE(u16(b, dir + 14) == 1);  // id entries
    CHECK(u32(b, dir + 16) == expected_id);
    return u32(b, dir + 20);
  };
  std::uint32_t names = entry(rsrc, 16);
  REQUIRE((names & 0x80000000U) != 0);
  std::uint32_t languages = entry(rsrc + (names & 0x7FFFFFFF), 1);
  REQUIRE((languages & 0x80000000U) != 0);
  std::uint32_t data = entry(rsrc + (languages & 0x7FFFFFFF), 0x0409);
  REQUIRE((data & 0x80000000U) == 0);
  const std::uint32_t data_rva = u32(b, rsrc + data);
  const std::uint32_t data_size = u32(b, rsrc + data + 4);
  const std::size_t block = rva_to_offset(p, data_rva);
  REQUIRE(block % 4 == 0);
  REQUIRE(u16(b, block) == data_size);
  REQUIRE(data_rva + data_size <= p.resource_rva + p.resource_size);
  VersionTree tree;
  walk(b, block, block, "", tree);
  return tree;
}

PeImageSpec spec_for(Arch arch, bool dll, std::uint64_t size) {
  VersionInfo info{Version(7, 0, 6001, 22329),
                   Version(7, 0, 6001, 22329),
                   dll,
                   {{"CompanyName", "hotfix sample stand-in"},
                    {"FileDescription", "Stand-in for Admwprox.dll"},
                    {"FileVersion", "7.0.6001.22329"},
                    {"OriginalFilename", "Admwprox.dll"}}};
  PeImageSpec spec;
  spec.arch = arch;
  spec.dll = dll;
  spec.link_time = hotfix::Timestamp(1229142420);
  spec.version_info = version_info_block(info);
  spec.size = size;
  spec.filler_seed = 42;
  return spec;
}

}  // namespace

TEST_CASE("PE images have the exact size, valid layout and alignment") {
  const auto arch = GENERATE(Arch::kX86, Arch::kX64, Arch::kIa64, Arch::kArm64);
  const bool dll = GENERATE(true, false);
  const std::uint64_t minimum = minimum_pe_image_size(spec_for(arch, dll, 0));
  for (std::uint64_t size : std::vector<std::uint64_t>{minimum, minimum + 1, minimum + 511,
                                                       minimum + 512, 10752, 51713, 154112}) {
    INFO("arch " << hotfix::arch_token(arch) << ", dll " << dll << ", size " << size);

    const std::string image = write_pe_image(spec_for(arch, dll, size), "test");
    REQUIRE(image.size() == size);
    const Parsed p = parse_pe(image);

    CHECK(p.machine == hotfix::pe_machine_for(arch));
    CHECK(p.magic == (arch == Arch::kX86 ? 0x10BU : 0x20BU));
    CHECK((p.characteristics & 0x0002) != 0);           // EXECUTABLE_IMAGE
    CHECK(((p.characteristics & 0x2000) != 0) == dll);  // DLL
    CHECK(p.file_alignment == 0x200);
    CHECK(p.section_alignment == 0x1000);
    CHECK(p.size_of_headers == 0x200);

    REQUIRE(p.sections.size() == 2);
    const Section& text = p.sections[0];
    const Section& rsrc = p.sections[1];
    CHECK(text.name == ".text");
    CHECK(rsrc.name == ".rsrc");
    CHECK(text.characteristics == 0x60000020U);
    CHECK(rsrc.characteristics == 0x40000040U);
    CHECK(text.raw_offset == p.size_of_headers);
    CHECK(rsrc.raw_offset == text.raw_offset + text.raw_size);
    for (const Section& s : p.sections) {
      CHECK(s.raw_offset % 0x200 == 0);
      CHECK(s.raw_size % 0x200 == 0);
      CHECK(s.rva % 0x1000 == 0);
      CHECK(s.virtual_size <= s.raw_size);
    }
    CHECK(text.raw_size >= 0x200);
    CHECK(rsrc.rva >= text.rva + text.virtual_size);
    CHECK(p.size_of_code == text.raw_size);
    CHECK(p.entry_point >= text.rva);
    CHECK(p.entry_point < text.rva + text.virtual_size);
    const std::uint64_t image_end = (rsrc.rva + rsrc.virtual_size + 0xFFFU) & ~0xFFFULL;
    CHECK(p.size_of_image == image_end);
    CHECK(p.resource_rva == rsrc.rva);
    CHECK(p.resource_size == rsrc.virtual_size);

    // What follows the last section is the overlay, always shorter than one FileAlignment unit.
    const std::uint64_t sections_end = rsrc.raw_offset + rsrc.raw_size;
    REQUIRE(sections_end <= size);
    CHECK(size - sections_end < 0x200);
    CHECK(size - sections_end == size % 0x200);

    const VersionTree v = read_version_resource(image, p);
    CHECK(v.signature == 0xFEEF04BDU);
    CHECK(Version::from_ms_ls(v.file_ms, v.file_ls) == Version(7, 0, 6001, 22329));
    CHECK(Version::from_ms_ls(v.product_ms, v.product_ls) == Version(7, 0, 6001, 22329));
    CHECK(v.file_os == 0x00040004U);        // VOS_NT_WINDOWS32
    CHECK(v.file_type == (dll ? 2U : 1U));  // VFT_DLL, VFT_APP
    CHECK(v.translation == (0x04B0U << 16 | 0x0409U));
    CHECK(v.strings.at("CompanyName") == "hotfix sample stand-in");
    CHECK(v.strings.at("FileVersion") == "7.0.6001.22329");
    CHECK(v.strings.at("OriginalFilename") == "Admwprox.dll");
    CHECK(v.strings.size() == 4);

    // The product's own PE reader agrees.
    const auto info = hotfix::read_pe(
        std::span(reinterpret_cast<const std::uint8_t*>(image.data()), image.size()), "test");
    REQUIRE(info);
    CHECK(info->machine == hotfix::pe_machine_for(arch));
    CHECK(info->pe32_plus == (arch != Arch::kX86));
    CHECK(info->is_dll == dll);
    CHECK(info->file_version == Version(7, 0, 6001, 22329));
    CHECK(info->product_version == Version(7, 0, 6001, 22329));
    CHECK(info->strings == v.strings);
  }
}

TEST_CASE("PE images grow .text by whole units and put the remainder in an overlay") {
  const std::uint64_t minimum = minimum_pe_image_size(spec_for(Arch::kX64, true, 0));
  const Parsed small = parse_pe(write_pe_image(spec_for(Arch::kX64, true, minimum), "t"));
  const Parsed same = parse_pe(write_pe_image(spec_for(Arch::kX64, true, minimum + 511), "t"));
  const Parsed bigger = parse_pe(write_pe_image(spec_for(Arch::kX64, true, minimum + 512), "t"));
  CHECK(small.sections[0].raw_size == 0x200);
  CHECK(same.sections[0].raw_size == 0x200);
  CHECK(bigger.sections[0].raw_size == 0x400);
  // .text beyond one SectionAlignment page moves .rsrc to the next page.
  const std::uint64_t pages = minimum + 0x1000;
  const Parsed moved = parse_pe(write_pe_image(spec_for(Arch::kX64, true, pages), "t"));
  CHECK(moved.sections[1].rva == 0x3000);
  CHECK(small.sections[1].rva == 0x2000);
}

TEST_CASE("PE images too small to hold the headers, .text and .rsrc are refused") {
  const PeImageSpec spec = spec_for(Arch::kX86, true, 0);
  const std::uint64_t minimum = minimum_pe_image_size(spec);
  CHECK(minimum == 0x200 + 0x200 + 0x400);  // headers, one unit of .text, the version resource
  for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{64}, minimum - 512, minimum - 1}) {
    INFO(size);
    PeImageSpec s = spec;
    s.size = size;
    try {
      (void)write_pe_image(s, "Admwprox.dll");
      FAIL("accepted a size below the minimum");
    } catch (const hotfix::Error& e) {
      CHECK(e.kind() == hotfix::ErrorKind::kBadInput);
      CHECK(e.where() == "Admwprox.dll");
      CHECK(e.message().find("too small") != std::string::npos);
      CHECK(e.message().find(std::to_string(minimum)) != std::string::npos);
    }
  }
}

TEST_CASE("PE images refuse a neutral architecture and sizes beyond the limit") {
  CHECK_THROWS_AS(write_pe_image(spec_for(Arch::kNeutral, true, 8192), "x"), hotfix::Error);
  CHECK_THROWS_AS(write_pe_image(spec_for(Arch::kX86, true, kMaxPeImageSize + 1), "x"),
                  hotfix::Error);
}

TEST_CASE("PE images are deterministic and the seed chooses the filler") {
  const std::string a = write_pe_image(spec_for(Arch::kX86, true, 51712), "t");
  CHECK(a == write_pe_image(spec_for(Arch::kX86, true, 51712), "t"));
  PeImageSpec other = spec_for(Arch::kX86, true, 51712);
  other.filler_seed = 43;
  const std::string b = write_pe_image(other, "t");
  REQUIRE(b.size() == a.size());
  CHECK(a.substr(0, 0x200) == b.substr(0, 0x200));  // same headers
  CHECK(a.substr(0x200, 0x1000) != b.substr(0x200, 0x1000));
}

TEST_CASE("Version strings may hold non-ASCII text as UTF-16") {
  VersionInfo info{Version(1, 2, 3, 4), Version(1, 2, 3, 4), false, {{"Comments", "caf\xc3\xa9"}}};
  const std::string block = version_info_block(info);
  // "café" in UTF-16LE, then the terminator.
  CHECK(block.find(std::string("c\0a\0f\0\xe9\0\0\0", 10)) != std::string::npos);
}
