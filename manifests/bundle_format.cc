#include "manifests/bundle_format.h"

namespace hotfix {

std::string bundle_file_name(const std::string& id, Arch arch,
                             const std::optional<std::string>& language) {
  std::string name = id + "-" + std::string(arch_token(arch));
  if (language) name += "-" + *language;
  return name + std::string(kBundleExtension);
}

}  // namespace hotfix
