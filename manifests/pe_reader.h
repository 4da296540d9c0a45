// What a PE (Portable Executable) image says about itself: machine, PE32 or PE32+,
// DLL or not, and its version resource.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "manifests/version.h"

namespace hotfix {

struct PeInfo {
  unsigned machine = 0;                    // COFF machine: 0x14c, 0x8664, 0x200, 0xaa64, ...
  bool pe32_plus = false;                  // optional header magic 0x20b (0x10b is PE32)
  bool is_dll = false;                     // IMAGE_FILE_DLL characteristic
  std::optional<Version> file_version;     // VS_FIXEDFILEINFO, when there is a version resource
  std::optional<Version> product_version;  // VS_FIXEDFILEINFO, when there is a version resource
  // The first string table of StringFileInfo (FileVersion, ProductVersion, OriginalFilename,
  // CompanyName, ...), decoded to UTF-8. Empty without a version resource.
  std::map<std::string, std::string> strings;
};

// Returns nullopt when the bytes are not a PE image: no "MZ" DOS header, or no
// "PE\0\0" signature where the DOS header points (a plain DOS program).
// Throws hotfix::Error(kBadInput, source, ...) when the PE signature is there but the
// headers, the section table, the resource tree or the version resource are broken.
std::optional<PeInfo> read_pe(std::span<const std::uint8_t> bytes, const std::string& source);

}  // namespace hotfix
