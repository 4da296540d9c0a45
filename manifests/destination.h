// The rules a path below the target root must meet, in one place: the manifest's file names
// and destinations, and the paths the installer reads back from its own journal and database
// (which are input too: docs/transaction.md, "The root is input").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hotfix {

inline constexpr std::size_t kMaxNameBytes = 255;
inline constexpr std::size_t kMaxPathBytes = 4096;
inline constexpr std::size_t kMaxIdLength = 64;

// A hotfix id: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$
bool is_valid_id(std::string_view id);

// Why `name` cannot be one file name; nullopt when it can.
std::optional<std::string> name_problem(std::string_view name);

// Why `path` could escape or misname the target root; nullopt when it is safe. "" is the root.
std::optional<std::string> relative_path_problem(std::string_view path);

// Why `path` names one of the installer's own places, which no hotfix may write: its state
// directory (var/lib/hotfix), its configuration and trusted keys (etc/hotfix), and the
// restart flags (run/reboot-required*). Compared ignoring ASCII case, as Windows-family roots
// compare names. nullopt when `path` is none of them.
std::optional<std::string> reserved_path_problem(std::string_view path);

// The destination rules and the reserved places together, for a file path that must not be
// the root itself.
std::optional<std::string> file_path_problem(std::string_view path);

}  // namespace hotfix
