// The TUF client workflow (TUF 1.0 section 5; python-tuf's ngclient/updater.py), each check
// named after the attack it stops: the root chain first, then timestamp, snapshot and
// targets, every file bounded in size before it is read and checked before it is believed.
// Nothing here writes: the caller stores what comes back (installer/repo_trust.h).
#pragma once

#include <string>
#include <vector>

#include "installer/repo_trust.h"
#include "installer/source_config.h"
#include "installer/transport.h"

namespace hotfix {

struct SyncOptions {
  Timestamp now;
  // Expired metadata is accepted with a warning (an air-gapped site that cannot refresh).
  bool accept_expired = false;
};

struct MetadataUpdate {
  TrustedRepository trusted;          // what is trusted now
  std::string mirror;                 // the URL that answered
  std::vector<std::string> updated;   // "root 2", "timestamp 7", ...: what changed
  std::vector<std::string> warnings;  // expired metadata accepted
  // Roles whose keys the new root changed: their old versions are no floor any more (TUF
  // 5.3.11), so the versions recorded for them are forgotten when this is stored.
  std::vector<std::string> reset_roles;
  bool changed() const { return !updated.empty(); }
};

// Brings `trusted` up to date from the first mirror of `source` that gives a complete,
// valid answer. Error(kMetadata) when a mirror's metadata is not to be trusted (a broken root
// chain, a bad signature, a version that went down, a snapshot and targets that do not
// match, expiry), Error(kUnreachable) when no mirror answered; with several mirrors, the
// last mirror's error, a metadata error before an unreachable one.
MetadataUpdate update_metadata(const TrustedRepository& trusted, const SourceConfig& source,
                               Transport& transport, const SyncOptions& options);

// The targets entry for a hotfix id (ASCII case ignored) and this root's architecture and
// languages: what `apply ID` and `fetch ID` download. nullptr when there is none.
const TargetEntry* find_target(const TargetsMetadata& targets, const std::string& id,
                               std::string_view arch, const std::vector<std::string>& languages);

// Downloads a bundle into <root>/var/cache/hotfix/<sha256>.<name>, resuming a .partial file,
// and checks its length and SHA-256 against `entry` while it streams: reading stops at the
// signed length. Returns the cached file, relative to the root. A cached file already whole
// and intact is not downloaded again. Error(kVerification) for a download that is not what
// targets signed (a different bundle), whose partial file is then removed.
std::string download_target(const InstallerContext& ctx, const SourceConfig& source,
                            const std::string& mirror, Transport& transport,
                            const TargetEntry& entry);

// Whether `rel` under the root is a regular file of the entry's length and SHA-256.
bool cached_intact(const InstallerContext& ctx, const std::string& rel, const TargetEntry& entry);

inline constexpr const char* kCacheDir = "var/cache/hotfix";

}  // namespace hotfix
