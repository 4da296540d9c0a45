// Whether a server is what its hotfixes promise, for monitoring: `hotfix-installer check`
// (docs/installer.md, "check"). Per hotfix id asked for (or every installed one): installed,
// superseded by an installed hotfix, or absent, and whether its files are intact; for the root,
// whether a restart is pending. Printed as text, as one Nagios plugin line with perfdata, or as
// a Prometheus textfile-collector file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "installer/installer.h"

namespace hotfix {

struct HotfixCompliance {
  std::string id;                            // as installed, else as asked
  std::optional<std::uint64_t> revision;     // when installed
  std::optional<std::string> superseded_by;  // an installed hotfix that replaces it
  // For a hotfix asked for by its bundle: why it does not apply to this target (then it is
  // not needed here, as Windows Update says "not applicable").
  std::optional<std::string> not_applicable;
  bool installed = false;
  std::size_t files = 0;            // records checked
  std::size_t differing_files = 0;  // that differ (a changed configuration file does not)

  // "installed", "damaged" (installed, files differ), "superseded", "not_applicable",
  // "absent".
  std::string state() const;
};

struct ComplianceReport {
  std::vector<HotfixCompliance> hotfixes;
  bool restart_pending = false;
  std::size_t differing_files = 0;          // over every installed hotfix
  std::optional<std::int64_t> last_change;  // UTC seconds of the last apply or uninstall
  std::optional<std::string> interrupted;   // a transaction waiting for recover

  bool compliant() const;
  // 0 compliant; else the first of: 6 an interrupted transaction, 5 an id absent, 4 files
  // differ, 10 a restart pending.
  int exit_code() const;
};

// Reads the state database and checks every installed file, without taking the lock. Each of
// `bundles` (verified against `trust`) adds its hotfix to the ids, and one that is neither
// installed nor superseded is asked whether it would apply here, as a dry run would.
ComplianceReport check_compliance(const InstallerContext& ctx, const std::vector<std::string>& ids,
                                  const std::vector<std::string>& bundles = {},
                                  const TrustStore* trust = nullptr);

// "HOTFIX OK - 1 hotfix installed, intact | installed=1 absent=0 differing_files=0
// restart_pending=0": the plugin line, with its code in `code` (0 OK, 1 WARNING: only a restart
// pending, 2 CRITICAL: absent, damaged or interrupted).
std::string nagios_line(const ComplianceReport& report, int& code);

// The metrics, in the Prometheus text exposition format: hotfix_installed{id,revision},
// hotfix_restart_required, hotfix_verify_differing_files, hotfix_last_change_timestamp_seconds.
std::string prometheus_text(const ComplianceReport& report);

}  // namespace hotfix
