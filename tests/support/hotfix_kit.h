// Small signed hotfix bundles built from files described in the test, and the plain Linux
// roots they are applied to, for installer tests that need a rule-shaped hotfix rather than
// the KB967131 sample.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "manifests/manifest.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace hotfix::test {

// One file of a hotfix: a PE image of `version` when one is given, otherwise `text`.
struct KitFile {
  std::string path;                // relative, forward slashes: "app/bin/core.dll"
  std::optional<Version> version;  // set: an x64 PE image with this file version
  std::string text;                // the content of an unversioned file
  FileKind kind = FileKind::kBinary;
  bool only_if_present = false;
};

struct KitHotfix {
  std::string id;
  std::uint64_t revision = 1;
  RestartRequirement restart = RestartRequirement::kNone;
  std::vector<std::string> supersedes;
  Prerequisite prerequisites = Prerequisite::always();
  Arch arch = Arch::kX64;
  std::vector<KitFile> files;
};

// An x64 PE image of exactly 4096 bytes with file version `version` (the same bytes for the
// same path and version, different bytes for different ones).
std::string pe_image(const std::string& path, const Version& version);

// The content a KitFile gets in its bundle.
std::string kit_content(const KitFile& file);

// A signing key and the bundles built with it; everything lives in one temporary directory.
class HotfixKit {
 public:
  HotfixKit();
  const TempDir& dir() const { return dir_; }
  std::string pub() const;  // the public key, for --trust

  // Builds a signed bundle and returns its path (one per id, revision and architecture).
  std::string build(const KitHotfix& hotfix);

  // A fresh root: etc/hotfix/system.json for a Linux x64 system (so that nothing is detected
  // from the machine running the tests) and the given files, each dated 2023-01-01.
  std::string make_root(const std::string& name, const std::vector<KitFile>& files) const;

 private:
  TempDir dir_;
  int built_ = 0;
};

// The whole root, the state directory included, except SQLite's shared-memory index
// (var/lib/hotfix/state.db-shm): every reader of the database rewrites it, and it holds no
// data the database file and its log do not.
std::map<std::string, std::string> snapshot_with_state(const std::string& root);

// A refusal's error line without its program prefix and the bundle's path:
// "ID: not applicable: REASON\n". Any other text comes back as it is.
std::string refusal(const std::string& err);

// The installer with these arguments.
RunResult run_installer(std::vector<std::string> args, const std::vector<std::string>& env = {});

}  // namespace hotfix::test
