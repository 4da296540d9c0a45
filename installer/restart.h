// Restart policies, scheduling the restart a hotfix needs, cancelling it, and the
// conventional reboot-required files. Behaviour is documented in docs/restart.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "installer/disk.h"
#include "installer/installed_state.h"
#include "manifests/manifest.h"

namespace hotfix {

// What the administrator asked for with --restart.
struct RestartPolicy {
  enum class Kind { kNever, kNow, kAt, kDelay };
  Kind kind = Kind::kNever;
  int hour = 0, minute = 0;  // kAt: local wall-clock time
  int delay_minutes = 0;     // kDelay: 1..kMaxRestartDelayMinutes

  // "never", "now", "at=HH:MM" (two-digit hour and minute), "delay=MINUTES".
  std::string text() const;
};

inline constexpr int kMaxRestartDelayMinutes = 10080;  // one week

// "never" | "now" | "at=HH:MM" (hour 0..23, one or two digits; minute two digits) |
// "delay=MINUTES" (1..10080). Anything else throws Error(kBadInput, "--restart", why).
RestartPolicy parse_restart_policy(const std::string& text);

// The first instant strictly after `now_utc` at which the local wall clock (TZ) reads
// hour:minute:00, in UTC seconds. On a day where that time falls in a DST gap, the instant
// the gap ends (the clock jumps past it); where it occurs twice, the earlier one still ahead.
std::int64_t next_occurrence(int hour, int minute, std::int64_t now_utc);

// Everything scheduling touches outside this process; tests replace the functions.
struct RestartEnvironment {
  std::string root;        // target root
  bool live_root = false;  // the root is the running system ("/")
  // --restart-command: run through /bin/sh -c (see schedule_restart for its environment).
  std::optional<std::string> restart_command;
  // Runs a program (argv[0] looked up in PATH) and returns its exit status (127 when it
  // cannot be started, 128+N when killed by signal N). Unset: posix_spawnp and wait, with
  // stdin from /dev/null and stdout sent to stderr so --json output stays clean.
  std::function<int(const std::vector<std::string>& argv)> run;
  std::function<std::int64_t()> now;      // unset: time(nullptr)
  std::function<bool()> systemd_running;  // unset: /run/systemd/system exists (sd_booted)
};

// True when `root` names the running system's root directory (same device and inode as "/").
bool is_live_root(const std::string& root);

// An environment for `root` with the real run/now/systemd probes.
RestartEnvironment make_restart_environment(const std::string& root,
                                            std::optional<std::string> restart_command);

// Records that `hotfixes` need a restart of `kind` and, unless the policy is kNever, schedules
// it. Returns the new state: required, kind (the stronger of current and new), hotfixes
// (current plus new, without duplicates), policy text, scheduled_at and mechanism.
//   kind kNone: nothing is needed; `current` is returned unchanged.
//   kNever: records only; an already scheduled restart is kept as it is.
//   Otherwise any existing schedule is cancelled first, then:
//   - --restart-command given: `env HOTFIX_RESTART_ACTION=schedule HOTFIX_RESTART_AT=<UTC ISO
//     8601> HOTFIX_RESTART_IN_MINUTES=<n> HOTFIX_RESTART_POLICY=<policy>
//     HOTFIX_RESTART_HOTFIXES=<ids, space-separated> HOTFIX_ROOT=<root> /bin/sh -c CMD`,
//     whatever the root is;
//   - a root that is not the running system: recorded only, this machine is never restarted;
//   - live systemd host: kNow `systemctl reboot`; kAt/kDelay `systemd-run` with a transient
//     timer unit hotfix-restart-<scheduled epoch> that runs `systemctl reboot`;
//   - live host without systemd: kNow `shutdown -r now`; kAt `shutdown -r HH:MM` and kDelay
//     `shutdown -r +N`, started in the background (a SysV shutdown waits until the time).
// A scheduling command that fails throws Error(kSystem, program, "... exit status N").
RestartState schedule_restart(const RestartState& current, const RestartPolicy& policy,
                              RestartRequirement kind, const std::vector<std::string>& hotfixes,
                              RestartEnvironment& env);

// Cancels a scheduled restart by the way it was scheduled: `systemctl stop <unit>.timer`
// (a unit that is already gone counts as cancelled), `shutdown -c`, or the restart command
// again with HOTFIX_RESTART_ACTION=cancel. The restart stays required; scheduled_at and
// mechanism are cleared and the policy becomes "never". Nothing scheduled: returns `current`.
// Failure throws Error(kSystem) as schedule_restart does.
RestartState cancel_restart(const RestartState& current, RestartEnvironment& env);

// <root>/run/reboot-required ("*** System restart required ***\n") and
// <root>/run/reboot-required.pkgs (one id per line), the files Debian's update-notifier keeps.
// When `state` requires a reboot (kind kReboot), both are written and the state's hotfix ids
// are appended to .pkgs where missing; entries other software wrote are kept. Ids in
// `withdrawn` (hotfixes that no longer need a restart, e.g. uninstalled) are taken out of .pkgs.
// When no reboot is required and .pkgs ends up empty, both files are removed; if other
// entries remain, reboot-required is left to whoever wrote them. Files are replaced
// atomically (temporary file and rename); <root>/run is created when missing.
// Before a change that will need the files: <root>/run is a real directory or absent, and the
// flags in it regular files of a sane size or absent, so that the change is refused before it
// is made rather than its flags after (UnsafePathError, or Error(kBadInput) for the size).
void check_reboot_required_place(const Root& root);

// The files are read and written through `disk`'s root like every other file in it.
void write_reboot_required_files(Disk& disk, const RestartState& state,
                                 const std::vector<std::string>& withdrawn = {});
void write_reboot_required_files(const std::string& root, const RestartState& state,
                                 const std::vector<std::string>& withdrawn = {});

}  // namespace hotfix
