#include "installer/repair_plan.h"

#include <map>

#include "installer/root_paths.h"
#include "manifests/errors.h"

namespace hotfix {

namespace {

const FileEntry& entry_for(const InstalledHotfix& installed, const std::vector<FileEntry>& entries,
                           const InstalledFile& rec) {
  for (const FileEntry& e : entries) {
    if (e.path() != rec.manifest_path) continue;
    if (!e.sha256 || *e.sha256 != rec.sha256) {
      throw Error(ErrorKind::kBadInput, rec.manifest_path,
                  "the bundle's file differs from the one revision " +
                      std::to_string(installed.revision) + " of " + installed.id +
                      " installed; reinstall needs the bundle of the installed revision");
    }
    return e;
  }
  throw Error(ErrorKind::kBadInput, rec.manifest_path,
              "revision " + std::to_string(installed.revision) + " of " + installed.id +
                  " installed this file, and the bundle does not have it; reinstall needs the "
                  "bundle of the installed revision");
}

// Refuses what repair cannot put right by writing a file: a link, a directory or a device
// where the file belongs, or a file that cannot be read.
void require_repairable(const FileCheck& check, const Root& root) {
  if (check.not_regular) {
    throw Error(ErrorKind::kBadInput, root.show(check.path),
                "is not a regular file (" + check.detail +
                    "); remove it, then reinstall to put the hotfix's file back");
  }
  if (check.unreadable) throw Error(ErrorKind::kSystem, root.show(check.path), check.detail);
}

std::string put_back_reason(const FileCheck& check) {
  return "not as promised (" + check.codes() + (check.detail.empty() ? "" : ": " + check.detail) +
         "); put back";
}

// The decision for one record verify found not as promised.
void decide_failed(PlannedFile& f, const InstalledFile& rec, const FileCheck& check,
                   FileAction& put_back_as) {
  put_back_as = rec.action;
  f.reason = put_back_reason(check);
  if (rec.action == FileAction::kKept) {
    f.decision = Decision::kKeep;
    f.reason =
        "NAME.hotfix-new beside it is not as promised (" + check.codes() + "); written again";
    return;
  }
  f.decision = f.current ? Decision::kReplace : Decision::kInstall;
  // A file the hotfix had left as it was (the same or a newer version was there) and that
  // has since gone or been downgraded: put back, it is the hotfix's own from now on.
  if (rec.action == FileAction::kSkipped) {
    put_back_as = f.current ? FileAction::kReplaced : FileAction::kInstalled;
  }
}

}  // namespace

RepairPlan make_repair_plan(const InstalledHotfix& installed, const std::vector<FileEntry>& entries,
                            const std::vector<FileCheck>& checks, const Root& root, bool fold_case,
                            bool force) {
  std::map<std::string, const FileCheck*> by_path;
  for (const FileCheck& c : checks) by_path[c.path] = &c;
  RepairPlan out;
  NameIndex index;
  for (std::size_t i = 0; i < installed.files.size(); ++i) {
    const InstalledFile& rec = installed.files[i];
    PlannedFile f;
    f.entry = entry_for(installed, entries, rec);
    f.entry.mode = rec.mode;  // as it was given at the install, whatever the file's mode now
    f.installed_version = rec.version;
    FileAction put_back_as = rec.action;
    auto it = by_path.find(rec.path);
    const FileCheck* check = it == by_path.end() ? nullptr : it->second;
    if (check && !check->ok()) require_repairable(*check, root);
    f.target = resolve_under_root(root, rec.path, fold_case, &index);
    if (f.target.exists) f.current = root.status(f.target.relative);
    f.decision = Decision::kSkip;
    if (!check) {
      f.reason = "not checked";
    } else if (check->ok()) {
      f.reason = check->detail.empty() ? "as promised" : check->detail;
    } else if (check->config_changed() && !force && rec.action != FileAction::kKept) {
      f.reason =
          "a configuration file changed since it was installed: the administrator's, "
          "left as it is (--force puts the hotfix's back)";
    } else {
      decide_failed(f, rec, *check, put_back_as);
      f.forced = check->config_changed() && rec.action != FileAction::kKept;
    }
    out.plan.files.push_back(std::move(f));
    out.record.push_back(i);
    out.put_back_as.push_back(put_back_as);
  }
  return out;
}

}  // namespace hotfix
