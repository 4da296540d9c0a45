// What a command does about the restart once its changes are made, in the library and under
// the root's writer lock (lock_for_writing), so that no other writer's restart record is lost
// in between: the reboot-required files, then the restart scheduled as the administrator
// asked (docs/restart.md). Nothing read from the root is run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "installer/boot_record.h"
#include "installer/installer.h"
#include "installer/restart.h"
#include "installer/state_db.h"

namespace hotfix {

// --restart and --restart-command.
struct RestartRequest {
  RestartPolicy policy;
  std::optional<std::string> command;
};

// The need the database records, as of now: none (RestartState{}) once the machine has
// started since it was recorded. Commands that write start from this, so that a restart that
// happened is never asked for again.
RestartState restart_as_of_now(const InstallerContext& ctx, const StateDb& db);

// Whether the machine has started since `state`'s need was recorded (boot_record.h).
BootSince restart_progress(const InstallerContext& ctx, const RestartState& state);

// A need recorded now: dated and given this boot, unless it has both already (a need still
// pending keeps the time and boot it was first recorded with).
void stamp_restart_need(const InstallerContext& ctx, RestartState& state);

// After applying: `kind` is the strongest restart the applied hotfixes `ids` need (kNone when
// none does: only the files are brought up to date). Returns the recorded state.
RestartState settle_restart_after_apply(const InstallerContext& ctx, const RestartRequest& request,
                                        RestartRequirement kind,
                                        const std::vector<std::string>& ids);

// After uninstalling `id`: `needed` when taking it out needs the restart the database now
// records for it.
RestartState settle_restart_after_uninstall(const InstallerContext& ctx,
                                            const RestartRequest& request, const std::string& id,
                                            bool needed);

// status --cancel-restart.
RestartState cancel_pending_restart(const InstallerContext& ctx, const RestartRequest& request);

}  // namespace hotfix
