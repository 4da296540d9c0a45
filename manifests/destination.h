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
// The most the installer adds to a file's name on disk: the stage of a kept configuration
// file's new version, "." NAME ".hotfix-new" ".hotfix-" TRANSACTION-ID (25 characters).
inline constexpr std::size_t kInstallerNameOverhead = 1 + 11 + 8 + 25;
// A file name and a path the installer can stage, swap and roll back on any Linux file
// system (NAME_MAX 255, PATH_MAX 4096 with its NUL): a longer one fails only once staged,
// and its rollback with it.
inline constexpr std::size_t kMaxInstallableNameBytes = kMaxNameBytes - kInstallerNameOverhead;
inline constexpr std::size_t kMaxInstallablePathBytes = kMaxPathBytes - 1 - kInstallerNameOverhead;

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

// Why the file `path` (destination and name) is too long for the installer to stage beside
// its destination; nullopt when it fits.
std::optional<std::string> installable_length_problem(std::string_view path);

// The destination rules and the reserved places together, for a file path that must not be
// the root itself.
std::optional<std::string> file_path_problem(std::string_view path);

}  // namespace hotfix
