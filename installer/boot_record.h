// Which boot of the machine a restart need was recorded in, and whether the machine has
// started since: a restart counts as done once it has (docs/restart.md, "When a restart is
// done"). Two ways, as the root allows:
//   "boot-id UUID"  the running kernel's boot id (/proc/sys/kernel/random/boot_id), when the
//                   root is the running system and the kernel says it;
//   "marker HEX"    a token of 32 hex digits, also written to <root>/run/reboot-required.
//                   hotfix-boot: a reboot empties /run, an offline image is "restarted" by
//                   emptying its run/ (or deleting the marker).
// A need recorded before the installer kept its boot has "" and is dated only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "installer/disk.h"

namespace hotfix {

inline constexpr std::string_view kBootMarkerPath = "run/reboot-required.hotfix-boot";

// What the running system says about its boot; tests give their own.
struct BootProbe {
  std::function<std::optional<std::string>()> boot_id;     // unset: the kernel's
  std::function<std::optional<std::int64_t>()> boot_time;  // UTC seconds; unset: /proc/stat btime
};

// Whether `text` is a boot record of one of the two forms above (the database is input).
bool is_boot_record(std::string_view text);

// The boot a need recorded now belongs to: on a live root whose kernel gives its boot id,
// that; otherwise a new marker token (written by write_boot_marker once the need is committed).
std::string new_boot_record(bool live_root, const BootProbe& probe = {});

// For a marker record: writes its token to kBootMarkerPath through `disk` (atomically, 0644)
// unless the file holds it already. Nothing for other records.
void write_boot_marker(Disk& disk, const std::string& boot);

enum class BootSince {
  kSameBoot,  // the machine has not started since: the restart is pending
  kStarted,   // it has: the restart is done
  kUnknown,   // cannot tell (an old record on an image): counted as pending
};

// Whether the machine has started since `boot` was recorded at `since`. A marker that is gone
// or holds another token means started; a marker that is not a small regular file is refused
// (UnsafePathError), since it is not what the installer wrote.
BootSince started_since(const Root& root, bool live_root, const std::string& boot,
                        std::optional<std::int64_t> since, const BootProbe& probe = {});

}  // namespace hotfix
