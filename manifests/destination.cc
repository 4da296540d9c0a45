#include "manifests/destination.h"

#include <array>

#include "manifests/case_fold.h"

namespace hotfix {

namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || !is_ascii_alnum(id[0])) return false;
  for (char c : id) {
    if (!is_ascii_alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxNameBytes) {
    return "is " + std::to_string(name.size()) + " bytes long, more than " +
           std::to_string(kMaxNameBytes);
  }
  if (name.find('\0') != std::string_view::npos) return "contains a NUL character";
  if (name.find('/') != std::string_view::npos) return "contains \"/\"";
  if (name.find('\\') != std::string_view::npos) return "contains a backslash";
  if (name == "." || name == "..") return "is not a file name";
  return std::nullopt;
}

std::optional<std::string> relative_path_problem(std::string_view path) {
  if (path.size() > kMaxPathBytes) {
    return "is " + std::to_string(path.size()) + " bytes long, more than " +
           std::to_string(kMaxPathBytes);
  }
  if (path.empty()) return std::nullopt;
  if (path.find('\0') != std::string_view::npos) return "contains a NUL character";
  if (path.find('\\') != std::string_view::npos) return "contains a backslash";
  if (path[0] == '/') return "is absolute";
  if (path.size() >= 2 && path[1] == ':' && is_letter(path[0])) {
    return "starts with a drive letter";
  }
  std::size_t start = 0;
  while (true) {
    std::size_t end = path.find('/', start);
    std::string_view part = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (part.empty()) return "has an empty component (a doubled, leading or trailing \"/\")";
    if (part == "." || part == "..") return "has a \"" + std::string(part) + "\" component";
    if (end == std::string_view::npos) return std::nullopt;
    start = end + 1;
  }
}

std::optional<std::string> reserved_path_problem(std::string_view path) {
  static constexpr std::array<std::string_view, 2> kDirectories = {"var/lib/hotfix", "etc/hotfix"};
  for (std::string_view dir : kDirectories) {
    if (path_under(path, dir, true) || path_under(dir, path, true)) {
      return "is the installer's own " + std::string(dir) +
             " (or holds it), which no hotfix may write";
    }
  }
  constexpr std::string_view kFlag = "run/reboot-required";
  if (path.size() >= kFlag.size() && equal_fold(path.substr(0, kFlag.size()), kFlag)) {
    return "is the restart flag the installer keeps (run/reboot-required*), which no hotfix may "
           "write";
  }
  return std::nullopt;
}

std::optional<std::string> installable_length_problem(std::string_view path) {
  std::string_view name = path.substr(path.find_last_of('/') + 1);
  if (name.size() > kMaxInstallableNameBytes) {
    return "has a name of " + std::to_string(name.size()) + " bytes; at most " +
           std::to_string(kMaxInstallableNameBytes) +
           " fit, since the name staged beside it during an apply adds " +
           std::to_string(kInstallerNameOverhead) + " to the " + std::to_string(kMaxNameBytes) +
           " a file system allows";
  }
  if (path.size() > kMaxInstallablePathBytes) {
    return "is " + std::to_string(path.size()) + " bytes long; at most " +
           std::to_string(kMaxInstallablePathBytes) + " fit, since the staged name adds " +
           std::to_string(kInstallerNameOverhead) + " to the " + std::to_string(kMaxPathBytes - 1) +
           " a path may have";
  }
  return std::nullopt;
}

std::optional<std::string> file_path_problem(std::string_view path) {
  if (path.empty()) return "is empty";
  if (auto problem = relative_path_problem(path)) return problem;
  return reserved_path_problem(path);
}

}  // namespace hotfix
