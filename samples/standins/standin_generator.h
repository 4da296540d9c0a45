// Generates the stand-in build drops and pre-hotfix server roots for a manifest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "manifests/arch.h"
#include "manifests/manifest.h"

namespace hotfix::standins {

struct StandinOptions {
  std::filesystem::path out;  // DIR: writes DIR/drops/<arch>/ and DIR/roots/<arch>/
  std::vector<Arch> arches;   // empty: every architecture of the manifest
  bool force = false;         // replace non-empty DIR/drops/<arch>, DIR/roots/<arch>
};

struct TreeSummary {
  std::filesystem::path path;
  std::size_t files = 0;
  std::uint64_t bytes = 0;
};

// Writes, per architecture, DIR/drops/<arch>/<destination>/<name> for every entry and
// DIR/roots/<arch>/ as the server stood before the hotfix, with etc/hotfix/system.json.
// Throws Error(kBadInput) for an architecture the manifest lacks, an occupied output
// without force, or an entry whose size cannot hold its stand-in.
std::vector<TreeSummary> generate_standins(const Manifest& manifest, const StandinOptions& options);

}  // namespace hotfix::standins
