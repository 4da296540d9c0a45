// The Windows version resource (RT_VERSION): VS_VERSIONINFO with VS_FIXEDFILEINFO,
// StringFileInfo and VarFileInfo, and the .rsrc section that holds it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "manifests/version.h"

namespace hotfix::standins {

struct VersionInfo {
  Version file_version;
  Version product_version;
  bool dll = false;  // VFT_DLL, else VFT_APP
  // StringFileInfo entries of the U.S. English / Unicode table "040904B0", in order; UTF-8.
  std::vector<std::pair<std::string, std::string>> strings;
};

// The VS_VERSIONINFO block, as stored as resource data.
std::string version_info_block(const VersionInfo& info);

// The raw contents of a .rsrc section loaded at `section_rva`: a resource directory with a
// single resource of type RT_VERSION (16), id 1, language 0x0409, whose data is `data`.
std::string version_resource_section(std::string_view data, std::uint32_t section_rva);

}  // namespace hotfix::standins
