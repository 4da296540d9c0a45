#include "installer/state_store.h"

#include "installer/state_checks.h"
#include "manifests/errors.h"

namespace hotfix {

StateDb open_state_db(const InstallerContext& ctx, StateDb::Mode mode) {
  const std::string shown = ctx.show_state("state.db");
  std::optional<FileDescriptor> dir = check_state_dir(ctx.root, ctx.state_dir);
  if (!dir) {
    if (mode == StateDb::Mode::kReadOnly) return StateDb::none(shown);
    throw SystemError(ctx.root.show(ctx.state_dir), "opening the state directory", ENOENT);
  }
  return StateDb::open(std::move(*dir), "state.db", shown, mode);
}

bool has_state_db(const InstallerContext& ctx) {
  std::optional<FileDescriptor> dir = check_state_dir(ctx.root, ctx.state_dir);
  return dir && ctx.disk->status(ctx.state_file("state.db")).has_value();
}

}  // namespace hotfix
