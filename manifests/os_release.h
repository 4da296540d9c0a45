// os-release(5): the shell-style assignments that name an operating system, read by the
// installer (a target's facts) and the packager (prerequisites for a scanned manifest).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace hotfix {

// The assignments of an os-release file, with shell-style quoting and escapes undone.
// Comments, blank lines and malformed lines are skipped; a later assignment of the same
// name wins.
std::map<std::string, std::string> parse_os_release(std::string_view text);

}  // namespace hotfix
