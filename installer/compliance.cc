#include "installer/compliance.h"

#include <algorithm>
#include <map>

#include "installer/pending_restart.h"
#include "installer/state_db.h"
#include "installer/state_store.h"
#include "installer/verify.h"
#include "installer/writer_activity.h"
#include "manifests/bundle_reader.h"
#include "manifests/case_fold.h"

namespace hotfix {

namespace {

// The installed hotfix that lists `id` as superseded, if any.
std::optional<std::string> superseder(const std::vector<InstalledHotfix>& installed,
                                      const std::string& id) {
  for (const InstalledHotfix& h : installed) {
    for (const std::string& s : h.supersedes) {
      if (equal_fold(s, id)) return h.id;
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> last_change(const StateDb& db) {
  std::optional<std::int64_t> last;
  for (const HistoryEntry& e : db.history()) {
    bool change = e.outcome == "applied" || e.outcome == "repaired" || e.outcome == "uninstalled" ||
                  e.outcome == "rolled back" || e.outcome == "rolled forward";
    if (change) last = std::max(last.value_or(e.at), e.at);
  }
  return last;
}

// Prometheus label values escape backslash, double quote and newline.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string HotfixCompliance::state() const {
  if (installed) return differing_files ? "damaged" : "installed";
  if (superseded_by) return "superseded";
  return not_applicable ? "not_applicable" : "absent";
}

bool ComplianceReport::compliant() const { return exit_code() == 0; }

int ComplianceReport::exit_code() const {
  auto any = [&](const char* state) {
    return std::any_of(hotfixes.begin(), hotfixes.end(),
                       [&](const HotfixCompliance& h) { return h.state() == state; });
  };
  if (interrupted) return static_cast<int>(ExitCode::kBusy);
  if (any("absent")) return static_cast<int>(ExitCode::kNotApplicable);
  if (differing_files) return static_cast<int>(ExitCode::kVerification);
  if (restart_pending) return static_cast<int>(ExitCode::kRestartRequired);
  return 0;
}

namespace {

// The hotfix ids of the bundles, and why those that would not apply here do not: a dry run
// of each, which reads the state and the target but changes nothing.
std::map<std::string, std::optional<std::string>> bundle_applicability(
    const InstallerContext& ctx, const std::vector<std::string>& bundles, const TrustStore* trust,
    bool ask) {
  std::map<std::string, std::optional<std::string>> out;
  for (const std::string& b : bundles) {
    std::string id = BundleReader::open_verified(b, *trust).manifest().id;
    std::optional<std::string> why;
    if (ask) {
      ApplyResult r = apply_bundle(ctx, b, *trust, ApplyOptions{true, false, false});
      if (r.outcome == ApplyOutcome::kNotApplicable) why = r.reason;
    }
    // One hotfix in several bundles (one per architecture) applies when any of them does.
    auto [it, fresh] = out.emplace(id, why);
    if (!fresh && !why) it->second.reset();
  }
  return out;
}

}  // namespace

ComplianceReport check_compliance(const InstallerContext& ctx, const std::vector<std::string>& ids,
                                  const std::vector<std::string>& bundles,
                                  const TrustStore* trust) {
  ComplianceReport report;
  StateDb db = open_state_db(ctx, StateDb::Mode::kReadOnly);
  std::vector<InstalledHotfix> installed = db.hotfixes(false, false);
  VerifyReport verified = verify_installed(
      ctx.root, [&](const FileSink& sink) { db.each_file(sink); }, VerifyOptions{});
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_id;  // files, differing
  for (const FileCheck& f : verified.files) {
    auto& [files, differing] = by_id[f.hotfix_id];
    ++files;
    if (f.failed()) ++differing;
  }
  report.differing_files = verified.failed;
  WriterActivity writers = observe_writers(ctx.root, ctx.state_dir);
  const bool interrupted = writers.journal_present && !writers.writer_alive;
  // With a transaction waiting for recover, a dry run refuses: the check says so instead.
  auto applicability = bundle_applicability(ctx, bundles, trust, !interrupted);
  std::vector<std::string> wanted = ids;
  if (wanted.empty() && bundles.empty()) {
    for (const InstalledHotfix& h : installed) wanted.push_back(h.id);
  }
  for (const auto& entry : applicability) {
    const std::string& id = entry.first;
    bool listed = std::any_of(wanted.begin(), wanted.end(),
                              [&](const std::string& w) { return equal_fold(w, id); });
    if (!listed) wanted.push_back(id);
  }
  for (const std::string& id : wanted) {
    HotfixCompliance c;
    c.id = id;
    auto it = std::find_if(installed.begin(), installed.end(),
                           [&](const InstalledHotfix& h) { return equal_fold(h.id, id); });
    if (it != installed.end()) {
      c.id = it->id;
      c.installed = true;
      c.revision = it->revision;
      std::tie(c.files, c.differing_files) = by_id[it->id];
    } else {
      c.superseded_by = superseder(installed, id);
      for (const auto& [bundle_id, why] : applicability) {
        if (equal_fold(bundle_id, id)) c.not_applicable = why;
      }
    }
    report.hotfixes.push_back(std::move(c));
  }
  RestartState restart = db.restart();
  report.restart_pending =
      restart.required && restart_progress(ctx, restart) != BootSince::kStarted;
  report.last_change = last_change(db);
  if (interrupted) {
    report.interrupted =
        writers.journal ? "the " + writers.journal->action + " of " + writers.journal->hotfix_id
                        : std::string("a transaction");
  }
  return report;
}

std::string nagios_line(const ComplianceReport& report, int& code) {
  std::size_t installed = 0, absent = 0, damaged = 0;
  std::string names;
  for (const HotfixCompliance& h : report.hotfixes) {
    std::string state = h.state();
    if (state == "installed" || state == "superseded") ++installed;
    if (state == "absent") ++absent;
    if (state == "damaged") ++damaged;
    if (state == "absent" || state == "damaged")
      names += (names.empty() ? "" : ", ") + h.id + " " + state;
  }
  std::string status;
  if (report.interrupted || absent || damaged) {
    code = 2;
    status = "CRITICAL - " +
             (report.interrupted ? *report.interrupted + " was interrupted; " : "") +
             (names.empty() ? std::string("run `hotfix-installer recover`") : names);
  } else if (report.restart_pending) {
    code = 1;
    status = "WARNING - a restart is pending";
  } else {
    code = 0;
    status = "OK - " + std::to_string(installed) + " hotfix" + (installed == 1 ? "" : "es") +
             " installed, intact";
  }
  return "HOTFIX " + status + " | installed=" + std::to_string(installed) +
         " absent=" + std::to_string(absent) +
         " differing_files=" + std::to_string(report.differing_files) +
         " restart_pending=" + (report.restart_pending ? "1" : "0");
}

std::string prometheus_text(const ComplianceReport& report) {
  std::string out =
      "# HELP hotfix_installed Whether the hotfix is installed (1) or not (0).\n"
      "# TYPE hotfix_installed gauge\n";
  for (const HotfixCompliance& h : report.hotfixes) {
    out += "hotfix_installed{id=\"" + label(h.id) + "\",revision=\"" +
           (h.revision ? std::to_string(*h.revision) : "") + "\"} " + (h.installed ? "1" : "0") +
           "\n";
  }
  out +=
      "# HELP hotfix_restart_required Whether a restart a hotfix needs is pending.\n"
      "# TYPE hotfix_restart_required gauge\n"
      "hotfix_restart_required " +
      std::string(report.restart_pending ? "1" : "0") +
      "\n"
      "# HELP hotfix_verify_differing_files Installed files that differ from what their "
      "hotfixes promised.\n"
      "# TYPE hotfix_verify_differing_files gauge\n"
      "hotfix_verify_differing_files " +
      std::to_string(report.differing_files) + "\n";
  if (report.last_change) {
    out +=
        "# HELP hotfix_last_change_timestamp_seconds When a hotfix was last applied or "
        "uninstalled.\n"
        "# TYPE hotfix_last_change_timestamp_seconds gauge\n"
        "hotfix_last_change_timestamp_seconds " +
        std::to_string(*report.last_change) + "\n";
  }
  return out;
}

}  // namespace hotfix
