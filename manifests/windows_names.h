// The names a Windows file system cannot hold, in one place: the packager checks them for a
// manifest that declares the Windows family, the installer for every manifest it plans on a
// Windows-family root (docs/manifest-format.md, "Names on Windows-family targets").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hotfix {

// Why `name` (one file or directory name) cannot exist on Windows: a reserved device name
// with any extension ("CON", "nul.dll", "COM1.txt"), a trailing dot or space, one of
// < > : " | ? *, or a control character. nullopt when it can.
std::optional<std::string> windows_name_problem(std::string_view name);

// The same for each component of a relative path, naming the component.
std::optional<std::string> windows_path_problem(std::string_view path);

}  // namespace hotfix
