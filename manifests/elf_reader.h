// What an ELF header says about its file: 32 or 64 bits, byte order, machine.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "manifests/arch.h"

namespace hotfix {

struct ElfInfo {
  int elf_class = 0;     // 32 or 64
  unsigned machine = 0;  // e_machine: 3 (EM_386), 62 (EM_X86_64), 50 (EM_IA_64), 183 (EM_AARCH64)
  bool little_endian = true;
};

// Returns nullopt when the bytes do not start with "\x7fELF". Throws
// hotfix::Error(kBadInput, source, ...) when they do but the header is truncated or
// names an unknown class, byte order or ELF version.
std::optional<ElfInfo> read_elf(std::span<const std::uint8_t> bytes, const std::string& source);

// EM_386 -> x86, EM_X86_64 -> x64, EM_IA_64 -> ia64, EM_AARCH64 -> arm64; nullopt otherwise.
std::optional<Arch> arch_from_elf_machine(unsigned machine);

}  // namespace hotfix
