#include "installer/cli.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "installer/atomic_write.h"
#include "installer/compliance.h"
#include "installer/installer.h"
#include "installer/json_views.h"
#include "installer/pending_restart.h"
#include "installer/process_scan.h"
#include "installer/repo_cli.h"
#include "installer/restart.h"
#include "installer/root_lock.h"
#include "installer/state_checks.h"
#include "installer/state_db.h"
#include "installer/state_store.h"
#include "installer/target_facts.h"
#include "installer/verify.h"
#include "installer/writer_activity.h"
#include "manifests/cli_shell.h"
#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/json_context.h"
#include "manifests/manifest_json.h"
#include "manifests/terminal_text.h"

namespace hotfix {

namespace {

using json = nlohmann::ordered_json;
constexpr const char* kProgram = "hotfix-installer";

struct Options {
  std::string root = "/";
  bool json = false;
  std::vector<std::string> bundles;
  std::vector<std::string> trust;
  bool dry_run = false;
  bool force = false;
  bool reinstall = false;
  bool no_wait = false;
  double lock_timeout = -1;  // seconds; negative: wait as long as it takes
  bool quiet = false;
  bool local_time = false;
  std::string restart = "never";
  std::string restart_command;
  std::string id;
  bool cancel_restart = false;
  bool skip_inapplicable = false;
  std::vector<std::string> ids;  // check
  std::string format = "text";   // check: text, nagios, prometheus
  std::string output;            // check --output FILE
  bool missing_ok = false;
  RepoOptions repo;  // source, sync, fetch; apply by id
};

std::string utc(std::int64_t t) { return Timestamp(t).iso8601(); }

// Text output's times: UTC, or with --local-time local time with its offset. JSON is UTC.
std::string when(const Options& o, std::int64_t t) {
  return o.local_time ? Timestamp(t).local_iso8601() : utc(t);
}

// Cells come from input (paths, titles, reasons that quote them): printed terminal-safe.
void print_table(std::vector<std::vector<std::string>> rows) {
  if (rows.empty()) return;
  for (auto& r : rows) {
    for (auto& cell : r) cell = terminal_safe(cell);
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

InstallerContext context(const Options& o) {
  InstallerContext ctx(Root::open(o.root), !o.no_wait);
  if (o.lock_timeout >= 0) {
    ctx.lock_wait.timeout =
        std::chrono::milliseconds(static_cast<long long>(o.lock_timeout * 1000));
  }
  if (!o.quiet) {
    ctx.lock_wait.notice = [](const std::string& line) {
      std::cerr << kProgram << ": " << terminal_safe(line) << "\n";
    };
  }
  return ctx;
}

std::string root_display(const InstallerContext& ctx) { return ctx.root.path(); }

StateDb open_db_readonly(const InstallerContext& ctx) {
  return open_state_db(ctx, StateDb::Mode::kReadOnly);
}

void print_plan(const Plan& plan) {
  std::vector<std::vector<std::string>> rows{{"Action", "File", "Installed", "Hotfix", "Why"}};
  for (const PlannedFile& f : plan.files) {
    std::string installed =
        f.installed_version ? f.installed_version->to_string() : (f.current ? "present" : "-");
    rows.push_back({std::string(decision_token(f.decision)), f.target.relative, installed,
                    format_file_version(f.entry.version), f.reason});
  }
  print_table(rows);
}

std::string restart_text(const RestartState& r) {
  if (!r.required) return "no restart required";
  std::string s =
      std::string(r.kind == RestartRequirement::kServices ? "a restart of services" : "a reboot") +
      " is required by ";
  for (std::size_t i = 0; i < r.hotfixes.size(); ++i) s += (i ? ", " : "") + r.hotfixes[i];
  if (r.scheduled_at) s += "; scheduled for " + Timestamp(*r.scheduled_at).local_display();
  if (!r.mechanism.empty()) s += " (" + r.mechanism + ")";
  if (!r.scheduled_at) s += "; not scheduled";
  if (r.since) s += "; pending since " + utc(*r.since);
  return s;
}

// ---- apply -----------------------------------------------------------------------------

RestartRequest restart_request(const Options& o) {
  return {parse_restart_policy(o.restart),
          o.restart_command.empty() ? std::nullopt : std::optional<std::string>(o.restart_command)};
}

// The restart as it stands: what the database records, pending or done.
json restart_view(const InstallerContext& ctx, const RestartState& state) {
  return restart_json(state, state.required ? restart_progress(ctx, state) : BootSince::kSameBoot);
}

json restart_view(const InstallerContext& ctx) {
  return restart_view(ctx, open_db_readonly(ctx).restart());
}

int cmd_apply(const Options& o, CommandOutput& out) {
  InstallerContext ctx = context(o);
  RestartRequest request = restart_request(o);
  std::vector<std::string> trust_warnings;
  TrustStore trust = load_installer_trust(ctx, o.trust, &trust_warnings);
  for (const std::string& w : trust_warnings) out.warn(w);
  RepoOptions repo = o.repo;
  repo.dry_run = o.dry_run;
  std::unique_ptr<ScratchDir> scratch;  // a dry run's downloads, until the plan is made
  std::vector<std::string> bundles =
      resolve_apply_arguments(ctx, o.bundles, repo, trust, out, scratch);
  BundleOrder order = order_bundles(bundles, trust);
  if (!o.dry_run) {
    // Refused before anything is made, the state directory included.
    if (order.may_need_restart) check_reboot_required_place(ctx.root);
    lock_for_writing(ctx);  // the restart below is settled under the same lock
  }
  ApplyOptions options{o.dry_run, o.force, o.reinstall};
  Progress progress("apply: staging", Progress::wanted(o.json, o.quiet));
  ctx.progress = &progress;
  out.data = {{"results", json::array()},
              {"restart", nullptr},
              {"processes_using_old_files", json::array()}};
  json& results = out.data["results"];
  bool restart_needed = false, refused = false, any_applicable = false;
  std::vector<std::string> restart_ids;
  RestartRequirement kind = RestartRequirement::kNone;
  std::vector<FileIdentityKey> old_files;
  std::exception_ptr failure;
  for (const std::string& b : order.paths) {
    ApplyResult r;
    try {
      r = apply_bundle(ctx, b, trust, options);
      progress.finish();  // the plan is printed from the left margin
    } catch (...) {
      progress.finish();
      // The bundles applied before this one still get their restart scheduled.
      failure = std::current_exception();
      break;
    }
    if (r.outcome == ApplyOutcome::kNotApplicable) {
      refused = true;
      std::string line = b + ": " + r.id + ": not applicable: " + r.reason;
      if (o.skip_inapplicable) {
        out.warn(line);
      } else {
        out.error(ErrorKind::kNotApplicable, line);
      }
    } else {
      any_applicable = true;
    }
    if (r.restart_required) {
      restart_needed = true;
      restart_ids.push_back(r.id);
    }
    for (std::size_t i = 0; i < r.replaced_paths.size(); ++i) {
      old_files.push_back({r.replaced_identities[i].first, r.replaced_identities[i].second,
                           ctx.root.show(r.replaced_paths[i])});
    }
    for (const std::string& w : r.warnings) out.warn(w);
    const char* outcome = r.outcome == ApplyOutcome::kApplied            ? "applied"
                          : r.outcome == ApplyOutcome::kAlreadyInstalled ? "already installed"
                          : r.outcome == ApplyOutcome::kDryRun           ? "dry run"
                          : r.outcome == ApplyOutcome::kRepaired         ? "repaired"
                                                                         : "not applicable";
    results.push_back({{"bundle", b},
                       {"id", r.id},
                       {"revision", r.revision},
                       {"outcome", std::string(outcome_token(r.outcome))},
                       {"reason", text_or_null(r.reason)},
                       {"restart_required", r.restart_required},
                       {"restart_kind", std::string(restart_token(r.restart))},
                       {"counts", plan_counts_json(r.plan)},
                       {"files", plan_json(r.plan)}});
    if (!o.json) {
      std::cout << terminal_safe(r.id + " (revision " + std::to_string(r.revision) + ") from " + b +
                                 ": " + outcome + (r.reason.empty() ? "" : ": " + r.reason))
                << "\n";
      if (!r.plan.files.empty()) print_plan(r.plan);
      if (r.plan.files.size() && r.outcome == ApplyOutcome::kDryRun) {
        std::cout << "(dry run: nothing was changed)\n";
      }
    }
    bool changed = r.outcome == ApplyOutcome::kApplied || r.outcome == ApplyOutcome::kRepaired;
    if (changed && r.restart_required) kind = std::max(kind, r.restart);
  }

  json& users = out.data["processes_using_old_files"];
  if (restart_needed && !o.dry_run) {
    RestartState state;
    try {
      state = settle_restart_after_apply(ctx, request, kind, restart_ids);
    } catch (const Error&) {
      out.data["restart"] = restart_view(ctx);  // the need is recorded even so
      throw;
    }
    out.data["restart"] = restart_view(ctx, state);
    if (!o.json) std::cout << "Restart: " << terminal_safe(restart_text(state)) << "\n";
  } else {
    out.data["restart"] = restart_view(ctx);
  }
  if (failure) std::rethrow_exception(failure);
  if (!old_files.empty()) {
    for (const ProcessUse& p : find_processes_using(old_files)) {
      users.push_back({{"pid", p.pid},
                       {"command", p.command_line},
                       {"unit", text_or_null(p.unit)},
                       {"how", p.how},
                       {"files", p.paths}});
      if (!o.json) {
        std::string line = "Still using an old file: pid " + std::to_string(p.pid) + " (" +
                           p.command_line + ")" + (p.unit.empty() ? "" : " unit " + p.unit) + ", " +
                           p.how + ": ";
        for (std::size_t i = 0; i < p.paths.size(); ++i) line += (i ? ", " : "") + p.paths[i];
        std::cout << terminal_safe(line) << "\n";
      }
    }
  }
  // docs/exit-codes.md, "Several bundles": a failure beats 10, 10 beats 0. A bundle that does
  // not apply is a failure unless --skip-inapplicable, and then only when none applied.
  if (refused && (!o.skip_inapplicable || !any_applicable)) {
    if (o.skip_inapplicable) out.error(ErrorKind::kNotApplicable, "no bundle applies here");
    return static_cast<int>(ExitCode::kNotApplicable);
  }
  if (restart_needed && !o.dry_run) return static_cast<int>(ExitCode::kRestartRequired);
  return 0;
}

// ---- uninstall -------------------------------------------------------------------------

// An uninstall's data and, in text, its heading and file table.
void show_uninstall(const UninstallResult& r, const std::string& outcome, const json& restart,
                    const std::string& heading, bool json_out, CommandOutput& out) {
  json files = json::array();
  for (const auto& [path, what] : r.files) files.push_back({{"path", path}, {"result", what}});
  out.data = {{"id", r.id}, {"outcome", outcome}, {"files", files}, {"restart", restart}};
  if (json_out) return;
  std::cout << terminal_safe(r.id) << heading << "\n";
  std::vector<std::vector<std::string>> rows{{"File", "Result"}};
  for (const auto& [path, what] : r.files) rows.push_back({path, what});
  print_table(rows);
}

// What uninstall would do to each file, with nothing written: the restart as it stands.
int uninstall_dry_run(const InstallerContext& ctx, const Options& o, CommandOutput& out) {
  UninstallResult r = uninstall_hotfix(ctx, o.id, true);
  show_uninstall(r, "dry_run", restart_view(ctx), " would be uninstalled", o.json, out);
  if (!o.json) {
    if (r.restart_required) std::cout << "Restart: would be required\n";
    std::cout << "(dry run: nothing was changed)\n";
  }
  return 0;
}

int cmd_uninstall(const Options& o, CommandOutput& out) {
  InstallerContext ctx = context(o);
  RestartRequest request = restart_request(o);
  if (!is_valid_id(o.id)) {
    throw Error(ErrorKind::kBadInput, "ID", quote(o.id) + " is not a hotfix id");
  }
  if (o.missing_ok && !open_db_readonly(ctx).hotfix(o.id)) {
    // As `dpkg --remove` of a package that is not installed: nothing to do, and success.
    std::string note = o.id + " is not installed: nothing to uninstall";
    out.data = {{"id", o.id},
                {"outcome", "not_installed"},
                {"files", json::array()},
                {"restart", restart_view(ctx)}};
    if (!o.json) std::cout << terminal_safe(note) << "\n";
    return 0;
  }
  require_state_db(ctx, o.id);  // before lock_for_writing makes the state directory
  if (o.dry_run) return uninstall_dry_run(ctx, o, out);
  lock_for_writing(ctx);  // the restart below is settled under the same lock
  UninstallResult r;
  {
    Progress progress("uninstall: restoring", Progress::wanted(o.json, o.quiet));
    ctx.progress = &progress;
    r = uninstall_hotfix(ctx, o.id);
    ctx.progress = nullptr;
  }
  for (const std::string& w : r.warnings) out.warn(w);
  RestartState state = settle_restart_after_uninstall(ctx, request, r.id, r.restart_required);
  show_uninstall(r, "uninstalled", restart_view(ctx, state), " uninstalled", o.json, out);
  if (!o.json && r.restart_required) {
    std::cout << "Restart: " << terminal_safe(restart_text(state)) << "\n";
  }
  return r.restart_required ? static_cast<int>(ExitCode::kRestartRequired) : 0;
}

// ---- list, history, status, facts, recover -------------------------------------------

int cmd_list(const Options& o, CommandOutput& out) {
  InstallerContext ctx = context(o);
  StateDb db = open_db_readonly(ctx);
  auto hotfixes = db.hotfixes(false, false);  // the stored manifests are not shown
  json list = json::array();
  for (const InstalledHotfix& h : hotfixes) list.push_back(hotfix_json(h));
  out.data = {{"hotfixes", list}};
  if (o.json) return 0;
  std::vector<std::vector<std::string>> rows{
      {"HotFixID", "Revision", "Architecture", "InstalledOn", "Title"}};
  for (const InstalledHotfix& h : hotfixes) {
    rows.push_back({h.id, std::to_string(h.revision), std::string(arch_display(h.arch)),
                    when(o, h.installed_at), h.title});
  }
  if (hotfixes.empty()) {
    std::cout << "no hotfixes installed under " << terminal_safe(root_display(ctx)) << "\n";
  } else {
    print_table(rows);
  }
  return 0;
}

int cmd_history(const Options& o, CommandOutput& out) {
  InstallerContext ctx = context(o);
  StateDb db = open_db_readonly(ctx);
  auto entries = db.history();
  json list = json::array();
  for (const HistoryEntry& e : entries) list.push_back(history_json(e));
  out.data = {{"entries", list}};
  if (o.json) return 0;
  std::vector<std::vector<std::string>> rows{
      {"#", o.local_time ? "When (local)" : "When (UTC)", "Action", "Hotfix", "Outcome", "Detail"}};
  for (const HistoryEntry& e : entries) {
    rows.push_back(
        {std::to_string(e.seq), when(o, e.at), e.action, e.hotfix_id, e.outcome, e.detail});
  }
  print_table(rows);
  return 0;
}

// " (pid N)" when the writer holding the lock recorded its pid.
std::string holder_text(const WriterActivity& writers) {
  return writers.holder_pid ? " (pid " + std::to_string(*writers.holder_pid) + ")" : "";
}

std::string done_text(const RestartState& state) {
  std::string s =
      std::string(state.kind == RestartRequirement::kServices ? "the restart of services"
                                                              : "the reboot") +
      " that ";
  for (std::size_t i = 0; i < state.hotfixes.size(); ++i) {
    s += (i ? ", " : "") + state.hotfixes[i];
  }
  s += " needed";
  if (state.since) s += " (recorded " + utc(*state.since) + ")";
  return s + " is done: the machine has started since";
}

int cmd_status(const Options& o, CommandOutput& out) {
  InstallerContext ctx = context(o);
  StateDb db = open_db_readonly(ctx);
  RestartState state = db.restart();
  BootSince progress = state.required ? restart_progress(ctx, state) : BootSince::kSameBoot;
  // A journal whose writer still runs is a transaction in progress, not an interrupted one.
  WriterActivity writers = observe_writers(ctx.root, ctx.state_dir);
  bool in_progress = writers.journal_present && writers.writer_alive;
  bool journal = writers.journal_present && !in_progress;
  if (o.cancel_restart) {
    lock_for_writing(ctx);
    state = cancel_pending_restart(ctx, restart_request(o));
    progress = state.required ? restart_progress(ctx, state) : BootSince::kSameBoot;
  }
  const bool pending = state.required && progress != BootSince::kStarted;
  out.data = {{"restart", restart_json(state, progress)},
              {"interrupted_transaction", journal},
              {"transaction_in_progress", in_progress},
              {"writer_pid",
               in_progress && writers.holder_pid ? json(*writers.holder_pid) : json(nullptr)}};
  if (journal) {
    out.error(ErrorKind::kBusy,
              "an interrupted transaction is pending: run `hotfix-installer recover`");
  }
  if (!o.json) {
    std::cout << "Restart: "
              << terminal_safe(pending || !state.required ? restart_text(state) : done_text(state))
              << "\n";
    if (in_progress) {
      std::cout << "A transaction is in progress" << terminal_safe(holder_text(writers)) << ".\n";
    }
  }
  // Automation must not take the root for settled while a transaction waits for recover (one
  // in progress is a writer at work, and settles by itself).
  if (journal) return static_cast<int>(ExitCode::kBusy);
  return pending ? static_cast<int>(ExitCode::kRestartRequired) : 0;
}

int cmd_facts(const Options& o, CommandOutput& out) {
  InstallerContext ctx = context(o);
  TargetFacts facts = load_target_facts(ctx.root);
  out.data = facts_to_json(facts);
  if (!o.json) {
    json j = facts_to_json(facts);
    for (auto& [k, v] : j.items())
      std::cout << k << ": " << terminal_safe(v.is_string() ? v.get<std::string>() : v.dump())
                << "\n";
  }
  return 0;
}

// ---- check ------------------------------------------------------------------------------

json compliance_json(const ComplianceReport& report) {
  json hotfixes = json::array();
  for (const HotfixCompliance& h : report.hotfixes) {
    hotfixes.push_back(
        {{"id", h.id},
         {"state", h.state()},
         {"revision", h.revision ? json(*h.revision) : json(nullptr)},
         {"superseded_by", h.superseded_by ? json(*h.superseded_by) : json(nullptr)},
         {"not_applicable", h.not_applicable ? json(*h.not_applicable) : json(nullptr)},
         {"files", h.files},
         {"differing_files", h.differing_files}});
  }
  return {{"compliant", report.compliant()},
          {"hotfixes", hotfixes},
          {"restart_pending", report.restart_pending},
          {"differing_files", report.differing_files},
          {"last_change", report.last_change ? json(utc(*report.last_change)) : json(nullptr)},
          {"interrupted_transaction", report.interrupted.has_value()}};
}

// A textfile collector reads whatever is there: the file is replaced whole, never rewritten.
void write_metrics(const std::string& path, const std::string& text) {
  std::filesystem::path p(path);
  std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  std::unique_ptr<Disk> disk = make_root_disk(Root::open(dir));
  write_atomically(*disk, p.filename().string(), text, 0644);
}

ComplianceReport compliance_of(const Options& o) {
  InstallerContext ctx = context(o);
  if (o.bundles.empty()) return check_compliance(ctx, o.ids);
  TrustStore trust = load_installer_trust(ctx, o.trust);
  return check_compliance(ctx, o.ids, o.bundles, &trust);
}

int cmd_check(const Options& o, CommandOutput& out) {
  if (o.format != "text" && o.format != "nagios" && o.format != "prometheus") {
    throw Error(ErrorKind::kBadInput, "--format",
                quote(o.format) + " is not a format (text, nagios, prometheus)");
  }
  if (o.json && o.format != "text") {
    throw Error(ErrorKind::kBadInput, "--format",
                "--json and --format " + o.format + " exclude each other");
  }
  if (o.format == "nagios") {
    // A plugin's codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the check itself failed).
    try {
      int code = 0;
      std::cout << terminal_safe(nagios_line(compliance_of(o), code)) << "\n";
      return code;
    } catch (const Error& e) {
      std::cout << "HOTFIX UNKNOWN - " << terminal_safe(e.what()) << "\n";
      return 3;
    }
  }
  ComplianceReport report = compliance_of(o);
  out.data = compliance_json(report);
  if (o.format == "prometheus") {
    std::string text = prometheus_text(report);
    if (o.output.empty()) {
      std::cout << text;
    } else {
      write_metrics(o.output, text);
    }
    return 0;  // the metrics say the state; the check itself succeeded
  }
  // Exit 10 is compliant but for the restart: a success, with no error.
  const int code = report.exit_code();
  if (code == static_cast<int>(ExitCode::kBusy)) {
    out.error(ErrorKind::kBusy,
              *report.interrupted + " was interrupted: run `hotfix-installer recover`");
  } else if (code == static_cast<int>(ExitCode::kNotApplicable)) {
    out.error(ErrorKind::kNotApplicable, "not compliant: a hotfix asked for is not installed");
  } else if (code == static_cast<int>(ExitCode::kVerification)) {
    out.error(ErrorKind::kVerification, "not compliant: installed files differ from their promise");
  }
  if (!o.json) {
    std::vector<std::vector<std::string>> rows{
        {"HotFixID", "State", "Revision", "Differing files"}};
    for (const HotfixCompliance& h : report.hotfixes) {
      std::string state = h.state() + (h.superseded_by    ? " by " + *h.superseded_by
                                       : h.not_applicable ? ": " + *h.not_applicable
                                                          : "");
      rows.push_back({h.id, state, h.revision ? std::to_string(*h.revision) : "-",
                      std::to_string(h.differing_files)});
    }
    print_table(rows);
    if (report.interrupted)
      std::cout << "Interrupted: " << terminal_safe(*report.interrupted) << "\n";
    std::cout << "Restart pending: " << (report.restart_pending ? "yes" : "no") << "\n"
              << (report.compliant() ? "compliant" : "not compliant") << "\n";
  }
  return code;
}

int cmd_recover(const Options& o, CommandOutput& out) {
  InstallerContext ctx = context(o);
  std::string what = recover_root(ctx);
  out.data = {{"result", what}};
  if (!o.json) std::cout << terminal_safe(what) << "\n";
  return 0;
}

// ---- verify ----------------------------------------------------------------------------

int cmd_verify(const Options& o, CommandOutput& out) {
  InstallerContext ctx = context(o);
  // A reader never waits for a writer, so a transaction may be changing files while they are
  // checked. The check is repeated when a writer came, went or moved on meanwhile, and a file
  // a pending transaction is changing is reported as such, never as damage.
  WriterActivity writers;
  VerifyReport report;
  bool settled = false;
  std::string id = o.id;  // as installed: ids compare ignoring case
  for (int attempt = 0; attempt < 3 && !settled; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
    writers = observe_writers(ctx.root, ctx.state_dir);
    StateDb db = open_db_readonly(ctx);
    if (!o.id.empty()) {
      std::optional<InstalledHotfix> h = db.hotfix(o.id);
      if (!h) throw Error(ErrorKind::kNotApplicable, o.id, "is not installed");
      id = h->id;
    }
    VerifyOptions options;
    if (!id.empty()) options.only_hotfix = id;
    Progress progress("verify", Progress::wanted(o.json, o.quiet));
    if (progress.enabled()) {
      progress.add_totals(db.file_count(options.only_hotfix), 0);
      options.on_checked = [&](std::uint64_t bytes) { progress.advance(1, bytes); };
    }
    // All records even for one ID: later layers tell superseded promises apart.
    report = verify_installed(
        ctx.root, [&](const FileSink& sink) { db.each_file(sink); }, options);
    settled = report.intact() || observe_writers(ctx.root, ctx.state_dir).marks == writers.marks;
  }
  std::set<std::string> changing_paths = writers.changing_paths();
  auto changing = [&](const FileCheck& f) {
    if (f.ok()) return false;
    // Unsettled, or a journal this installer cannot read: any difference may be a writer's.
    if (!settled || (writers.journal_present && !writers.journal)) return true;
    return changing_paths.count(f.path) > 0 || changing_paths.count(f.path + ".hotfix-new") > 0;
  };
  std::vector<const FileCheck*> shown;
  for (const FileCheck& f : report.files) {
    if (id.empty() || f.hotfix_id == id) shown.push_back(&f);
  }
  std::size_t failed = 0, in_change = 0, config_changed = 0;
  for (const FileCheck* f : shown) {
    if (changing(*f)) {
      ++in_change;
    } else if (f->config_changed()) {
      ++config_changed;
    } else if (!f->ok()) {
      ++failed;
    }
  }
  std::string transaction =
      writers.journal ? "the " + writers.journal->action + " of " + writers.journal->hotfix_id
                      : std::string("a transaction");
  std::string busy_note =
      in_change == 0 ? ""
      : settled
          ? std::to_string(in_change) + " are being changed by " + transaction +
                (writers.writer_alive ? " in progress" + holder_text(writers)
                                      : ", interrupted: run `hotfix-installer recover`")
          : std::to_string(in_change) + " changed while they were checked: an installer is at work";
  json files = json::array();
  for (const FileCheck* f : shown) {
    files.push_back({{"hotfix", f->hotfix_id},
                     {"path", f->path},
                     {"action", std::string(file_action_token(f->action))},
                     {"codes", f->codes()},
                     {"ok", f->ok()},
                     {"config", f->config},
                     {"config_changed", !changing(*f) && f->config_changed()},
                     {"changing", changing(*f)},
                     {"detail", text_or_null(f->detail)}});
  }
  out.data = {{"files", files},        {"checked", shown.size()},
              {"failed", failed},      {"config_changed", config_changed},
              {"changing", in_change}, {"intact", failed == 0 && in_change == 0}};
  if (failed) {
    out.error(ErrorKind::kVerification, std::to_string(failed) + " of " +
                                            std::to_string(shown.size()) +
                                            " files differ from what their hotfixes promised");
  } else if (in_change) {
    out.error(ErrorKind::kBusy, busy_note);
  }
  if (!o.json) {
    for (const FileCheck* f : shown) {
      if (changing(*f)) {
        std::cout << "changing  "
                  << terminal_safe(f->path + "  (" + f->hotfix_id + ": " + transaction)
                  << " is changing it)\n";
      } else if (!f->ok()) {
        // rpm -V's "c": a configuration file, changed by its administrator (not a failure).
        std::cout << f->codes() << (f->config_changed() ? " c  " : "  ")
                  << terminal_safe(f->path + "  (" + f->hotfix_id + ": " + f->detail) << ")\n";
      }
    }
    std::string config_note =
        config_changed == 0 ? ""
                            : "; " + std::to_string(config_changed) + " configuration file" +
                                  (config_changed == 1 ? "" : "s") + " (c) changed since installed";
    std::cout << shown.size() << " files checked, " << failed << " differ" << config_note
              << (failed || in_change ? ""
                  : config_changed    ? ": every other file is what its hotfix promised"
                                      : ": every installed file is what its hotfix promised")
              << (in_change ? "; " + busy_note + "; verify again when it is done" : "") << "\n";
  }
  if (failed) return static_cast<int>(ExitCode::kVerification);
  return in_change ? static_cast<int>(ExitCode::kBusy) : 0;
}

}  // namespace

int installer_main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "hotfix-installer: applies signed hotfix bundles transactionally, verifies installed "
      "files, and removes hotfixes.\nExit codes: 0 ok, 1 internal error, 2 bad input, 3 bad or "
      "untrusted signature, 4 verification failed, 5 not applicable, 6 busy, 7 system error, 8 "
      "state damaged or repository metadata not trusted, 9 repository unreachable, 10 success but "
      "a restart is required (see docs/exit-codes.md).\n`help "
      "COMMAND` shows a command's options.",
      kProgram};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text(kProgram), "Name, version and source revision");
  app.option_defaults()->always_capture_default();  // --help shows each option's default
  auto common = [&](CLI::App* c) {
    c->add_option("--root", o.root,
                  "Target root directory (an offline image, or / for this system)")
        ->type_name("DIR");
    c->add_flag("--json", o.json, "Machine-readable output");
  };
  // Commands that change the root wait for another installer's lock, saying so.
  auto waiting = [&](CLI::App* c, const std::string& when) {
    auto* no_wait = c->add_flag("--no-wait", o.no_wait,
                                when + "Fail with 'busy' instead of waiting for another installer");
    c->add_option("--lock-timeout", o.lock_timeout,
                  when + "Wait at most SECONDS for another installer, then fail with 'busy'")
        ->check(CLI::NonNegativeNumber)
        ->excludes(no_wait)
        ->type_name("SECONDS")
        ->default_str("none: wait as long as it takes");
  };
  auto quiet = [&](CLI::App* c) {
    c->add_flag("--quiet,-q", o.quiet,
                "No progress and no lock notice on standard error (progress shows only when it "
                "is a terminal, never with --json)");
  };
  // Commands that may leave a restart to schedule: when, and what schedules it.
  auto restart = [&](CLI::App* c, const std::string& command_help) {
    c->add_option("--restart", o.restart, "never (default), now, at=HH:MM, delay=MINUTES")
        ->type_name("WHEN");
    c->add_option("--restart-command", o.restart_command, command_help)->type_name("COMMAND");
  };
  auto* apply = app.add_subcommand("apply", "Apply bundles, each in its own transaction");
  common(apply);
  apply
      ->add_option("BUNDLE", o.bundles,
                   "Bundle files, or hotfix ids to fetch from the sources; applied in "
                   "dependency order")
      ->required();
  apply
      ->add_option("--trust", o.trust,
                   "Trusted public key file or directory (also <root>/etc/hotfix/trusted.d)")
      ->type_name("PATH");
  apply->add_flag("--dry-run", o.dry_run, "Print the plan; change nothing");
  apply->add_flag("--force", o.force,
                  "Replace files even when the installed version is newer or equal");
  apply->add_flag("--reinstall", o.reinstall,
                  "When the bundle's revision is the one installed, put back every file of it "
                  "that verify finds not as promised, in one transaction (a changed "
                  "configuration file only with --force)");
  waiting(apply, "");
  quiet(apply);
  apply->add_flag("--skip-inapplicable", o.skip_inapplicable,
                  "A bundle that does not apply here (another architecture, prerequisites not "
                  "met) is reported and skipped; exit 5 only when none applies");
  restart(apply, "Command that schedules the restart instead of systemd/shutdown");
  // Commands that read a repository: which source, and the air-gapped site's way out.
  auto repository = [&](CLI::App* c, const std::string& what) {
    c->add_option("--source", o.repo.source, what)->type_name("NAME");
    c->add_flag("--accept-expired-metadata", o.repo.accept_expired,
                "Accept expired repository metadata (an air-gapped site): said loudly and "
                "recorded in the history");
  };
  repository(apply, "Fetch ids from this source only (default: every source)");

  auto* uninstall =
      app.add_subcommand("uninstall", "Remove an installed hotfix, restoring what it replaced");
  common(uninstall);
  uninstall->add_option("ID", o.id, "Hotfix id")->required();
  waiting(uninstall, "");
  quiet(uninstall);
  uninstall->add_flag("--missing-ok", o.missing_ok,
                      "An ID that is not installed is success (exit 0), not exit 5");
  uninstall->add_flag("--dry-run", o.dry_run,
                      "Print what would be done to each file; change nothing");
  restart(uninstall, "Command that schedules the restart");

  auto local_time = [&](CLI::App* c) {
    c->add_flag("--local-time", o.local_time,
                "Times in local time with their UTC offset, not UTC (text only: JSON stays UTC)");
  };
  auto* list = app.add_subcommand("list", "Installed hotfixes");
  common(list);
  local_time(list);
  auto* history =
      app.add_subcommand("history", "Every apply, uninstall and recovery with its outcome");
  common(history);
  local_time(history);
  auto* verify =
      app.add_subcommand("verify", "Check installed files against what their hotfixes promised");
  common(verify);
  verify->add_option("ID", o.id, "Only this hotfix");
  quiet(verify);
  auto* status = app.add_subcommand("status", "Pending restart and why");
  common(status);
  status->add_flag("--cancel-restart", o.cancel_restart, "Cancel a scheduled restart");
  status
      ->add_option("--restart-command", o.restart_command,
                   "With --cancel-restart: the command that scheduled the restart, given again "
                   "(a command recorded under the root is never run)")
      ->type_name("COMMAND");
  waiting(status, "With --cancel-restart: ");
  auto* recover_cmd =
      app.add_subcommand("recover", "Finish or undo a transaction a crash left behind");
  common(recover_cmd);
  waiting(recover_cmd, "");
  auto* facts = app.add_subcommand("facts", "What the installer knows about the target");
  common(facts);
  auto* check = app.add_subcommand(
      "check", "Compliance: are these hotfixes installed, intact, and no restart pending?");
  common(check);
  check->add_option("ID", o.ids,
                    "Hotfix ids that must be installed (default: every installed one)");
  check
      ->add_option("--bundle", o.bundles,
                   "A hotfix that must be installed where it applies: its id is checked, and "
                   "where it does not apply (architecture, prerequisites) it is not_applicable, "
                   "not absent")
      ->type_name("FILE");
  check
      ->add_option("--trust", o.trust,
                   "Trusted public key for --bundle (also <root>/etc/hotfix/trusted.d)")
      ->type_name("PATH");
  check->add_option("--format", o.format, "text, nagios (a plugin line, exit 0-3), prometheus")
      ->type_name("{text,nagios,prometheus}");
  check
      ->add_option("--output", o.output,
                   "With --format prometheus: write the metrics to this file, atomically")
      ->type_name("FILE");

  auto* source = app.add_subcommand("source", "The repositories this root takes hotfixes from");
  source->require_subcommand(1);
  auto* source_add = source->add_subcommand(
      "add", "Add a repository, trusting the root metadata the administrator hands over");
  common(source_add);
  source_add->add_option("NAME", o.repo.source, "The source's name")->required();
  source_add
      ->add_option("URL", o.repo.urls, "The repository's URL, then its mirrors (http, https, file)")
      ->required();
  source_add
      ->add_option("--root-metadata", o.repo.root_metadata,
                   "The repository's root metadata (N.root.json, with N.root.json.sig beside it)")
      ->required()
      ->type_name("FILE");
  source_add->add_option("--ca-file", o.repo.ca_file, "https: trust these CA certificates")
      ->type_name("FILE");
  waiting(source_add, "");
  auto* source_list =
      source->add_subcommand("list", "Configured sources and what is trusted of each");
  common(source_list);
  auto* source_remove =
      source->add_subcommand("remove", "Remove a source and forget what was trusted of it");
  common(source_remove);
  source_remove->add_option("NAME", o.repo.source, "The source's name")->required();
  waiting(source_remove, "");
  auto* sync = app.add_subcommand(
      "sync", "Update each source's signed metadata and list what it offers this root");
  common(sync);
  sync->add_flag("--dry-run", o.repo.dry_run,
                 "Fetch and check the metadata and list what it offers; store nothing");
  repository(sync, "Only this source (default: every source)");
  waiting(sync, "");
  auto* fetch = app.add_subcommand(
      "fetch", "Download hotfixes by id into <root>/var/cache/hotfix, for a later apply");
  common(fetch);
  fetch->add_option("ID", o.repo.ids, "Hotfix ids")->required();
  repository(fetch, "Only from this source (default: every source)");
  waiting(fetch, "");

  std::string command;
  if (std::optional<int> code = parse_command_line(app, argc, argv, command)) return *code;
  CommandOutput out(kProgram, command, o.json);
  auto with_context = [&](int (*run)(InstallerContext&, const RepoOptions&, bool, CommandOutput&)) {
    InstallerContext ctx = context(o);
    return run(ctx, o.repo, o.json, out);
  };
  return run_command(out, [&] {
    if (*apply) return cmd_apply(o, out);
    if (*uninstall) return cmd_uninstall(o, out);
    if (*list) return cmd_list(o, out);
    if (*history) return cmd_history(o, out);
    if (*verify) return cmd_verify(o, out);
    if (*status) return cmd_status(o, out);
    if (*recover_cmd) return cmd_recover(o, out);
    if (*facts) return cmd_facts(o, out);
    if (*check) return cmd_check(o, out);
    if (*source_add) return with_context(cmd_source_add);
    if (*source_list) return with_context(cmd_source_list);
    if (*source_remove) return with_context(cmd_source_remove);
    if (*sync) return with_context(cmd_sync);
    if (*fetch) return with_context(cmd_fetch);
    return static_cast<int>(ExitCode::kInternal);
  });
}

}  // namespace hotfix
