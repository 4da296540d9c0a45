// The auditor's verify: what is on disk under a root, compared with what the installed
// hotfixes promised for each file they put in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "installer/installed_state.h"
#include "installer/root.h"
#include "manifests/version.h"

namespace hotfix {

// The outcome for one InstalledFile of one hotfix.
struct FileCheck {
  std::string hotfix_id;
  std::string path;  // relative to the root, as on disk
  FileAction action = FileAction::kInstalled;

  bool missing = false;      // the file (or, for kept files, NAME.hotfix-new) does not exist
  bool not_regular = false;  // not a regular file, a symbolic link on the way, or an unsafe path
  bool unreadable = false;   // exists but could not be opened, examined or read
  bool size_differs = false;
  bool digest_differs = false;
  bool version_differs = false;
  bool mtime_differs = false;
  bool mode_differs = false;
  bool beside_missing = false;  // kept files: NAME.hotfix-new is gone (merged, then removed?)
  // A configuration file (the manifest's kind "config", rpm's `c`): after the install it is the
  // administrator's, so a change to it is reported apart and does not fail the check; only a
  // file that is gone, not regular or unreadable does.
  bool config = false;

  std::optional<Version> found_version;  // the PE file version read from the file itself
  // One line of what differs, e.g. "size 311296, expected 311808; version 7.0.6001.18000,
  // expected 7.0.6001.22329"; for a superseded promise "superseded by <hotfix id>".
  std::string detail;

  bool ok() const;  // as promised
  // Differs, and is a configuration file changed since it was installed.
  bool config_changed() const;
  bool failed() const { return !ok() && !config_changed(); }

  // rpm -V style. Five positions, always in this order:
  //   1 'S'  size differs
  //   2 '5'  SHA-256 digest differs
  //   3 'V'  file version differs (for skipped files: older than promised)
  //   4 'T'  modification time differs
  //   5 'M'  permission bits differ
  // '.' where the test passed or does not apply to the file's action (skipped files are
  // held only to V; kept files only to S and 5, of NAME.hotfix-new). Examples: "....."
  // intact, "S5V.." a different build, "...T." touched. Instead of the five positions, in
  // this precedence: "missing", "not-regular" (not a regular file in the root: a symbolic
  // link on the way, a directory, a device, an unsafe path), "unreadable" (an I/O or
  // permission error; the detail says which).
  std::string codes() const;
};

struct VerifyOptions {
  int threads = 0;  // 0: std::thread::hardware_concurrency(), at least 1
  // Check and report only this hotfix's files; the others still tell which are superseded.
  std::optional<std::string> only_hotfix;
  // Called from the checking threads after each file, with the bytes it read (progress).
  std::function<void(std::uint64_t bytes)> on_checked;
};

struct VerifyReport {
  std::vector<FileCheck> files;  // one per InstalledFile checked, in input order
  std::size_t ok = 0;
  std::size_t failed = 0;
  std::size_t config_changed = 0;  // differ, but are configuration files (not failures)
  std::uint64_t bytes_hashed = 0;  // by the checks reported (a superseded record is not)
  bool intact() const { return failed == 0; }
};

// Checks every InstalledFile of `hotfixes` (from the state database) against the files under
// `root`, by action:
// - installed, replaced: the hotfix's content is there: size, SHA-256, file version, mtime
//   (to the second) and permission bits as promised;
// - skipped: the file exists and its version is at least the promised one;
// - kept: the kept file exists, and NAME.hotfix-new beside it has the promised size and hash.
// When several entries name the same path (compared exactly: paths are spelled as on disk),
// only the newest layer (largest `layer`; the later entry on a tie) is held to its promise;
// the others are reported ok with detail "superseded by <id>".
// Never follows a symbolic link inside the root: one in the path is reported as not a regular
// file. Every file is reached through `root`'s descriptor, opened once by the caller.
VerifyReport verify_installed(const Root& root, const std::vector<InstalledHotfix>& hotfixes,
                              const VerifyOptions& options);

// The same over records handed out one by one (StateDb::each_file): checking starts on the
// first records while the rest are still being read. An exception from `feed` stops the
// checks and is rethrown.
using FileSink = std::function<void(const std::string& hotfix_id, InstalledFile&& file)>;
using FileFeed = std::function<void(const FileSink& sink)>;
VerifyReport verify_installed(const Root& root, const FileFeed& feed, const VerifyOptions& options);

}  // namespace hotfix
