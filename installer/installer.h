// What hotfix-installer does, as a library: apply, uninstall and recover, each one
// transaction under the root's lock. The CLI (installer/cli.cc) only parses and prints.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "installer/disk.h"
#include "installer/installed_state.h"
#include "installer/plan.h"
#include "installer/root_lock.h"
#include "manifests/progress.h"
#include "manifests/trust_store.h"

namespace hotfix {

// One root and how to reach it. Every path the library builds is relative to `root`.
struct InstallerContext {
  // With a `disk`, its root is the context's (tests pass a fault-injecting one); without, the
  // context opens `root_path` and makes its own RootDisk.
  InstallerContext(const std::string& root_path, Disk* disk = nullptr, bool wait_for_lock = true);
  explicit InstallerContext(Root root, bool wait_for_lock = true);

  Root root;
  Disk* disk = nullptr;  // never null
  LockWait lock_wait;    // how a writer waits for another's lock (wait, for as long as it takes)
  std::string state_dir = "var/lib/hotfix";  // relative to the root
  // The root's writer lock, when the command holds it across several steps (lock_for_writing):
  // apply, uninstall and recover then take it no more themselves.
  std::shared_ptr<RootLock> held_lock;
  // Where apply and uninstall report the files they stage, when the command shows progress.
  Progress* progress = nullptr;
  std::string state_file(const std::string& name) const { return state_dir + "/" + name; }
  std::string show_state(const std::string& name) const { return root.show(state_file(name)); }

 private:
  std::shared_ptr<Disk> owned_disk_;
};

// Makes the state directory and takes the root's writer lock for the rest of the command, so
// that what the command does after its transactions (the restart) is under the same lock.
void lock_for_writing(InstallerContext& ctx);

// Keys from --trust and from <root>/etc/hotfix/trusted.d/.
// Files of trusted.d that are not public keys are skipped, each with a line in `warnings`.
TrustStore load_installer_trust(const InstallerContext& ctx, const std::vector<std::string>& extra,
                                std::vector<std::string>* warnings = nullptr);

enum class ApplyOutcome {
  kApplied,
  kAlreadyInstalled,  // same revision: nothing to do, success
  kNotApplicable,     // architecture, prerequisites, supersedence, downgrade, nothing to do
  kDryRun,
  kRepaired,  // --reinstall of the installed revision put files back
};

struct ApplyResult {
  std::string bundle;
  std::string id;
  std::uint64_t revision = 0;
  ApplyOutcome outcome = ApplyOutcome::kApplied;
  std::string reason;  // one line for refusals and no-ops
  Plan plan;
  bool restart_required = false;
  RestartRequirement restart = RestartRequirement::kNone;  // what the hotfix needs
  std::vector<std::string> warnings;  // committed, but something after the commit failed
  std::vector<std::pair<dev_t, ino_t>> replaced_identities;  // old files' identities
  std::vector<std::string> replaced_paths;
};

struct ApplyOptions {
  bool dry_run = false;
  bool force = false;
  // The same revision installed: put back what verify finds not as promised, instead of
  // nothing to do (installer/repair_plan.h).
  bool reinstall = false;
};

// Applies one bundle (already verified against `trust`). Throws for errors; refusals are a
// result with kNotApplicable (and recorded in the history).
ApplyResult apply_bundle(const InstallerContext& ctx, const std::string& bundle_path,
                         const TrustStore& trust, const ApplyOptions& options);

// The bundles of one apply command, sorted so that a bundle naming another's hotfix as a
// prerequisite comes after it, and whether any of them may need a restart.
struct BundleOrder {
  std::vector<std::string> paths;
  bool may_need_restart = false;
};
BundleOrder order_bundles(const std::vector<std::string>& bundles, const TrustStore& trust);

struct UninstallResult {
  std::string id;
  std::vector<std::pair<std::string, std::string>> files;  // path, what happened
  bool restart_required = false;
  std::vector<std::string> warnings;  // committed, but something after the commit failed
};
// A dry run drafts the same and writes nothing: `files` is what would be done.
UninstallResult uninstall_hotfix(const InstallerContext& ctx, const std::string& id,
                                 bool dry_run = false);
// Throws Error(kNotApplicable, id) when the root has no state database (no hotfix was ever
// installed), before anything is made there.
void require_state_db(const InstallerContext& ctx, const std::string& id);

// Finishes or undoes a transaction a crash left behind; records it in the history.
std::string recover_root(const InstallerContext& ctx);

}  // namespace hotfix
