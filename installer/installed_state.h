// What the installed-state database records: installed hotfixes, the files each put in place
// (and what they displaced), history, and the pending restart. Storage: installer/state_db.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "manifests/arch.h"
#include "manifests/manifest.h"
#include "manifests/sha256.h"
#include "manifests/version.h"

namespace hotfix {

// What a hotfix did to one file.
enum class FileAction {
  kInstalled,  // the file did not exist; the hotfix created it
  kReplaced,   // an older (or, with --force, any) version was replaced
  kKept,       // a config file the administrator changed: left alone, new one at NAME.hotfix-new
  kSkipped,    // the installed version was newer or equal: left alone
};
std::string_view file_action_token(
    FileAction action);  // "installed", "replaced", "kept", "skipped"
std::optional<FileAction> parse_file_action(std::string_view token);

struct InstalledFile {
  std::string path;           // relative to the root, as it is spelled on disk
                              // ("Windows/System32/inetsrv/appcmd.exe")
  std::string manifest_path;  // destination/name as the manifest spells it
  FileAction action = FileAction::kInstalled;
  // What the hotfix promised (for verify): the manifest's version, size, hash, timestamp, and
  // the mode the file was given.
  std::optional<Version> version;
  std::uint64_t size = 0;
  Sha256Digest sha256{};
  std::int64_t mtime = 0;  // UTC seconds
  std::uint32_t mode = 0644;
  // The content this hotfix displaced, kept for uninstall: a path relative to the state
  // directory (backups/...), or nullopt when the file did not exist before.
  std::optional<std::string> backup;
  // Order of layering over the same path across hotfixes: larger is later.
  std::int64_t layer = 0;
  // As the manifest says: a configuration file's later changes are the administrator's, and
  // verify reports them apart (as rpm's `c` files).
  FileKind kind = FileKind::kBinary;
};

struct InstalledHotfix {
  std::string id;
  std::uint64_t revision = 0;
  std::string title;
  Arch arch = Arch::kX86;
  std::string language;
  RestartRequirement restart = RestartRequirement::kNone;
  std::int64_t installed_at = 0;  // UTC seconds
  std::string key_id;
  std::string manifest_json;  // the signed bundle manifest, verbatim
  std::vector<std::string> supersedes;
  std::vector<std::string> requires_hotfixes;  // hotfix ids its prerequisites name
  std::vector<InstalledFile> files;
  // Directories the hotfix created (relative to the root, as spelled on disk), outermost
  // first: uninstall removes them when they are empty.
  std::vector<std::string> created_dirs;
};

struct HistoryEntry {
  std::int64_t seq = 0;  // assigned by the database
  std::int64_t at = 0;   // UTC seconds
  std::string action;    // "apply", "uninstall", "recover"
  std::string hotfix_id;
  std::uint64_t revision = 0;
  std::string outcome;  // "applied", "uninstalled", "rolled back", "rolled forward", "refused",
                        // "no-op"
  std::string detail;   // one line: why
  std::string txid;     // transaction id, empty for refusals
};

struct RestartState {
  bool required = false;
  RestartRequirement kind = RestartRequirement::kNone;
  std::vector<std::string> hotfixes;         // which hotfixes need it
  std::string policy;                        // "never", "now", "at=HH:MM", "delay=MINUTES"
  std::optional<std::int64_t> scheduled_at;  // UTC seconds, when a restart was scheduled
  std::string mechanism;  // how it was scheduled: "systemd-run unit hotfix-restart-…", a command
  // When the need was first recorded (UTC seconds), and the boot it was recorded in
  // (boot_record.h): the need is met once the machine has started since.
  std::optional<std::int64_t> since;
  std::string boot;
};

}  // namespace hotfix
