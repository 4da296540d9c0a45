#include "manifests/arch.h"

#include "manifests/case_fold.h"

#include <algorithm>
#include <cctype>

namespace hotfix {

std::string_view arch_token(Arch arch) {
  switch (arch) {
    case Arch::kX86:
      return "x86";
    case Arch::kX64:
      return "x64";
    case Arch::kIa64:
      return "ia64";
    case Arch::kArm64:
      return "arm64";
    case Arch::kNeutral:
      return "neutral";
  }
  return "neutral";
}

std::string_view arch_display(Arch arch) {
  switch (arch) {
    case Arch::kX86:
      return "x86";
    case Arch::kX64:
      return "x64";
    case Arch::kIa64:
      return "IA-64";
    case Arch::kArm64:
      return "ARM64";
    case Arch::kNeutral:
      return "Not Applicable";
  }
  return "Not Applicable";
}

std::optional<Arch> parse_arch(std::string_view text) {
  const std::string lower = ascii_lower(text);
  if (lower == "x86") return Arch::kX86;
  if (lower == "x64") return Arch::kX64;
  if (lower == "ia64" || lower == "ia-64") return Arch::kIa64;
  if (lower == "arm64") return Arch::kArm64;
  if (lower == "neutral" || lower == "not applicable") return Arch::kNeutral;
  return std::nullopt;
}

std::optional<Arch> arch_from_pe_machine(unsigned machine) {
  switch (machine) {
    case 0x14c:
      return Arch::kX86;
    case 0x8664:
      return Arch::kX64;
    case 0x200:
      return Arch::kIa64;
    case 0xaa64:
      return Arch::kArm64;
    default:
      return std::nullopt;
  }
}

unsigned pe_machine_for(Arch arch) {
  switch (arch) {
    case Arch::kX86:
      return 0x14c;
    case Arch::kX64:
      return 0x8664;
    case Arch::kIa64:
      return 0x200;
    case Arch::kArm64:
      return 0xaa64;
    case Arch::kNeutral:
      return 0;
  }
  return 0;
}

}  // namespace hotfix
