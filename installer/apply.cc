// apply: one bundle, in one transaction (docs/transaction.md), after its signature, its
// architecture, its revision, supersedence and prerequisites are checked.
#include <algorithm>
#include <map>
#include <set>
#include <span>

#include "installer/applicability.h"
#include "installer/free_space.h"
#include "installer/installer.h"
#include "installer/journal.h"
#include "installer/layering.h"
#include "installer/payload_read_ahead.h"
#include "installer/pending_restart.h"
#include "installer/prerequisite_eval.h"
#include "installer/repair_plan.h"
#include "installer/restart.h"
#include "installer/state_checks.h"
#include "installer/state_db.h"
#include "installer/state_store.h"
#include "installer/target_facts.h"
#include "installer/transaction.h"
#include "installer/verify.h"
#include "installer/writer_start.h"
#include "manifests/bundle_reader.h"
#include "manifests/case_fold.h"
#include "manifests/errors.h"
#include "manifests/file_identity.h"

namespace hotfix {

namespace {

void collect_required_hotfixes(const Prerequisite& p, std::vector<std::string>& out) {
  if (p.type == Prerequisite::Type::kHotfixInstalled) out.push_back(p.value);
  for (const Prerequisite& c : p.children) collect_required_hotfixes(c, out);
}

FileMetadata metadata_for(const PlannedFile& f) {
  FileMetadata m;
  m.mtime = f.entry.timestamp.unix_seconds();
  if (f.entry.mode) {
    m.mode = *f.entry.mode;
  } else if (f.current) {
    // Setuid, setgid and sticky only where the manifest asks for them: a new build is not
    // privileged because the file it replaces was.
    m.mode = f.current->st_mode & 0777;
  } else {
    m.mode = 0644;
  }
  if (f.current) {
    m.uid = f.current->st_uid;
    m.gid = f.current->st_gid;
  }
  return m;
}

}  // namespace

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
          if (equal_fold(m.id, need) && !placed.count(m.path) && m.path != n.path) ready = false;
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

namespace {

// What one staged copy of a blob needs: its name and the metadata it is given.
struct Staged {
  std::string stage;
  FileMetadata metadata;
};

// One apply of one bundle. Each step is a method, run in this order by run(): open the
// state, check that the hotfix applies, plan, draft the transaction's operations and records,
// check for room, then run the transaction (staging the payloads) and commit.
class ApplyRun {
 public:
  ApplyRun(const InstallerContext& ctx, const std::string& bundle, const TrustStore& trust,
           const ApplyOptions& options)
      : ctx_(ctx),
        options_(options),
        reader_(BundleReader::open_verified(bundle, trust)),
        m_(reader_.manifest()),
        facts_(load_target_facts(ctx.root)),
        fold_(facts_.windows_paths()),
        id_(m_.id) {
    result_.bundle = bundle;
    result_.id = m_.id;
    result_.revision = m_.revision;
    result_.restart = m_.restart;
  }

  ApplyResult run() {
    open_state();
    installed_ = db_->hotfix(m_.id);
    // Ids compare ignoring case: a hotfix keeps the spelling it was first installed under.
    if (installed_) result_.id = id_ = installed_->id;
    if (!applicable()) return result_;
    plan();
    if (repairing_ && !repair_.changes_files()) return intact();
    if (options_.dry_run) {
      result_.outcome = ApplyOutcome::kDryRun;
      // What the apply would need: a restart when it would change a file.
      result_.restart = m_.restart;
      bool changes = std::any_of(
          result_.plan.files.begin(), result_.plan.files.end(), [](const PlannedFile& f) {
            return f.decision != Decision::kSkip && f.decision != Decision::kNotApplicable;
          });
      result_.restart_required = changes && m_.restart != RestartRequirement::kNone;
      return result_;
    }
    repairing_ ? draft_repair() : draft();
    check_room();
    commit();
    return result_;
  }

 private:
  // The lock (unless the command holds it), the database, and recovery first.
  void open_state() {
    if (!options_.dry_run) {
      // Refused before anything is made, the state directory included.
      if (m_.restart != RestartRequirement::kNone) check_reboot_required_place(ctx_.root);
      make_state_dir(ctx_);
      if (!ctx_.held_lock) lock_.emplace(ctx_.root, ctx_.state_dir, ctx_.lock_wait);
    }
    db_.emplace(open_state_db(
        ctx_, options_.dry_run ? StateDb::Mode::kReadOnly : StateDb::Mode::kReadWrite));
    if (!options_.dry_run) {
      recover_locked(ctx_, *db_);
    } else {
      refuse_interrupted(ctx_);
    }
  }

  HistoryEntry history(const std::string& outcome, const std::string& detail,
                       const std::string& txid) const {
    return HistoryEntry{0, unix_now(), "apply", id_, m_.revision, outcome, detail, txid};
  }

  // False with the result set (refused, or already installed) when there is nothing to do.
  // In this order: architecture, the same revision installed, then refusal().
  HotfixDescription description() const {
    return HotfixDescription{id_, m_.revision, m_.bundle->arch, m_.family, &m_.prerequisites};
  }

  bool applicable() {
    if (std::optional<std::string> why = platform_refusal(description(), facts_)) {
      return refuse(*why);
    }
    if (installed_ && installed_->revision == m_.revision && options_.reinstall) {
      repairing_ = true;
      return true;
    }
    if (installed_ && installed_->revision == m_.revision) {
      result_.outcome = ApplyOutcome::kAlreadyInstalled;
      result_.reason = id_ + " revision " + std::to_string(m_.revision) + " is already installed";
      if (!options_.dry_run) db_->add_history(history("no-op", result_.reason, ""));
      return false;
    }
    if (std::optional<std::string> why = refusal()) return refuse(*why);
    return true;
  }

  bool refuse(const std::string& why) {
    result_.outcome = ApplyOutcome::kNotApplicable;
    result_.reason = why;
    if (!options_.dry_run) db_->add_history(history("refused", why, ""));
    return false;
  }

  // A lower revision, supersedence, prerequisites, in that order.
  std::optional<std::string> refusal() const {
    return install_refusal(description(), installed_, db_->hotfixes(false, false),
                           root_prerequisite_context(ctx_.root, *db_, facts_));
  }

  void plan() {
    if (repairing_) return plan_repair();
    PlanOptions plan_options;
    plan_options.fold_case = fold_;
    plan_options.force = options_.force;
    plan_options.recorded_sha256 = [this](const std::string& path) -> std::optional<Sha256Digest> {
      auto layers = db_->layers(path, fold_);
      for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
        if (it->second.action == FileAction::kInstalled ||
            it->second.action == FileAction::kReplaced) {
          return it->second.sha256;
        }
      }
      return std::nullopt;
    };
    result_.plan = make_plan(m_.architectures.at(m_.bundle->arch), ctx_.root, plan_options);
  }

  // What verify finds not as promised among this hotfix's files; all records are read, for
  // later layers tell superseded promises apart.
  void plan_repair() {
    VerifyOptions options;
    options.only_hotfix = id_;
    VerifyReport report = verify_installed(
        ctx_.root, [this](const FileSink& sink) { db_->each_file(sink); }, options);
    repair_ = make_repair_plan(*installed_, m_.architectures.at(m_.bundle->arch), report.files,
                               ctx_.root, fold_, options_.force);
    result_.plan = repair_.plan;
  }

  ApplyResult intact() {
    result_.outcome = ApplyOutcome::kAlreadyInstalled;
    result_.reason = id_ + " revision " + std::to_string(m_.revision) +
                     " is already installed, and every file is as it promised";
    if (!options_.dry_run) db_->add_history(history("no-op", result_.reason, ""));
    return result_;
  }

  // The transaction's operations and what the database will record.
  void draft() {
    txid_ = new_txid();
    journal_.txid = txid_;
    journal_.action = "apply";
    journal_.hotfix_id = id_;
    record_ = hotfix_record();
    layer_ = db_->next_layer();
    for (std::size_t i = 0; i < result_.plan.files.size(); ++i) draft_file(i);
    carry_over();
    draft_restart();
  }

  // A reinstall: the installed record, with the files put back; the displaced ones are kept
  // only for the transaction (a skipped file put back keeps its backup, as an apply would).
  void draft_repair() {
    txid_ = new_txid();
    journal_.txid = txid_;
    journal_.action = "apply";
    journal_.hotfix_id = id_;
    record_ = *installed_;
    for (std::size_t i = 0; i < repair_.plan.files.size(); ++i) draft_put_back(i);
    carry_over();
    draft_restart();
  }

  void draft_put_back(std::size_t i) {
    const PlannedFile& f = repair_.plan.files[i];
    if (f.decision == Decision::kSkip) return;
    ++counts_[static_cast<int>(f.decision)];
    InstalledFile& rec = record_.files[repair_.record[i]];
    std::string backup = "backups/" + txid_ + "/" + std::to_string(i);
    JournalOp op;
    op.kind = JournalOp::Kind::kPut;
    op.path = f.target.relative + (f.decision == Decision::kKeep ? ".hotfix-new" : "");
    if (ctx_.disk->exists(op.path)) op.backup = backup;
    op.keep_backup = false;
    if (rec.action == FileAction::kSkipped) {
      rec.action = repair_.put_back_as[i];
      if (f.current) {
        op.keep_backup = true;
        rec.backup = backup;
        result_.replaced_paths.push_back(rec.path);
        result_.replaced_identities.emplace_back(f.current->st_dev, f.current->st_ino);
      }
    } else if (f.decision == Decision::kReplace) {
      result_.replaced_paths.push_back(rec.path);
      result_.replaced_identities.emplace_back(f.current->st_dev, f.current->st_ino);
    }
    for (const std::string& d : f.target.missing_dirs) {
      if (created_.insert(d).second) journal_.created_dirs.push_back(d);
    }
    op.stage = stage_name(op.path, txid_);
    by_content_[*f.entry.sha256].push_back({op.stage, metadata_for(f)});
    staged_sizes_.push_back(f.entry.size);
    journal_.ops.push_back(op);
  }

  void draft_restart() {
    restart_ = restart_as_of_now(ctx_, *db_);
    result_.restart = m_.restart;
    result_.restart_required = !journal_.ops.empty() && m_.restart != RestartRequirement::kNone;
    if (result_.restart_required) {
      restart_.required = true;
      restart_.kind = std::max(restart_.kind, m_.restart);
      if (!std::count(restart_.hotfixes.begin(), restart_.hotfixes.end(), id_)) {
        restart_.hotfixes.push_back(id_);
      }
      stamp_restart_need(ctx_, restart_);
    }
  }

  InstalledHotfix hotfix_record() const {
    InstalledHotfix record;
    record.id = id_;
    record.revision = m_.revision;
    record.title = m_.title;
    record.arch = m_.bundle->arch;
    record.language =
        m_.bundle->language.value_or(m_.languages.empty() ? "" : m_.languages.front());
    record.restart = m_.restart;
    record.installed_at = unix_now();
    record.key_id = m_.bundle->key_id;
    record.manifest_json = reader_.manifest_json();
    record.supersedes = m_.supersedes;
    collect_required_hotfixes(m_.prerequisites, record.requires_hotfixes);
    return record;
  }

  // The record and the journal operation of plan entry `i` (docs/state-database.md).
  void draft_file(std::size_t i) {
    const PlannedFile& f = result_.plan.files[i];
    ++counts_[static_cast<int>(f.decision)];
    if (f.decision == Decision::kNotApplicable) return;
    InstalledFile rec = promised(f);
    // An upgrade: the older revision's record of this path.
    const InstalledFile* old = record_of(installed_, rec.path);
    if (f.decision == Decision::kSkip) {
      // An upgrade that leaves the file as it is keeps the older revision's record: its place
      // in the layering and the backup of what was there before the hotfix.
      record_.files.push_back(old ? *old : rec);
      record_.files.back().kind = f.entry.kind;
      return;
    }
    std::string backup = "backups/" + txid_ + "/" + std::to_string(i);
    JournalOp op;
    op.kind = JournalOp::Kind::kPut;
    if (f.decision == Decision::kKeep) {
      draft_kept(f, old, backup, rec, op);
    } else {
      draft_replaced(f, old, backup, rec, op);
    }
    op.stage = stage_name(op.path, txid_);
    by_content_[*f.entry.sha256].push_back({op.stage, metadata_for(f)});
    staged_sizes_.push_back(f.entry.size);
    journal_.ops.push_back(op);
    record_.files.push_back(rec);
  }

  InstalledFile promised(const PlannedFile& f) const {
    InstalledFile rec;
    rec.path = f.target.relative;
    rec.manifest_path = f.entry.path();
    rec.version = f.entry.version;
    rec.size = f.entry.size;
    rec.sha256 = *f.entry.sha256;
    rec.mtime = f.entry.timestamp.unix_seconds();
    rec.mode = metadata_for(f).mode;
    rec.layer = layer_;
    rec.action = FileAction::kSkipped;
    rec.kind = f.entry.kind;
    return rec;
  }

  void draft_kept(const PlannedFile& f, const InstalledFile* old, const std::string& backup,
                  InstalledFile& rec, JournalOp& op) const {
    rec.action = FileAction::kKept;
    op.path = f.target.relative + ".hotfix-new";
    if (ctx_.disk->exists(op.path)) op.backup = backup;
    op.keep_backup = false;
    // The file itself does not change: an upgrade keeps the older revision's place and the
    // backup of what was there before the hotfix.
    if (old) {
      rec.layer = old->layer;
      rec.backup = old->backup;
    }
  }

  void draft_replaced(const PlannedFile& f, const InstalledFile* old, const std::string& backup,
                      InstalledFile& rec, JournalOp& op) {
    rec.action = f.decision == Decision::kInstall ? FileAction::kInstalled : FileAction::kReplaced;
    op.path = f.target.relative;
    if (f.decision == Decision::kReplace) {
      op.backup = backup;
      op.keep_backup = true;
      rec.backup = backup;
      result_.replaced_paths.push_back(rec.path);
      result_.replaced_identities.emplace_back(f.current->st_dev, f.current->st_ino);
    }
    if (old && answers_for_path(*old)) {
      auto layers = db_->layers(rec.path, fold_);
      if (!layers.empty() && layers.back().first == id_) {
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
        hand_on(layers, id_, *old, updated_layers_, journal_.discard_after_commit);
      }
    }
    for (const std::string& d : f.target.missing_dirs) {
      if (created_.insert(d).second) journal_.created_dirs.push_back(d);
    }
  }

  // An upgrade carries over the files the older revision had and this one does not list, and
  // the directories it created; the new ones come outermost first.
  void carry_over() {
    if (installed_ && !repairing_) {
      for (const InstalledFile& old : installed_->files) {
        bool listed = std::any_of(record_.files.begin(), record_.files.end(),
                                  [&](const InstalledFile& f) { return f.path == old.path; });
        if (!listed) record_.files.push_back(old);
      }
      record_.created_dirs = installed_->created_dirs;
    }
    std::sort(journal_.created_dirs.begin(), journal_.created_dirs.end(),
              [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
    for (const std::string& d : journal_.created_dirs) {
      if (!std::count(record_.created_dirs.begin(), record_.created_dirs.end(), d)) {
        record_.created_dirs.push_back(d);
      }
    }
  }

  // A refusal for want of room is recorded, when the disk leaves room for that.
  void check_room() {
    try {
      check_free_space(ctx_.root, staged_sizes_, journal_.created_dirs.size());
    } catch (const Error& e) {
      try {
        db_->add_history(history("refused", e.what(), ""));
      } catch (const Error&) {
        // The disk may be too full for the history too; the refusal is reported all the same.
      }
      throw;
    }
  }

  std::string detail() const {
    if (repairing_) {
      return std::to_string(counts_[0] + counts_[1] + counts_[3]) + " put back, " +
             std::to_string(repair_.plan.files.size() - counts_[0] - counts_[1] - counts_[3]) +
             " as promised";
    }
    return std::to_string(counts_[0]) + " installed, " + std::to_string(counts_[1]) +
           " replaced, " + std::to_string(counts_[3]) + " kept, " + std::to_string(counts_[2]) +
           " skipped, " + std::to_string(counts_[4]) + " not applicable";
  }

  void commit() {
    const std::string what = detail();
    auto committer = [&] {
      db_->record_apply(record_, history(repairing_ ? "repaired" : "applied", what, txid_),
                        restart_, updated_layers_);
    };
    if (!journal_.ops.empty() || !journal_.discard_after_commit.empty()) {
      auto stager = [this](const Journal&) { stage(); };
      if (auto warning = run_transaction(*ctx_.disk, ctx_.state_dir, journal_, stager, committer)) {
        result_.warnings.push_back(*warning);
      }
    } else {
      ctx_.disk->commit(committer);  // everything was already there: record it, change no file
    }
    result_.outcome = repairing_ ? ApplyOutcome::kRepaired : ApplyOutcome::kApplied;
    result_.reason = what;
  }

  // Writes every blob to its staged copies while the bundle streams, at most kOpenStages of
  // them at once (a thousand files of one content must not run out of descriptors); further
  // copies are written from the first once the blob is checked. Skipped files' blobs are read
  // and checked, not written.
  static constexpr std::size_t kOpenStages = 16;

  void stage() {
    Disk& disk = *ctx_.disk;
    const std::vector<Staged>* staged = nullptr;
    std::uint64_t blob_size = 0;
    std::vector<std::unique_ptr<WritableFile>> outs;
    PayloadHandler handler;
    Progress* progress = ctx_.progress;
    if (progress) {
      std::uint64_t bytes = 0;
      for (std::uint64_t size : staged_sizes_) bytes += size;
      progress->add_totals(staged_sizes_.size(), bytes);
    }
    handler.begin = [&](const Sha256Digest& digest, std::uint64_t size) {
      staged = &by_content_.at(digest);
      blob_size = size;
      for (std::size_t i = 0; i < staged->size() && i < kOpenStages; ++i) {
        outs.push_back(disk.create((*staged)[i].stage, 0600));
      }
    };
    handler.data = [&](std::span<const char> bytes) {
      for (auto& out : outs) out->append(bytes.data(), bytes.size());
      if (progress) progress->advance(0, bytes.size() * outs.size());
    };
    handler.end = [&] {
      // Writeback starts per file (as dpkg does), so that the transaction's one filesystem
      // sync later finds little left to do.
      for (auto& out : outs) {
        out->start_writeback();
        out->close();
      }
      outs.clear();
      if (staged->size() > kOpenStages) copy_first_stage(*staged, blob_size);
      for (const Staged& s : *staged) disk.set_metadata(s.stage, s.metadata);
      if (progress) {
        std::uint64_t more = staged->size() > kOpenStages ? staged->size() - kOpenStages : 0;
        progress->advance(staged->size(), more * blob_size);
      }
    };
    for_each_payload_read_ahead(
        reader_, [&](const Sha256Digest& digest) { return by_content_.count(digest) > 0; },
        handler);
  }

  // The stages past the first kOpenStages, one at a time, from the first (still 0600, written
  // and checked).
  void copy_first_stage(const std::vector<Staged>& staged, std::uint64_t size) {
    Disk& disk = *ctx_.disk;
    const std::string data = disk.read_file(staged.front().stage, size);
    for (std::size_t i = kOpenStages; i < staged.size(); ++i) {
      auto out = disk.create(staged[i].stage, 0600);
      out->append(data.data(), data.size());
      out->start_writeback();
      out->close();
    }
  }

  const InstallerContext& ctx_;
  const ApplyOptions options_;
  BundleReader reader_;
  const Manifest& m_;
  const TargetFacts facts_;
  const bool fold_;
  std::string id_;  // the manifest's id, or the installed spelling of it
  std::optional<RootLock> lock_;
  std::optional<StateDb> db_;
  std::optional<InstalledHotfix> installed_;
  ApplyResult result_;

  std::string txid_;
  Journal journal_;
  InstalledHotfix record_;
  RestartState restart_;
  std::int64_t layer_ = 0;
  std::map<Sha256Digest, std::vector<Staged>> by_content_;
  std::set<std::string> created_;
  std::vector<std::uint64_t> staged_sizes_;
  std::vector<FileLayer> updated_layers_;  // other hotfixes' records an upgrade hands a backup to
  int counts_[5] = {};
  bool repairing_ = false;  // --reinstall of the installed revision
  RepairPlan repair_;
};

}  // namespace

ApplyResult apply_bundle(const InstallerContext& ctx, const std::string& bundle_path,
                         const TrustStore& trust, const ApplyOptions& options) {
  return ApplyRun(ctx, bundle_path, trust, options).run();
}

}  // namespace hotfix
