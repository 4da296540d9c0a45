// Writes a small but well-formed Windows PE image in memory: DOS header and stub, PE
// headers, a .text section of code-like filler and a .rsrc section holding a version
// resource, padded to an exact file size.
#pragma once

#include <cstdint>
#include <string>

#include "manifests/arch.h"
#include "manifests/timestamp.h"

namespace hotfix::standins {

inline constexpr std::uint32_t kPeFileAlignment = 0x200;
inline constexpr std::uint32_t kPeSectionAlignment = 0x1000;

struct PeImageSpec {
  Arch arch = Arch::kX86;    // x86: PE32; x64, ia64, arm64: PE32+
  bool dll = false;          // IMAGE_FILE_DLL
  Timestamp link_time;       // the COFF header's TimeDateStamp
  std::string version_info;  // VS_VERSIONINFO block (version_resource.h)
  std::uint64_t size = 0;    // exact size of the file written
  std::uint64_t filler_seed = 0;
};

// Largest image written: stand-ins are built in memory.
inline constexpr std::uint64_t kMaxPeImageSize = std::uint64_t{1} << 30;

// The smallest `size` for which write_pe_image succeeds with this spec.
std::uint64_t minimum_pe_image_size(const PeImageSpec& spec);

// The image, exactly spec.size bytes: .text grows in whole FileAlignment units, and any
// remainder below 0x200 bytes follows the last section as an overlay. Throws
// Error(kBadInput, where, ...) when the size is too small or too large or the
// architecture is neutral.
std::string write_pe_image(const PeImageSpec& spec, const std::string& where);

}  // namespace hotfix::standins
