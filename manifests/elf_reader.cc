#include "manifests/elf_reader.h"

#include "manifests/byte_view.h"

namespace hotfix {

namespace {

constexpr std::uint64_t kIdentSize = 16;
constexpr std::uint64_t kMachineOffset = 18;
constexpr std::uint64_t kHeaderSize32 = 52;
constexpr std::uint64_t kHeaderSize64 = 64;

constexpr unsigned kEm386 = 3;
constexpr unsigned kEmIa64 = 50;
constexpr unsigned kEmX8664 = 62;
constexpr unsigned kEmAarch64 = 183;

}  // namespace

std::optional<ElfInfo> read_elf(std::span<const std::uint8_t> bytes, const std::string& source) {
  ByteView view(bytes, source);
  if (view.size() < 4 || view.u8(0) != 0x7f || view.u8(1) != 'E' || view.u8(2) != 'L' ||
      view.u8(3) != 'F') {
    return std::nullopt;
  }
  if (view.size() < kIdentSize) {
    view.fail("ELF identification is truncated: " + std::to_string(view.size()) + " of " +
              std::to_string(kIdentSize) + " bytes");
  }
  ElfInfo info;
  std::uint8_t elf_class = view.u8(4);
  if (elf_class != 1 && elf_class != 2) {
    view.fail("unknown ELF class " + std::to_string(elf_class) + " (expected 1 or 2)");
  }
  info.elf_class = elf_class == 1 ? 32 : 64;
  std::uint8_t data = view.u8(5);
  if (data != 1 && data != 2) {
    view.fail("unknown ELF data encoding " + std::to_string(data) + " (expected 1 or 2)");
  }
  info.little_endian = data == 1;
  std::uint8_t version = view.u8(6);
  if (version != 1) {
    view.fail("unsupported ELF version " + std::to_string(version) + " (expected 1)");
  }
  std::uint64_t header_size = info.elf_class == 32 ? kHeaderSize32 : kHeaderSize64;
  if (view.size() < header_size) {
    view.fail("ELF header is truncated: " + std::to_string(view.size()) + " bytes, a " +
              std::to_string(info.elf_class) + "-bit header needs " + std::to_string(header_size));
  }
  info.machine = info.little_endian ? view.u16le(kMachineOffset) : view.u16be(kMachineOffset);
  return info;
}

std::optional<Arch> arch_from_elf_machine(unsigned machine) {
  switch (machine) {
    case kEm386:
      return Arch::kX86;
    case kEmX8664:
      return Arch::kX64;
    case kEmIa64:
      return Arch::kIa64;
    case kEmAarch64:
      return Arch::kArm64;
    default:
      return std::nullopt;
  }
}

}  // namespace hotfix
