#include "installer/pending_restart.h"

#include "installer/state_checks.h"
#include "installer/state_db.h"
#include "installer/state_store.h"
#include "manifests/errors.h"

namespace hotfix {

namespace {

void require_lock(const InstallerContext& ctx) {
  if (!ctx.held_lock) {
    throw Error(ErrorKind::kInternal, "restart", "settled without the root's writer lock");
  }
}

StateDb open_writable(const InstallerContext& ctx) {
  return open_state_db(ctx, StateDb::Mode::kReadWrite);
}

RestartEnvironment environment(const InstallerContext& ctx, const RestartRequest& request) {
  return make_restart_environment(ctx.root.path(), request.command);
}

}  // namespace

RestartState settle_restart_after_apply(const InstallerContext& ctx, const RestartRequest& request,
                                        RestartRequirement kind,
                                        const std::vector<std::string>& ids) {
  require_lock(ctx);
  StateDb db = open_writable(ctx);
  RestartState current = db.restart();
  // The need is recorded already: the files say so even if scheduling fails.
  write_reboot_required_files(*ctx.disk, current);
  if (kind == RestartRequirement::kNone) return current;
  RestartEnvironment env = environment(ctx, request);
  RestartState state = schedule_restart(current, request.policy, kind, ids, env);
  db.set_restart(state);
  return state;
}

RestartState settle_restart_after_uninstall(const InstallerContext& ctx,
                                            const RestartRequest& request, const std::string& id,
                                            bool needed) {
  require_lock(ctx);
  StateDb db = open_writable(ctx);
  RestartState current = db.restart();
  // In reboot-required.pkgs the id gives way to "ID (uninstalled)" when taking the hotfix
  // out still needs the restart, and goes away when it does not.
  write_reboot_required_files(*ctx.disk, current, {id});
  if (!needed) return current;
  RestartEnvironment env = environment(ctx, request);
  RestartState state =
      schedule_restart(current, request.policy, current.kind, current.hotfixes, env);
  db.set_restart(state);
  return state;
}

RestartState cancel_pending_restart(const InstallerContext& ctx, const RestartRequest& request) {
  require_lock(ctx);
  StateDb db = open_writable(ctx);
  RestartEnvironment env = environment(ctx, request);
  RestartState state = cancel_restart(db.restart(), env);
  db.set_restart(state);
  return state;
}

}  // namespace hotfix
