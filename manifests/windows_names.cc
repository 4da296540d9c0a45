#include "manifests/windows_names.h"

#include <array>

#include "manifests/case_fold.h"

namespace hotfix {

namespace {

// Windows 11 also reserves COM and LPT with a superscript digit (as UTF-8 here).
constexpr auto kDevices = std::to_array<std::string_view>(
    {"con", "prn", "aux", "nul", "conin$", "conout$", "com\xc2\xb9", "com\xc2\xb2", "com\xc2\xb3",
     "lpt\xc2\xb9", "lpt\xc2\xb2", "lpt\xc2\xb3"});

// The part Windows compares with the device names: up to the first dot, trailing spaces
// dropped ("NUL .txt" is NUL too).
std::string device_part(std::string_view name) {
  std::string_view base = name.substr(0, name.find('.'));
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  return ascii_lower(base);
}

bool is_device(const std::string& base) {
  if (base.size() == 4 && (base.starts_with("com") || base.starts_with("lpt")) && base[3] >= '0' &&
      base[3] <= '9') {
    return true;
  }
  for (std::string_view device : kDevices) {
    if (base == device) return true;
  }
  return false;
}

std::string hex_byte(unsigned char c) {
  constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[c >> 4] + kDigits[c & 15];
}

}  // namespace

std::optional<std::string> windows_name_problem(std::string_view name) {
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20) return "contains the control character " + hex_byte(byte);
    if (std::string_view("<>:\"|?*").find(c) != std::string_view::npos) {
      return std::string("contains '") + c + "', which Windows does not allow in a name";
    }
  }
  if (!name.empty() && (name.back() == '.' || name.back() == ' ')) {
    return std::string("ends with ") + (name.back() == '.' ? "a dot" : "a space") +
           ", which Windows drops from a name";
  }
  std::string base = device_part(name);
  if (is_device(base)) {
    return "is the reserved device name " + base + " (with any extension it names the device)";
  }
  return std::nullopt;
}

std::optional<std::string> windows_path_problem(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (auto problem = windows_name_problem(part)) {
      return "has the component \"" + std::string(part) + "\", which " + *problem;
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace hotfix
