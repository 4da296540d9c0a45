#include "manifests/prerequisite.h"

namespace hotfix {

bool is_valid_os_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Prerequisite::describe() const {
  if (!label.empty()) return label;
  switch (type) {
    case Type::kAllOf:
    case Type::kAnyOf: {
      if (children.empty()) return type == Type::kAllOf ? "nothing" : "one of nothing";
      const char* joiner = type == Type::kAllOf ? " and " : " or ";
      std::string out;
      for (std::size_t i = 0; i < children.size(); ++i) {
        const Prerequisite& child = children[i];
        bool group = (child.type == Type::kAllOf || child.type == Type::kAnyOf) &&
                     child.children.size() > 1 && child.label.empty();
        if (i) out += joiner;
        out += group ? "(" + child.describe() + ")" : child.describe();
      }
      return out;
    }
    case Type::kProduct:
      return value;
    case Type::kVersionAtLeast: {
      std::string v = version.to_string();
      return "version " + v + " or later";
    }
    case Type::kServicePackAtLeast:
      return "service pack " + std::to_string(service_pack) + " or later";
    case Type::kArchitecture:
      return std::string(arch_display(arch)) + " architecture";
    case Type::kHotfixInstalled:
      return "hotfix " + value;
    case Type::kFileVersionAtLeast:
      return value + " version " + version.to_string() + " or later";
    case Type::kOsId:
      return "os " + value;
    case Type::kOsVersionAtLeast:
      return "os version " + value + " or later";
  }
  return {};
}

}  // namespace hotfix
