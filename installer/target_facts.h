// What the installer knows about the system under a root: product, version, service pack,
// architecture and the hotfixes installed by other means. Read from
// <root>/etc/hotfix/system.json where present, otherwise detected on a live Linux root.
// Documented in docs/target-facts.md.
#pragma once

#include "installer/root.h"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifests/arch.h"
#include "manifests/os_release.h"  // parse_os_release, for its readers
#include "manifests/version.h"

namespace hotfix {

inline constexpr std::size_t kMaxSystemFactsBytes = 1024 * 1024;
inline constexpr std::size_t kMaxOsReleaseBytes = 64 * 1024;

// Where the facts are declared, relative to the root.
inline constexpr std::string_view kSystemFactsPath = "etc/hotfix/system.json";

struct TargetFacts {
  std::string family;   // "windows" or "linux"
  std::string product;  // "Windows Server 2008", "Debian GNU/Linux 12 (bookworm)", "unknown"
  std::optional<Version> version;  // "6.0.6001" is 6.0.6001.0; Linux: a numeric VERSION_ID
  int service_pack = 0;
  // kNeutral only when detection met a machine no bundle can be built for (riscv64, ...).
  Arch architecture = Arch::kX64;
  std::vector<std::string> hotfixes;  // present on the system, installed outside this tool
  // os-release's ID ("debian"; "linux" when os-release has none), or system.json's os_id;
  // empty when the target is not described by os-release (then `version` is not a VERSION_ID).
  std::string os_id;
  // "<root>/etc/hotfix/system.json", or "detected from <root>/etc/os-release; ..." saying
  // where each detected fact came from.
  std::string source;

  // Windows-family targets match paths case-insensitively.
  bool windows_paths() const { return family == "windows"; }
};

// Throws Error(kBadInput) when the root is not a directory or system.json is invalid (naming
// the field), SystemError when a file that exists cannot be read.
// Every file is read through the root's descriptor (installer/root_paths.h, resolve_to_read).
TargetFacts load_target_facts(const Root& root);
TargetFacts load_target_facts(const std::string& root);

// system.json's text on its own; `source` names it in errors and becomes facts.source.
TargetFacts parse_system_facts(std::string_view json_text, const std::string& source);

// uname(2)'s machine: x86_64 -> x64, i386..i686 -> x86, aarch64/arm64 -> arm64, ia64 -> ia64.
std::optional<Arch> arch_from_uname_machine(std::string_view machine);

// family, product, version (four parts, or null), service_pack, architecture, hotfixes,
// then "description" (describe_target) and "source".
nlohmann::ordered_json facts_to_json(const TargetFacts& facts);

// One short phrase: "Windows Vista RTM", "Windows Server 2008 SP1",
// "Debian GNU/Linux 12 (bookworm)". Windows targets always name their service pack;
// others only a non-zero one ("SUSE Linux Enterprise Server 15 SP4").
std::string describe_target(const TargetFacts& facts);

}  // namespace hotfix
