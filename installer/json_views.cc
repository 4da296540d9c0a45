#include "installer/json_views.h"

#include <map>

#include "manifests/timestamp.h"

namespace hotfix {

namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kUninstalledSuffix = " (uninstalled)";

json time_or_null(const std::optional<std::int64_t>& t) {
  return t ? json(Timestamp(*t).iso8601()) : json(nullptr);
}

// The database keeps "ID (uninstalled)" for the need an uninstall left.
json restart_hotfix(const std::string& entry) {
  std::string_view id = entry;
  bool uninstalled = id.ends_with(kUninstalledSuffix);
  if (uninstalled) id.remove_suffix(kUninstalledSuffix.size());
  return {{"id", std::string(id)}, {"uninstalled", uninstalled}};
}

// "not applicable" as a token: "not_applicable".
std::string decision_json_token(Decision decision) {
  std::string token(decision_token(decision));
  for (char& c : token) c = c == ' ' ? '_' : c;
  return token;
}

}  // namespace

json text_or_null(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

json restart_json(const RestartState& state, BootSince progress) {
  const bool done = state.required && progress == BootSince::kStarted;
  json hotfixes = json::array();
  if (state.required) {
    for (const std::string& h : state.hotfixes) hotfixes.push_back(restart_hotfix(h));
  }
  return {{"kind", state.required ? json(std::string(restart_token(state.kind))) : json(nullptr)},
          {"required", state.required && !done},
          {"state", !state.required ? "none"
                    : done          ? "done"
                                    : "pending"},
          {"since", state.required ? time_or_null(state.since) : json(nullptr)},
          {"scheduled_at", time_or_null(state.scheduled_at)},
          {"policy", text_or_null(state.policy)},
          {"mechanism", text_or_null(state.mechanism)},
          {"hotfixes", hotfixes}};
}

std::string_view outcome_token(ApplyOutcome outcome) {
  switch (outcome) {
    case ApplyOutcome::kApplied:
      return "applied";
    case ApplyOutcome::kAlreadyInstalled:
      return "already_installed";
    case ApplyOutcome::kNotApplicable:
      return "refused";
    case ApplyOutcome::kDryRun:
      return "dry_run";
    case ApplyOutcome::kRepaired:
      return "repaired";
  }
  return "refused";
}

std::string history_outcome_token(const std::string& recorded) {
  static const std::map<std::string, std::string> kTokens = {
      {"applied", "applied"},         {"no-op", "already_installed"},
      {"refused", "refused"},         {"uninstalled", "uninstalled"},
      {"rolled back", "rolled_back"}, {"rolled forward", "rolled_forward"},
      {"repaired", "repaired"}};
  auto it = kTokens.find(recorded);
  return it == kTokens.end() ? recorded : it->second;
}

json plan_json(const Plan& plan) {
  json files = json::array();
  for (const PlannedFile& f : plan.files) {
    files.push_back(
        {{"path", f.target.relative},
         {"decision", decision_json_token(f.decision)},
         {"installed_version",
          f.installed_version ? json(f.installed_version->to_string()) : json(nullptr)},
         {"new_version", f.entry.version ? json(f.entry.version->to_string()) : json(nullptr)},
         {"kind", std::string(file_kind_token(f.entry.kind))},
         {"forced", f.forced},
         {"reason", text_or_null(f.reason)}});
  }
  return files;
}

json plan_counts_json(const Plan& plan) {
  json counts = {{"install", 0}, {"replace", 0}, {"skip", 0}, {"keep", 0}, {"not_applicable", 0}};
  for (const PlannedFile& f : plan.files) {
    std::string token = decision_json_token(f.decision);
    counts[token] = counts[token].get<int>() + 1;
  }
  return counts;
}

json hotfix_json(const InstalledHotfix& h) {
  return {{"id", h.id},
          {"title", h.title},
          {"architecture", std::string(arch_token(h.arch))},
          {"revision", h.revision},
          {"installed_at", Timestamp(h.installed_at).iso8601()},
          {"language", text_or_null(h.language)},
          {"restart", std::string(restart_token(h.restart))},
          {"key_id", text_or_null(h.key_id)},
          {"supersedes", h.supersedes}};
}

json history_json(const HistoryEntry& e) {
  return {{"seq", e.seq},
          {"at", Timestamp(e.at).iso8601()},
          {"action", e.action},
          {"hotfix", text_or_null(e.hotfix_id)},
          {"revision", e.revision},
          {"outcome", history_outcome_token(e.outcome)},
          {"detail", text_or_null(e.detail)},
          {"transaction", text_or_null(e.txid)}};
}

}  // namespace hotfix
