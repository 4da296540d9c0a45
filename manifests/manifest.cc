#include "manifests/manifest.h"

namespace hotfix {

std::string_view file_kind_token(FileKind kind) {
  return kind == FileKind::kConfig ? "config" : "binary";
}

std::string_view restart_token(RestartRequirement restart) {
  switch (restart) {
    case RestartRequirement::kNone:
      return "none";
    case RestartRequirement::kServices:
      return "services";
    case RestartRequirement::kReboot:
      return "reboot";
  }
  return "none";
}

}  // namespace hotfix
