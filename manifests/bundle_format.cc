#include "manifests/bundle_format.h"

namespace hotfix {

std::string bundle_file_name(const std::string& id, Arch arch,
                             const std::optional<std::string>& language) {
  std::string name = id + "-" + std::string(arch_token(arch));
  if (language) name += "-" + *language;
  return name + std::string(kBundleExtension);
}

bool has_bundle_magic(const unsigned char* start, std::size_t size) {
  if (size < 4) return false;
  std::uint32_t magic = 0;
  for (std::size_t i = 0; i < 4; ++i) magic |= std::uint32_t{start[i]} << (8 * i);
  return magic == 0xFD2FB528u || (magic & 0xFFFFFFF0u) == 0x184D2A50u;
}

}  // namespace hotfix
