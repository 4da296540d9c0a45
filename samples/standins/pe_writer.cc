#include "samples/standins/pe_writer.h"

#include <string_view>

#include "manifests/errors.h"
#include "samples/standins/byte_buffer.h"
#include "samples/standins/code_filler.h"
#include "samples/standins/version_resource_writer.h"

namespace hotfix::standins {

namespace {

constexpr std::uint32_t kPeHeaderOffset = 0x80;
constexpr std::uint32_t kHeadersSize = kPeFileAlignment;  // everything fits in one unit
constexpr std::uint32_t kTextRva = kPeSectionAlignment;
constexpr std::uint16_t kNumberOfSections = 2;
constexpr std::uint32_t kNumberOfDataDirectories = 16;
constexpr std::size_t kResourceDirectory = 2;

constexpr std::uint16_t kFileExecutableImage = 0x0002;
constexpr std::uint16_t kFileLargeAddressAware = 0x0020;
constexpr std::uint16_t kFile32BitMachine = 0x0100;
constexpr std::uint16_t kFileDll = 0x2000;

constexpr std::uint32_t kSectionCode = 0x00000020;
constexpr std::uint32_t kSectionInitializedData = 0x00000040;
constexpr std::uint32_t kSectionExecute = 0x20000000;
constexpr std::uint32_t kSectionRead = 0x40000000;

constexpr std::uint16_t kSubsystemWindowsGui = 2;
constexpr std::uint16_t kSubsystemWindowsCui = 3;
constexpr std::uint16_t kDllNxCompat = 0x0100;

constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

bool is_pe32_plus(Arch arch) { return arch != Arch::kX86; }

void write_dos_header_and_stub(ByteBuffer& out) {
  out.u16(0x5A4D);               // e_magic "MZ"
  out.u16(0x90);                 // e_cblp
  out.u16(3);                    // e_cp
  out.u16(0);                    // e_crlc
  out.u16(4);                    // e_cparhdr
  out.u16(0);                    // e_minalloc
  out.u16(0xFFFF);               // e_maxalloc
  out.u16(0);                    // e_ss
  out.u16(0xB8);                 // e_sp
  out.u16(0);                    // e_csum
  out.u16(0);                    // e_ip
  out.u16(0);                    // e_cs
  out.u16(0x40);                 // e_lfarlc
  out.u16(0);                    // e_ovno
  out.zeros(0x3C - out.size());  // e_res, e_oemid, e_oeminfo, e_res2
  out.u32(kPeHeaderOffset);      // e_lfanew
  // The classic real-mode stub: print the message with INT 21h/09h, exit with INT 21h/4Ch.
  using namespace std::string_view_literals;
  out.bytes("\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"sv);
  out.bytes("This program cannot be run in DOS mode.\r\r\n$"sv);
  out.zeros(kPeHeaderOffset - out.size());
}

void write_section_header(ByteBuffer& out, std::string_view name, std::uint32_t virtual_size,
                          std::uint32_t rva, std::uint32_t raw_size, std::uint32_t raw_offset,
                          std::uint32_t characteristics) {
  std::string padded(name);
  padded.resize(8, '\0');
  out.bytes(padded);
  out.u32(virtual_size);
  out.u32(rva);
  out.u32(raw_size);
  out.u32(raw_offset);
  out.u32(0);  // PointerToRelocations
  out.u32(0);  // PointerToLinenumbers
  out.u16(0);  // NumberOfRelocations
  out.u16(0);  // NumberOfLinenumbers
  out.u32(characteristics);
}

std::uint64_t resource_raw_size(const PeImageSpec& spec) {
  return align_up(version_resource_section(spec.version_info, 0).size(), kPeFileAlignment);
}

}  // namespace

std::uint64_t minimum_pe_image_size(const PeImageSpec& spec) {
  return kHeadersSize + kPeFileAlignment + resource_raw_size(spec);
}

std::string write_pe_image(const PeImageSpec& spec, const std::string& where) {
  if (spec.arch == Arch::kNeutral) {
    throw Error(ErrorKind::kBadInput, where, "a PE image needs a machine type, not neutral");
  }
  const std::uint64_t minimum = minimum_pe_image_size(spec);
  if (spec.size < minimum) {
    throw Error(ErrorKind::kBadInput, where,
                "size " + std::to_string(spec.size) + " is too small for a valid PE image with " +
                    "a version resource: at least " + std::to_string(minimum) + " bytes needed");
  }
  if (spec.size > kMaxPeImageSize) {
    throw Error(ErrorKind::kBadInput, where,
                "size " + std::to_string(spec.size) + " is larger than the " +
                    std::to_string(kMaxPeImageSize) + " bytes a stand-in may have");
  }

  const bool plus = is_pe32_plus(spec.arch);
  const std::uint64_t rsrc_raw = resource_raw_size(spec);
  const std::uint64_t text_raw =
      (spec.size - kHeadersSize - rsrc_raw) / kPeFileAlignment * kPeFileAlignment;
  const std::uint64_t overlay = spec.size - kHeadersSize - rsrc_raw - text_raw;
  const std::uint64_t rsrc_rva = kTextRva + align_up(text_raw, kPeSectionAlignment);
  const std::string rsrc =
      version_resource_section(spec.version_info, static_cast<std::uint32_t>(rsrc_rva));
  const std::uint64_t image_size = rsrc_rva + align_up(rsrc.size(), kPeSectionAlignment);

  ByteBuffer out;
  write_dos_header_and_stub(out);

  // PE signature and COFF file header.
  out.bytes(std::string_view("PE\0\0", 4));
  out.u16(static_cast<std::uint16_t>(pe_machine_for(spec.arch)));
  out.u16(kNumberOfSections);
  out.u32(static_cast<std::uint32_t>(spec.link_time.unix_seconds()));
  out.u32(0);  // PointerToSymbolTable
  out.u32(0);  // NumberOfSymbols
  const std::uint16_t optional_header_size =
      static_cast<std::uint16_t>((plus ? 112 : 96) + 8 * kNumberOfDataDirectories);
  out.u16(optional_header_size);
  out.u16(static_cast<std::uint16_t>(kFileExecutableImage | (spec.dll ? kFileDll : 0) |
                                     (plus ? kFileLargeAddressAware : kFile32BitMachine)));

  // Optional header.
  const std::size_t optional_start = out.size();
  out.u16(plus ? 0x20B : 0x10B);                  // Magic
  out.u8(9);                                      // MajorLinkerVersion
  out.u8(0);                                      // MinorLinkerVersion
  out.u32(static_cast<std::uint32_t>(text_raw));  // SizeOfCode
  out.u32(static_cast<std::uint32_t>(rsrc_raw));  // SizeOfInitializedData
  out.u32(0);                                     // SizeOfUninitializedData
  out.u32(kTextRva);                              // AddressOfEntryPoint
  out.u32(kTextRva);                              // BaseOfCode
  if (plus) {
    out.u64(spec.dll ? 0x180000000ULL : 0x140000000ULL);  // ImageBase
  } else {
    out.u32(static_cast<std::uint32_t>(rsrc_rva));  // BaseOfData
    out.u32(spec.dll ? 0x10000000U : 0x00400000U);  // ImageBase
  }
  out.u32(kPeSectionAlignment);
  out.u32(kPeFileAlignment);
  out.u16(6);  // MajorOperatingSystemVersion: Windows Vista / Server 2008
  out.u16(0);
  out.u16(6);  // MajorImageVersion
  out.u16(0);
  out.u16(6);  // MajorSubsystemVersion
  out.u16(0);
  out.u32(0);  // Win32VersionValue
  out.u32(static_cast<std::uint32_t>(image_size));
  out.u32(kHeadersSize);
  out.u32(0);  // CheckSum: not verified for files outside the boot path
  out.u16(spec.dll ? kSubsystemWindowsGui : kSubsystemWindowsCui);
  out.u16(kDllNxCompat);
  auto stack_or_heap = [&out, plus](std::uint64_t value) {
    if (plus) {
      out.u64(value);
    } else {
      out.u32(static_cast<std::uint32_t>(value));
    }
  };
  stack_or_heap(0x100000);  // SizeOfStackReserve
  stack_or_heap(0x1000);    // SizeOfStackCommit
  stack_or_heap(0x100000);  // SizeOfHeapReserve
  stack_or_heap(0x1000);    // SizeOfHeapCommit
  out.u32(0);               // LoaderFlags
  out.u32(kNumberOfDataDirectories);
  for (std::size_t i = 0; i < kNumberOfDataDirectories; ++i) {
    out.u32(i == kResourceDirectory ? static_cast<std::uint32_t>(rsrc_rva) : 0);
    out.u32(i == kResourceDirectory ? static_cast<std::uint32_t>(rsrc.size()) : 0);
  }
  if (out.size() - optional_start != optional_header_size) {
    throw Error(ErrorKind::kInternal, where, "optional header size mismatch");
  }

  write_section_header(out, ".text", static_cast<std::uint32_t>(text_raw), kTextRva,
                       static_cast<std::uint32_t>(text_raw), kHeadersSize,
                       kSectionCode | kSectionExecute | kSectionRead);
  write_section_header(out, ".rsrc", static_cast<std::uint32_t>(rsrc.size()),
                       static_cast<std::uint32_t>(rsrc_rva), static_cast<std::uint32_t>(rsrc_raw),
                       static_cast<std::uint32_t>(kHeadersSize + text_raw),
                       kSectionInitializedData | kSectionRead);
  if (out.size() > kHeadersSize) {
    throw Error(ErrorKind::kInternal, where, "PE headers overflow SizeOfHeaders");
  }
  out.align(kPeFileAlignment);

  out.bytes(code_like_bytes(spec.filler_seed, static_cast<std::size_t>(text_raw)));
  out.bytes(rsrc);
  out.align(kPeFileAlignment);
  // The overlay gets its own stream so that it does not repeat the start of .text.
  out.bytes(code_like_bytes(~spec.filler_seed, static_cast<std::size_t>(overlay)));
  if (out.size() != spec.size) {
    throw Error(ErrorKind::kInternal, where, "PE image size mismatch");
  }
  return out.take();
}

}  // namespace hotfix::standins
