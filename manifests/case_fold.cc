#include "manifests/case_fold.h"

namespace hotfix {

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool equal_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool path_under(std::string_view path, std::string_view dir, bool fold_case) {
  if (path.size() < dir.size()) return false;
  if (path.size() > dir.size() && path[dir.size()] != '/') return false;
  std::string_view head = path.substr(0, dir.size());
  return fold_case ? equal_fold(head, dir) : head == dir;
}

}  // namespace hotfix
