// What the installer trusts of each repository source: the newest root it verified (starting
// from the one the administrator handed over), and the timestamp, snapshot and targets it
// accepted since. Kept under the state directory as <state>/sources/NAME/<role>.<version>.json
// with its .sig, and recorded with its SHA-256 in the state database, whose versions never go
// down; every file is checked against that record (and its signatures again) before use.
#pragma once

#include <optional>
#include <string>

#include "installer/installer.h"
#include "installer/state_db.h"
#include "manifests/repo_metadata.h"

namespace hotfix {

// One role's file as it was verified: its exact bytes and its signature file.
struct SignedFile {
  std::string bytes;
  std::string signatures;
};

struct TrustedRepository {
  std::string source;
  RootMetadata root;
  SignedFile root_file;
  std::optional<TimestampMetadata> timestamp;
  SignedFile timestamp_file;
  std::optional<SnapshotMetadata> snapshot;
  SignedFile snapshot_file;
  std::optional<TargetsMetadata> targets;
  SignedFile targets_file;
  // The validators of the timestamp's last answer, for a conditional request.
  std::string etag, last_modified;
};

// A root metadata file and its signature as the administrator handed them over: it must be
// signed by its own root keys, to their threshold. Error(kMetadata, shown) otherwise.
RootMetadata check_anchor(const SignedFile& file, const std::string& shown);

// What is trusted for `source` (nothing but the root after `source add`). Error(kStateDamaged)
// when a file is missing or not the one recorded.
TrustedRepository load_trusted(const InstallerContext& ctx, const StateDb& db,
                               const std::string& source);

// Stores `now` over `before`: the files that changed first, durably, then the versions with
// the history row in one database transaction (which refuses a version that went down), then
// the files no longer needed are removed. A crash anywhere leaves `before` or `now` trusted.
// `reset_roles` are recorded anew whatever version they had (a key rotation's recovery).
void store_trusted(const InstallerContext& ctx, StateDb& db, const TrustedRepository& now,
                   const HistoryEntry& entry, const std::vector<std::string>& reset_roles = {});

// Removes everything trusted of `source`, with its history row.
void forget_trusted(const InstallerContext& ctx, StateDb& db, const std::string& source,
                    const HistoryEntry& entry);

}  // namespace hotfix
