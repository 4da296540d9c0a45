// What a command does about the restart once its changes are made, in the library and under
// the root's writer lock (lock_for_writing), so that no other writer's restart record is lost
// in between: the reboot-required files, then the restart scheduled as the administrator
// asked (docs/restart.md). Nothing read from the root is run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "installer/installer.h"
#include "installer/restart.h"

namespace hotfix {

// --restart and --restart-command.
struct RestartRequest {
  RestartPolicy policy;
  std::optional<std::string> command;
};

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
