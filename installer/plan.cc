#include "installer/plan.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/file_identity.h"
#include "manifests/windows_names.h"

namespace hotfix {

std::string_view decision_token(Decision decision) {
  switch (decision) {
    case Decision::kInstall:
      return "install";
    case Decision::kReplace:
      return "replace";
    case Decision::kSkip:
      return "skip";
    case Decision::kKeep:
      return "keep";
    case Decision::kNotApplicable:
      return "not applicable";
  }
  return "install";
}

bool Plan::changes_files() const {
  for (const PlannedFile& f : files) {
    if (f.decision == Decision::kInstall || f.decision == Decision::kReplace ||
        f.decision == Decision::kKeep) {
      return true;
    }
  }
  return false;
}

namespace {

// The file's content and identity, each read through its own descriptor opened from the root.
Sha256Digest content_of(const Root& root, const std::string& rel) {
  FileDescriptor fd = root.open_file(rel);
  return sha256_of_fd(fd.get(), root.show(rel));
}

void decide(PlannedFile& f, const Root& root, const PlanOptions& options) {
  const FileEntry& e = f.entry;
  const std::string& rel = f.target.relative;
  if (e.kind == FileKind::kConfig) {
    Sha256Digest current = content_of(root, rel);
    if (current == *e.sha256) {
      f.decision = Decision::kSkip;
      f.reason = "already has the hotfix's content";
      return;
    }
    auto recorded =
        options.recorded_sha256 ? options.recorded_sha256(f.target.relative) : std::nullopt;
    if (recorded && *recorded == current) {
      f.decision = Decision::kReplace;
      f.reason = "unchanged since it was installed";
      return;
    }
    f.decision = Decision::kKeep;
    f.reason = recorded ? "changed by the administrator since it was installed"
                        : "may have been changed by the administrator (no record of it)";
    // The on-disk spelling, as the file beside it will be named (the manifest's may differ
    // in case on a Windows-family root).
    std::string on_disk = rel.substr(rel.find_last_of('/') + 1);
    f.reason += "; the new file is written beside it as " + on_disk + ".hotfix-new";
    return;
  }
  FileIdentity id = [&] {
    FileDescriptor fd = root.open_file(rel);
    return identify_fd(fd.get(), root.show(rel));
  }();
  f.installed_version = id.version();
  if (e.version && f.installed_version) {
    if (*f.installed_version < *e.version) {
      f.decision = Decision::kReplace;
      f.reason = "installed version " + f.installed_version->to_string() + " is older";
      return;
    }
    std::string why = "installed version " + f.installed_version->to_string() +
                      (*f.installed_version == *e.version ? " is the same" : " is newer");
    if (options.force && content_of(root, rel) != *e.sha256) {
      f.decision = Decision::kReplace;
      f.forced = true;
      f.reason = why + "; replaced because of --force";
    } else {
      f.decision = Decision::kSkip;
      f.reason = why;
    }
    return;
  }
  if (content_of(root, rel) == *e.sha256) {
    f.decision = Decision::kSkip;
    f.reason = "already has the hotfix's content";
    return;
  }
  f.decision = Decision::kReplace;
  f.reason = e.version ? "installed file has no version" : "content differs (unversioned file)";
}

}  // namespace

Plan make_plan(const std::vector<FileEntry>& files, const Root& root, const PlanOptions& options) {
  Plan plan;
  NameIndex index;
  for (const FileEntry& e : files) {
    PlannedFile f;
    f.entry = e;
    if (options.fold_case) {
      if (auto problem = windows_path_problem(e.path())) {
        throw Error(ErrorKind::kBadInput, e.path(),
                    "cannot be written on a Windows-family target: it " + *problem);
      }
    }
    f.target = resolve_under_root(root, e.path(), options.fold_case, &index);
    // A link on the way may lead into the installer's own places: the signed manifest says
    // nothing about where links in the image point.
    if (auto problem = reserved_path_problem(f.target.relative)) {
      throw Error(ErrorKind::kBadInput, e.path(),
                  "resolves on the target to '" + f.target.relative + "', which " + *problem);
    }
    if (f.target.exists) {
      std::optional<struct stat> st = root.status(f.target.relative);
      if (!st || !S_ISREG(st->st_mode)) {
        throw Error(ErrorKind::kBusy, root.show(f.target.relative),
                    "changed while the plan was made; apply again");
      }
      f.current = *st;
      decide(f, root, options);
    } else if (e.only_if_present) {
      f.decision = Decision::kNotApplicable;
      f.reason = "not present on the target (its component is not installed)";
    } else {
      f.decision = Decision::kInstall;
      f.reason = "not present on the target";
    }
    plan.files.push_back(std::move(f));
  }
  return plan;
}

}  // namespace hotfix
