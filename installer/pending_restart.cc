#include "installer/pending_restart.h"

#include <ctime>

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

bool live(const InstallerContext& ctx) { return is_live_root(ctx.root.path()); }

// The need written down, and its boot marked, before the scheduling that may fail.
void record_need(const InstallerContext& ctx, const RestartState& state) {
  write_reboot_required_files(*ctx.disk, state);
  if (state.required) write_boot_marker(*ctx.disk, state.boot);
}

}  // namespace

RestartState restart_as_of_now(const InstallerContext& ctx, const StateDb& db) {
  RestartState state = db.restart();
  if (state.required && restart_progress(ctx, state) == BootSince::kStarted) return {};
  return state;
}

BootSince restart_progress(const InstallerContext& ctx, const RestartState& state) {
  return started_since(ctx.root, live(ctx), state.boot, state.since);
}

void stamp_restart_need(const InstallerContext& ctx, RestartState& state) {
  if (!state.required || (state.since && !state.boot.empty())) return;
  if (!state.since) state.since = static_cast<std::int64_t>(std::time(nullptr));
  if (state.boot.empty()) state.boot = new_boot_record(live(ctx));
}

RestartState settle_restart_after_apply(const InstallerContext& ctx, const RestartRequest& request,
                                        RestartRequirement kind,
                                        const std::vector<std::string>& ids) {
  require_lock(ctx);
  StateDb db = open_writable(ctx);
  RestartState current = db.restart();
  // The need is recorded already: the files say so even if scheduling fails.
  record_need(ctx, current);
  if (kind == RestartRequirement::kNone) return current;
  RestartEnvironment env = environment(ctx, request);
  RestartState state = schedule_restart(current, request.policy, kind, ids, env);
  stamp_restart_need(ctx, state);
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
  if (current.required) write_boot_marker(*ctx.disk, current.boot);
  if (!needed) return current;
  RestartEnvironment env = environment(ctx, request);
  RestartState state =
      schedule_restart(current, request.policy, current.kind, current.hotfixes, env);
  stamp_restart_need(ctx, state);
  db.set_restart(state);
  return state;
}

RestartState cancel_pending_restart(const InstallerContext& ctx, const RestartRequest& request) {
  require_lock(ctx);
  StateDb db = open_writable(ctx);
  RestartEnvironment env = environment(ctx, request);
  RestartState state = cancel_restart(restart_as_of_now(ctx, db), env);
  db.set_restart(state);
  return state;
}

}  // namespace hotfix
