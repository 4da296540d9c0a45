// Processor architectures a hotfix file or bundle is built for.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hotfix {

// kNeutral is for data files with no machine code ("Not Applicable" in the article).
enum class Arch { kX86, kX64, kIa64, kArm64, kNeutral };

// Canonical token used in manifests and bundle names: x86, x64, ia64, arm64, neutral.
std::string_view arch_token(Arch arch);

// The article's spelling: x86, x64, IA-64, ARM64, Not Applicable.
std::string_view arch_display(Arch arch);

// Accepts canonical tokens and the article's spellings, case-insensitively
// ("x86", "x64", "IA-64", "ia64", "arm64", "neutral", "Not Applicable").
std::optional<Arch> parse_arch(std::string_view text);

// PE COFF machine type (0x14c, 0x8664, 0x200, 0xaa64) to architecture.
std::optional<Arch> arch_from_pe_machine(unsigned machine);
unsigned pe_machine_for(Arch arch);  // 0 for kNeutral

}  // namespace hotfix
