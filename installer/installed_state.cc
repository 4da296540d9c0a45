#include "installer/installed_state.h"

namespace hotfix {

std::string_view file_action_token(FileAction action) {
  switch (action) {
    case FileAction::kInstalled:
      return "installed";
    case FileAction::kReplaced:
      return "replaced";
    case FileAction::kKept:
      return "kept";
    case FileAction::kSkipped:
      return "skipped";
  }
  return "installed";
}

std::optional<FileAction> parse_file_action(std::string_view token) {
  for (FileAction a :
       {FileAction::kInstalled, FileAction::kReplaced, FileAction::kKept, FileAction::kSkipped}) {
    if (file_action_token(a) == token) return a;
  }
  return std::nullopt;
}

}  // namespace hotfix
