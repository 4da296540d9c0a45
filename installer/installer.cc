#include "installer/installer.h"

#include "installer/root_trust.h"
#include "installer/state_checks.h"
#include "installer/state_store.h"
#include "installer/writer_start.h"

namespace hotfix {

InstallerContext::InstallerContext(const std::string& root_path, Disk* given, bool wait)
    : root(given ? given->root() : Root::open(root_path)), disk(given) {
  lock_wait.wait = wait;
  if (!disk) {
    owned_disk_ = make_root_disk(root);
    disk = owned_disk_.get();
  }
}

InstallerContext::InstallerContext(Root r, bool wait)
    : root(std::move(r)), owned_disk_(make_root_disk(root)) {
  disk = owned_disk_.get();
  lock_wait.wait = wait;
}

void lock_for_writing(InstallerContext& ctx) {
  if (ctx.held_lock) return;
  make_state_dir(ctx);
  ctx.held_lock = std::make_shared<RootLock>(ctx.root, ctx.state_dir, ctx.lock_wait);
}

TrustStore load_installer_trust(const InstallerContext& ctx, const std::vector<std::string>& extra,
                                std::vector<std::string>* warnings) {
  TrustStore trust;
  for (const std::string& p : extra) trust.add_path(p);
  std::vector<std::string> skipped = add_root_trusted_keys(ctx.root, trust);
  if (warnings) warnings->insert(warnings->end(), skipped.begin(), skipped.end());
  return trust;
}

std::string recover_root(const InstallerContext& ctx) {
  if (!has_state_db(ctx) && !ctx.disk->exists(ctx.state_file("journal.json"))) {
    return "nothing to recover";
  }
  std::optional<RootLock> lock;
  if (!ctx.held_lock) lock.emplace(ctx.root, ctx.state_dir, ctx.lock_wait);
  StateDb db = open_state_db(ctx, StateDb::Mode::kReadWrite);
  return recover_locked(ctx, db);
}

}  // namespace hotfix
