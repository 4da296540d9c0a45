#include "installer/installer.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <span>

#include "installer/file_copy.h"
#include "installer/journal.h"
#include "installer/payload_read_ahead.h"
#include "installer/prerequisite_eval.h"
#include "installer/restart.h"
#include "installer/root_lock.h"
#include "installer/root_trust.h"
#include "installer/state_checks.h"
#include "installer/state_db.h"
#include "installer/target_facts.h"
#include "installer/transaction.h"
#include "manifests/bundle_reader.h"
#include "manifests/case_fold.h"
#include "manifests/errors.h"
#include "manifests/file_identity.h"

namespace hotfix {

namespace {

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Each new directory is made durable in its parent before anything (the database) goes in it.
// No link is followed on the way: a `var` that is a link stops here with a clear error.
void make_state_dir(const InstallerContext& ctx) {
  Disk& disk = *ctx.disk;
  std::string path;
  std::size_t pos = 0;
  while (pos <= ctx.state_dir.size()) {
    std::size_t end = ctx.state_dir.find('/', pos);
    if (end == std::string::npos) end = ctx.state_dir.size();
    std::string parent = path;
    path = ctx.state_dir.substr(0, end);
    pos = end + 1;
    if (disk.make_dir(path)) disk.sync_dir(parent);
  }
  check_state_dir(ctx.root, ctx.state_dir);
}

void collect_required_hotfixes(const Prerequisite& p, std::vector<std::string>& out) {
  if (p.type == Prerequisite::Type::kHotfixInstalled) out.push_back(p.value);
  for (const Prerequisite& c : p.children) collect_required_hotfixes(c, out);
}

// Recovery under the lock, recorded in the history.
std::string recover_locked(const InstallerContext& ctx, StateDb& db) {
  Journal journal;
  RecoveryOutcome outcome = recover(
      *ctx.disk, ctx.state_dir,
      [&](const std::string& txid) { return db.transaction_committed(txid); }, &journal);
  if (outcome == RecoveryOutcome::kNothing) return "nothing to recover";
  std::string what = outcome == RecoveryOutcome::kRolledBack ? "rolled back" : "rolled forward";
  HistoryEntry entry;
  entry.at = now();
  entry.action = "recover";
  entry.hotfix_id = journal.hotfix_id;
  entry.outcome = what;
  entry.detail =
      "an interrupted " + journal.action + " of " + journal.hotfix_id + " was " + what +
      (outcome == RecoveryOutcome::kRolledBack ? " to the old files" : " to the new files");
  ctx.disk->commit([&] { db.add_history(entry); });
  return entry.detail;
}

FileMetadata metadata_for(const PlannedFile& f) {
  FileMetadata m;
  m.mtime = f.entry.timestamp.unix_seconds();
  if (f.entry.mode) {
    m.mode = *f.entry.mode;
  } else if (f.current) {
    m.mode = f.current->st_mode & 07777;
  } else {
    m.mode = 0644;
  }
  if (f.current) {
    m.uid = f.current->st_uid;
    m.gid = f.current->st_gid;
  }
  return m;
}

// The record an installed hotfix has of `path`, if any.
const InstalledFile* record_of(const std::optional<InstalledHotfix>& hotfix,
                               const std::string& path) {
  if (!hotfix) return nullptr;
  for (const InstalledFile& f : hotfix->files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

// Whether a record answers for what is at its path when its hotfix goes: it put the file there,
// or it holds the backup of what was there before (handed on to it, or kept by an upgrade).
bool answers_for_path(const InstalledFile& f) {
  return f.action == FileAction::kInstalled || f.action == FileAction::kReplaced ||
         f.backup.has_value();
}

// Takes `id`'s record `f` out of the layering over its path, as uninstall does: the next later
// record (another hotfix's) takes over the backup of what `f` displaced, and its own backup (of
// `id`'s file) becomes obsolete. Returns the hotfix that took over, or nothing when no record
// is later (`id` is the top layer).
std::optional<std::string> hand_on(const std::vector<FileLayer>& layers, const std::string& id,
                                   const InstalledFile& f, std::vector<FileLayer>& updated,
                                   std::vector<std::string>& discard_after_commit) {
  auto self =
      std::find_if(layers.begin(), layers.end(), [&](const FileLayer& l) { return l.first == id; });
  if (self == layers.end() || std::next(self) == layers.end()) return std::nullopt;
  FileLayer next = *std::next(self);
  InstalledFile& taker = next.second;
  if (taker.backup) discard_after_commit.push_back(*taker.backup);
  taker.backup = f.backup;
  if (!f.backup && taker.action == FileAction::kSkipped) {
    // `f` put a file where there was none, and the later hotfix had left it as it found it:
    // the later one now answers for that file, so that the file goes when it goes.
    taker.action = FileAction::kInstalled;
    taker.version = f.version;
    taker.size = f.size;
    taker.sha256 = f.sha256;
    taker.mtime = f.mtime;
    taker.mode = f.mode;
  }
  updated.push_back(next);
  return next.first;
}

// `sizes` are the staged files' sizes. Each takes whole blocks: a thousand one-byte files need
// a thousand blocks, not a thousand bytes. Each staged file and created directory also takes
// an inode, and a filesystem can run out of those with blocks to spare.
void check_free_space(const Root& root_dir, const std::vector<std::uint64_t>& sizes,
                      std::size_t created_dirs) {
  const std::string& root = root_dir.path();
  struct statvfs vfs {};
  if (::fstatvfs(root_dir.fd(), &vfs) != 0) throw SystemError(root, "statvfs", errno);
  std::uint64_t avail = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  const std::uint64_t block = vfs.f_frsize ? vfs.f_frsize : 4096;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  // Saturating: a signed manifest may declare sizes whose sum does not fit in 64 bits.
  auto add = [&](std::uint64_t a, std::uint64_t b) { return a > kMax - b ? kMax : a + b; };
  const std::uint64_t margin = 1 << 20;
  std::uint64_t need = margin;
  for (std::uint64_t size : sizes) {
    std::uint64_t blocks = size / block + (size % block != 0);
    need = add(need, blocks > kMax / block ? kMax : blocks * block);
  }
  if (need > avail) {
    throw Error(ErrorKind::kSystem, root,
                "not enough free space: staging needs " + std::to_string(need) + " bytes, " +
                    std::to_string(avail) + " are available; nothing was changed");
  }
  // Filesystems without a fixed inode table (btrfs, some network ones) report none at all.
  if (vfs.f_files > 0) {
    // Besides the files and directories: the journal, its temporary file, the backup directory.
    constexpr std::uint64_t kInodeMargin = 8;
    std::uint64_t inodes = sizes.size() + created_dirs + kInodeMargin;
    if (inodes > vfs.f_favail) {
      throw Error(ErrorKind::kSystem, root,
                  "not enough free inodes: staging needs " + std::to_string(inodes) +
                      " (files and directories), " + std::to_string(vfs.f_favail) +
                      " are available; nothing was changed");
    }
  }
}

}  // namespace

InstallerContext::InstallerContext(const std::string& root_path, Disk* given, bool wait)
    : root(given ? given->root() : Root::open(root_path)), disk(given), wait_for_lock(wait) {
  if (!disk) {
    owned_disk_ = make_root_disk(root);
    disk = owned_disk_.get();
  }
}

InstallerContext::InstallerContext(Root r, bool wait)
    : root(std::move(r)), wait_for_lock(wait), owned_disk_(make_root_disk(root)) {
  disk = owned_disk_.get();
}

void lock_for_writing(InstallerContext& ctx) {
  if (ctx.held_lock) return;
  make_state_dir(ctx);
  ctx.held_lock = std::make_shared<RootLock>(ctx.root, ctx.state_dir, ctx.wait_for_lock);
}

TrustStore load_installer_trust(const InstallerContext& ctx,
                                const std::vector<std::string>& extra) {
  TrustStore trust;
  for (const std::string& p : extra) trust.add_path(p);
  add_root_trusted_keys(ctx.root, trust);
  return trust;
}

BundleOrder order_bundles(const std::vector<std::string>& bundles, const TrustStore& trust) {
  BundleOrder result;
  struct Node {
    std::string path, id;
    std::vector<std::string> needs;
  };
  std::vector<Node> nodes;
  for (const std::string& b : bundles) {
    BundleReader r = BundleReader::open_verified(b, trust);
    Node n{b, r.manifest().id, {}};
    collect_required_hotfixes(r.manifest().prerequisites, n.needs);
    if (r.manifest().restart != RestartRequirement::kNone) result.may_need_restart = true;
    nodes.push_back(n);
  }
  std::vector<std::string>& order = result.paths;
  std::set<std::string> placed;
  while (order.size() < nodes.size()) {
    bool progress = false;
    for (const Node& n : nodes) {
      if (placed.count(n.path)) continue;
      bool ready = true;
      for (const std::string& need : n.needs) {
        for (const Node& m : nodes) {
          if (m.id == need && !placed.count(m.path) && m.path != n.path) ready = false;
        }
      }
      if (ready) {
        order.push_back(n.path);
        placed.insert(n.path);
        progress = true;
      }
    }
    if (!progress) {
      throw Error(ErrorKind::kBadInput, "bundles",
                  "the bundles' prerequisites form a cycle; apply them separately");
    }
  }
  return result;
}

ApplyResult apply_bundle(const InstallerContext& ctx, const std::string& bundle_path,
                         const TrustStore& trust, const ApplyOptions& options) {
  Disk& disk = *ctx.disk;
  const std::string& state = ctx.state_dir;
  BundleReader reader = BundleReader::open_verified(bundle_path, trust);
  const Manifest& m = reader.manifest();
  const Arch arch = m.bundle->arch;
  TargetFacts facts = load_target_facts(ctx.root.path());
  const bool fold = facts.windows_paths();

  std::optional<RootLock> lock;
  if (!options.dry_run) {
    // Refused before anything is made, the state directory included.
    if (m.restart != RestartRequirement::kNone) check_reboot_required_place(ctx.root);
    make_state_dir(ctx);
    if (!ctx.held_lock) lock.emplace(ctx.root, state, ctx.wait_for_lock);
  } else {
    check_state_dir(ctx.root, state);
  }
  StateDb db =
      StateDb::open(ctx.show_state("state.db"),
                    options.dry_run ? StateDb::Mode::kReadOnly : StateDb::Mode::kReadWrite);
  if (!options.dry_run) {
    recover_locked(ctx, db);
  } else if (disk.exists(ctx.state_file("journal.json"))) {
    throw Error(ErrorKind::kBusy, state,
                "an interrupted transaction is pending; run `hotfix-installer recover` first");
  }

  ApplyResult result;
  result.bundle = bundle_path;
  result.id = m.id;
  result.revision = m.revision;

  auto history = [&](const std::string& outcome, const std::string& detail,
                     const std::string& txid) {
    HistoryEntry e;
    e.at = now();
    e.action = "apply";
    e.hotfix_id = m.id;
    e.revision = m.revision;
    e.outcome = outcome;
    e.detail = detail;
    e.txid = txid;
    return e;
  };
  auto refuse = [&](const std::string& reason) {
    result.outcome = ApplyOutcome::kNotApplicable;
    result.reason = reason;
    if (!options.dry_run) db.add_history(history("refused", reason, ""));
    return result;
  };

  if (arch != facts.architecture) {
    return refuse("the bundle is for " + std::string(arch_display(arch)) + "; the target is " +
                  std::string(arch_display(facts.architecture)));
  }
  std::optional<InstalledHotfix> installed = db.hotfix(m.id);
  if (installed && installed->revision == m.revision) {
    result.outcome = ApplyOutcome::kAlreadyInstalled;
    result.reason = m.id + " revision " + std::to_string(m.revision) + " is already installed";
    if (!options.dry_run) db.add_history(history("no-op", result.reason, ""));
    return result;
  }
  if (installed && installed->revision > m.revision) {
    return refuse("revision " + std::to_string(m.revision) +
                  " is lower than the installed revision " + std::to_string(installed->revision) +
                  " (no downgrade by replay; uninstall the installed one first)");
  }
  std::vector<InstalledHotfix> all = db.hotfixes(false, false);
  for (const InstalledHotfix& h : all) {
    if (std::count(h.supersedes.begin(), h.supersedes.end(), m.id)) {
      return refuse("superseded by installed hotfix " + h.id);
    }
  }
  PrerequisiteContext pctx{facts,
                           [&](const std::string& id) {
                             return db.hotfix(id).has_value() ||
                                    std::count(facts.hotfixes.begin(), facts.hotfixes.end(), id) >
                                        0;
                           },
                           [&](const std::string& path) -> std::optional<Version> {
                             try {
                               ResolvedPath p = resolve_under_root(ctx.root, path, fold);
                               if (!p.exists) return std::nullopt;
                               FileDescriptor fd = ctx.root.open_file(p.relative);
                               return identify_fd(fd.get(), ctx.root.show(p.relative)).version();
                             } catch (const Error&) {
                               return std::nullopt;
                             }
                           }};
  PrerequisiteResult prereq = evaluate_prerequisites(m.prerequisites, pctx);
  if (!prereq.satisfied) return refuse(prereq.reason);

  PlanOptions plan_options;
  plan_options.fold_case = fold;
  plan_options.force = options.force;
  plan_options.recorded_sha256 = [&](const std::string& path) -> std::optional<Sha256Digest> {
    auto layers = db.layers(path, fold);
    for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
      if (it->second.action == FileAction::kInstalled ||
          it->second.action == FileAction::kReplaced) {
        return it->second.sha256;
      }
    }
    return std::nullopt;
  };
  result.plan = make_plan(m.architectures.at(arch), ctx.root, plan_options);
  if (options.dry_run) {
    result.outcome = ApplyOutcome::kDryRun;
    return result;
  }

  // The transaction's operations and what the database will record.
  const std::string txid = new_txid();
  Journal journal;
  journal.txid = txid;
  journal.action = "apply";
  journal.hotfix_id = m.id;
  InstalledHotfix record;
  record.id = m.id;
  record.revision = m.revision;
  record.title = m.title;
  record.arch = arch;
  record.language = m.bundle->language.value_or(m.languages.empty() ? "" : m.languages.front());
  record.restart = m.restart;
  record.installed_at = now();
  record.key_id = m.bundle->key_id;
  record.manifest_json = reader.manifest_json();
  record.supersedes = m.supersedes;
  collect_required_hotfixes(m.prerequisites, record.requires_hotfixes);

  struct Staged {
    std::string stage;
    FileMetadata metadata;
  };
  std::map<Sha256Digest, std::vector<Staged>> by_content;
  std::set<std::string> created;
  std::vector<std::uint64_t> staged_sizes;
  std::int64_t layer = db.next_layer();
  std::vector<FileLayer> updated_layers;  // other hotfixes' records an upgrade hands a backup to
  int counts[5] = {};
  for (std::size_t i = 0; i < result.plan.files.size(); ++i) {
    const PlannedFile& f = result.plan.files[i];
    ++counts[static_cast<int>(f.decision)];
    if (f.decision == Decision::kNotApplicable) continue;
    InstalledFile rec;
    rec.path = f.target.relative;
    rec.manifest_path = f.entry.path();
    rec.version = f.entry.version;
    rec.size = f.entry.size;
    rec.sha256 = *f.entry.sha256;
    rec.mtime = f.entry.timestamp.unix_seconds();
    rec.mode = metadata_for(f).mode;
    rec.layer = layer;
    // An upgrade: the older revision's record of this path.
    const InstalledFile* old = record_of(installed, rec.path);
    if (f.decision == Decision::kSkip) {
      rec.action = FileAction::kSkipped;
      // An upgrade that leaves the file as it is keeps the older revision's record: its place
      // in the layering and the backup of what was there before the hotfix.
      if (old) rec = *old;
      record.files.push_back(rec);
      continue;
    }
    std::string backup = "backups/" + txid + "/" + std::to_string(i);
    JournalOp op;
    op.kind = JournalOp::Kind::kPut;
    if (f.decision == Decision::kKeep) {
      rec.action = FileAction::kKept;
      op.path = f.target.relative + ".hotfix-new";
      if (disk.exists(op.path)) op.backup = backup;
      op.keep_backup = false;
      // The file itself does not change: an upgrade keeps the older revision's place and the
      // backup of what was there before the hotfix.
      if (old) {
        rec.layer = old->layer;
        rec.backup = old->backup;
      }
    } else {
      rec.action =
          f.decision == Decision::kInstall ? FileAction::kInstalled : FileAction::kReplaced;
      op.path = f.target.relative;
      if (f.decision == Decision::kReplace) {
        op.backup = backup;
        op.keep_backup = true;
        rec.backup = backup;
        result.replaced_paths.push_back(rec.path);
        result.replaced_identities.emplace_back(f.current->st_dev, f.current->st_ino);
      }
      if (old && answers_for_path(*old)) {
        auto layers = db.layers(rec.path, fold);
        if (!layers.empty() && layers.back().first == m.id) {
          // The older revision is the top layer: the upgrade takes its place and keeps the
          // backup of what was there before the hotfix; the older revision's file goes.
          op.keep_backup = false;
          rec.layer = old->layer;
          rec.backup = old->backup;
          rec.action = rec.backup ? FileAction::kReplaced : FileAction::kInstalled;
        } else {
          // A later hotfix layered over the older revision: the older revision's place goes to
          // it, as on uninstall, and the upgrade, whose file is now the one in place, becomes
          // the top layer with the backup of the later hotfix's file.
          hand_on(layers, m.id, *old, updated_layers, journal.discard_after_commit);
        }
      }
      for (const std::string& d : f.target.missing_dirs) {
        if (created.insert(d).second) journal.created_dirs.push_back(d);
      }
    }
    op.stage = stage_name(op.path, txid);
    by_content[*f.entry.sha256].push_back({op.stage, metadata_for(f)});
    staged_sizes.push_back(f.entry.size);
    journal.ops.push_back(op);
    record.files.push_back(rec);
  }
  // An upgrade carries over the files the older revision had and this one does not list.
  if (installed) {
    for (const InstalledFile& old : installed->files) {
      bool listed = std::any_of(record.files.begin(), record.files.end(),
                                [&](const InstalledFile& f) { return f.path == old.path; });
      if (!listed) record.files.push_back(old);
    }
  }
  std::sort(journal.created_dirs.begin(), journal.created_dirs.end(),
            [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  if (installed) record.created_dirs = installed->created_dirs;
  for (const std::string& d : journal.created_dirs) {
    if (!std::count(record.created_dirs.begin(), record.created_dirs.end(), d)) {
      record.created_dirs.push_back(d);
    }
  }
  try {
    check_free_space(ctx.root, staged_sizes, journal.created_dirs.size());
  } catch (const Error& e) {
    try {
      db.add_history(history("refused", e.what(), ""));
    } catch (const Error&) {
      // The disk may be too full for the history too; the refusal is reported all the same.
    }
    throw;
  }

  bool files_change = !journal.ops.empty();
  result.restart_required = files_change && m.restart != RestartRequirement::kNone;
  result.restart = m.restart;
  RestartState restart = db.restart();
  if (result.restart_required) {
    restart.required = true;
    restart.kind = std::max(restart.kind, m.restart);
    if (!std::count(restart.hotfixes.begin(), restart.hotfixes.end(), m.id)) {
      restart.hotfixes.push_back(m.id);
    }
  }
  std::string detail = std::to_string(counts[0]) + " installed, " + std::to_string(counts[1]) +
                       " replaced, " + std::to_string(counts[3]) + " kept, " +
                       std::to_string(counts[2]) + " skipped, " + std::to_string(counts[4]) +
                       " not applicable";

  auto stager = [&](const Journal&) {
    const std::vector<Staged>* staged = nullptr;
    std::vector<std::unique_ptr<WritableFile>> outs;
    PayloadHandler handler;
    handler.begin = [&](const Sha256Digest& digest, std::uint64_t) {
      staged = &by_content.at(digest);
      for (const Staged& s : *staged) outs.push_back(disk.create(s.stage, 0600));
    };
    handler.data = [&](std::span<const char> bytes) {
      for (auto& out : outs) out->append(bytes.data(), bytes.size());
    };
    handler.end = [&] {
      // Writeback starts per file (as dpkg does), so that the transaction's one filesystem
      // sync later finds little left to do.
      for (auto& out : outs) {
        out->start_writeback();
        out->close();
      }
      outs.clear();
      for (const Staged& s : *staged) disk.set_metadata(s.stage, s.metadata);
    };
    // Skipped files' blobs are read and checked, not written.
    for_each_payload_read_ahead(
        reader, [&](const Sha256Digest& digest) { return by_content.count(digest) > 0; }, handler);
  };
  auto committer = [&] {
    db.record_apply(record, history("applied", detail, txid), restart, updated_layers);
  };
  if (files_change || !journal.discard_after_commit.empty()) {
    if (auto warning = run_transaction(disk, state, journal, stager, committer)) {
      result.warnings.push_back(*warning);
    }
  } else {
    disk.commit(committer);  // everything was already there: record it, change no file
  }
  result.outcome = ApplyOutcome::kApplied;
  result.reason = detail;
  return result;
}

UninstallResult uninstall_hotfix(const InstallerContext& ctx, const std::string& id) {
  Disk& disk = *ctx.disk;
  const std::string& state = ctx.state_dir;
  check_state_dir(ctx.root, state);
  if (!disk.exists(ctx.state_file("state.db"))) {
    throw Error(ErrorKind::kNotApplicable, id, "is not installed (no hotfix is)");
  }
  TargetFacts facts = load_target_facts(ctx.root.path());
  const bool fold = facts.windows_paths();
  std::optional<RootLock> lock;
  if (!ctx.held_lock) lock.emplace(ctx.root, state, ctx.wait_for_lock);
  StateDb db = StateDb::open(ctx.show_state("state.db"), StateDb::Mode::kReadWrite);
  recover_locked(ctx, db);

  std::optional<InstalledHotfix> h = db.hotfix(id);
  if (!h) throw Error(ErrorKind::kNotApplicable, id, "is not installed");
  check_hotfix(*h, state, ctx.show_state("state.db"));
  for (const InstalledHotfix& other : db.hotfixes(false, false)) {
    if (other.id != id &&
        std::count(other.requires_hotfixes.begin(), other.requires_hotfixes.end(), id)) {
      HistoryEntry e{0,
                     now(),
                     "uninstall",
                     id,
                     h->revision,
                     "refused",
                     "installed hotfix " + other.id + " requires it",
                     ""};
      db.add_history(e);
      throw Error(ErrorKind::kNotApplicable, id,
                  "cannot be uninstalled: installed hotfix " + other.id +
                      " names it as a prerequisite (uninstall " + other.id + " first)");
    }
  }

  const std::string txid = new_txid();
  Journal journal;
  journal.txid = txid;
  journal.action = "uninstall";
  journal.hotfix_id = id;
  std::vector<FileLayer> updated;
  std::map<std::string, std::string>
      link_sources;  // stage (root-relative) -> backup (state-relative)
  UninstallResult result;
  result.id = id;
  int i = 0;
  for (const InstalledFile& f : h->files) {
    std::string backup = "backups/" + txid + "/" + std::to_string(i++);
    if (f.action == FileAction::kKept) {
      std::string extra = f.path + ".hotfix-new";
      if (disk.exists(extra)) {
        journal.ops.push_back({JournalOp::Kind::kRemove, extra, "", backup, false});
        result.files.emplace_back(extra, "removed");
      }
    }
    if (!answers_for_path(f)) {
      if (f.action == FileAction::kSkipped) {
        result.files.emplace_back(f.path, "left as it was (the hotfix had skipped it)");
      }
      continue;
    }
    auto layers = db.layers(f.path, fold);
    if (auto later = hand_on(layers, id, f, updated, journal.discard_after_commit)) {
      // A later hotfix layered over this file since: its file stays, and it now displaces
      // what this hotfix had displaced.
      result.files.emplace_back(f.path, "kept " + *later + "'s version (installed later)");
      continue;
    }
    if (f.action == FileAction::kKept) {
      // The administrator changed the file after the hotfix put it there: it stays, as rpm
      // leaves a changed configuration file; what the hotfix had displaced is not needed.
      if (f.backup) journal.discard_after_commit.push_back(*f.backup);
      result.files.emplace_back(f.path, "left as the administrator changed it");
      continue;
    }
    bool present = disk.exists(f.path);
    if (f.backup) {
      JournalOp op{JournalOp::Kind::kPut, f.path, stage_name(f.path, txid),
                   present ? std::optional<std::string>(backup) : std::nullopt, false};
      link_sources[op.stage] = *f.backup;
      journal.ops.push_back(op);
      journal.discard_after_commit.push_back(*f.backup);
      result.files.emplace_back(f.path, "restored");
    } else if (present) {
      journal.ops.push_back({JournalOp::Kind::kRemove, f.path, "", backup, false});
      result.files.emplace_back(f.path, "removed (it did not exist before)");
    }
  }
  // The directories it created: one that still holds another installed hotfix's files is
  // handed on to that hotfix; the others are removed once committed, when empty, deepest
  // first (one that holds anything else stays).
  std::vector<DirOwner> handed_dirs;
  if (!h->created_dirs.empty()) {
    std::vector<InstalledHotfix> others = db.hotfixes(true, false);
    for (auto dir = h->created_dirs.rbegin(); dir != h->created_dirs.rend(); ++dir) {
      bool taken = false;
      for (const InstalledHotfix& other : others) {
        if (other.id == id) continue;
        bool needs = std::any_of(other.files.begin(), other.files.end(), [&](const auto& f) {
          return f.path != *dir && path_under(f.path, *dir, fold);
        });
        if (needs) {
          handed_dirs.emplace_back(other.id, *dir);
          taken = true;
        }
      }
      if (!taken) journal.remove_dirs_after_commit.push_back(*dir);
    }
  }

  RestartState restart = db.restart();
  result.restart_required = !journal.ops.empty() && h->restart != RestartRequirement::kNone;
  if (result.restart_required) check_reboot_required_place(ctx.root);
  if (result.restart_required) {
    restart.required = true;
    restart.kind = std::max(restart.kind, h->restart);
  }
  restart.hotfixes.erase(std::remove(restart.hotfixes.begin(), restart.hotfixes.end(), id),
                         restart.hotfixes.end());
  if (result.restart_required) restart.hotfixes.push_back(id + " (uninstalled)");
  HistoryEntry entry{0,
                     now(),
                     "uninstall",
                     id,
                     h->revision,
                     "uninstalled",
                     std::to_string(result.files.size()) + " files handled",
                     txid};

  auto stager = [&](const Journal&) {
    for (const auto& [stage, backup] : link_sources) {
      link_or_copy(disk, state + "/" + backup, stage);
    }
  };
  auto committer = [&] { db.record_uninstall(id, updated, entry, restart, handed_dirs); };
  if (journal.ops.empty() && journal.discard_after_commit.empty() &&
      journal.remove_dirs_after_commit.empty()) {
    disk.commit(committer);
  } else {
    // Also without file operations: the backups this uninstall makes obsolete are removed
    // under the journal, so that a crash after the commit cannot leave them behind.
    if (auto warning = run_transaction(disk, state, journal, stager, committer)) {
      result.warnings.push_back(*warning);
    }
  }
  return result;
}

std::string recover_root(const InstallerContext& ctx) {
  check_state_dir(ctx.root, ctx.state_dir);
  if (!ctx.disk->exists(ctx.state_file("state.db")) &&
      !ctx.disk->exists(ctx.state_file("journal.json"))) {
    return "nothing to recover";
  }
  std::optional<RootLock> lock;
  if (!ctx.held_lock) lock.emplace(ctx.root, ctx.state_dir, ctx.wait_for_lock);
  StateDb db = StateDb::open(ctx.show_state("state.db"), StateDb::Mode::kReadWrite);
  return recover_locked(ctx, db);
}

}  // namespace hotfix
