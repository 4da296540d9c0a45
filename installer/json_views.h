// The installer's objects as its --json output shows them (docs/json.md): one restart object
// everywhere, one vocabulary of outcomes for apply and history, counts as numbers, null
// rather than "".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "installer/boot_record.h"
#include "installer/installed_state.h"
#include "installer/installer.h"
#include "installer/plan.h"

namespace hotfix {

// `text`, or null when it is empty.
nlohmann::ordered_json text_or_null(const std::string& text);

// {"kind", "required", "state", "since", "scheduled_at", "policy", "mechanism",
//  "hotfixes": [{"id", "uninstalled"}]}: required only while pending; state "none",
// "pending" or "done" (the machine has started since the need was recorded).
nlohmann::ordered_json restart_json(const RestartState& state, BootSince progress);

// The outcome vocabulary: "applied", "already_installed", "refused", "dry_run",
// "uninstalled", "rolled_back", "rolled_forward".
std::string_view outcome_token(ApplyOutcome outcome);
// What the history recorded ("no-op", "rolled back", ...) in that vocabulary.
std::string history_outcome_token(const std::string& recorded);

// One object per planned file, and the plan's numbers per decision.
nlohmann::ordered_json plan_json(const Plan& plan);
nlohmann::ordered_json plan_counts_json(const Plan& plan);

nlohmann::ordered_json hotfix_json(const InstalledHotfix& hotfix);
nlohmann::ordered_json history_json(const HistoryEntry& entry);

}  // namespace hotfix
