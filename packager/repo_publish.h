// Publishing a hotfix repository (docs/repository-format.md): a directory any web server or
// USB stick can serve. Every change writes new, versioned files first and the timestamp
// last, each durable before it is renamed into place, so that a client reading at any moment
// finds the old repository or the new one whole.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "manifests/repo_metadata.h"
#include "manifests/signature.h"
#include "manifests/trust_store.h"

namespace hotfix {

// How long each role's metadata stays valid after it is signed, in seconds.
struct ExpiryPeriods {
  std::int64_t root = 365 * 86400;
  std::int64_t targets = 90 * 86400;
  std::int64_t snapshot = 7 * 86400;
  std::int64_t timestamp = 7 * 86400;
};

// "7d", "12h", "30m", "2s", "1w": a period for an --*-expiry option; Error(kBadInput, option).
std::int64_t parse_period(const std::string& text, const std::string& option);

// The repository as published, checked against its own newest root.
struct PublishedState {
  RootMetadata root;
  TimestampMetadata timestamp;
  SnapshotMetadata snapshot;
  TargetsMetadata targets;
};

// Called with the name of each file just before it is renamed into place (and "prune"
// before old files are removed): the seam where tests stop a publish at every step.
using PublishStep = std::function<void(const std::string& step)>;

struct PublishContext {
  std::string dir;
  ExpiryPeriods periods;
  Timestamp now;
  PublishStep step;  // may be empty
};

// Every command takes the private keys it was given in one list; each metadata file is
// signed by those of them its role lists in the root, and a file that would fall short of its
// role's threshold is refused (Error kSignature) before anything is written.
using SigningKeys = std::vector<PrivateKey>;

// Writes a new repository: 1.root.json naming the three keys (root; targets; the online key
// for snapshot and timestamp), an empty targets, snapshot and timestamp. Refuses a directory
// that already holds metadata.
PublishedState repo_init(const PublishContext& ctx, const PrivateKey& root_key,
                         const PrivateKey& targets_key, const PrivateKey& online_key);

// Reads and checks what `dir` publishes (the root chain from 1, each signature, each hash).
PublishedState load_published(const std::string& dir);

struct AddResult {
  std::vector<TargetEntry> added;      // new or replacing an older revision
  std::vector<TargetEntry> unchanged;  // already published, the same bytes
};

// Verifies each bundle (signature by a key of the targets role or of `trust`, every payload)
// and publishes it; a bundle of a revision not above the published one of the same name is
// refused, unless it is the same bytes.
AddResult repo_add(const PublishContext& ctx, const std::vector<std::string>& bundles,
                   const SigningKeys& keys, const TrustStore& trust);

// Stops publishing every bundle of hotfix `id`; returns the entries removed.
std::vector<TargetEntry> repo_remove(const PublishContext& ctx, const std::string& id,
                                     const SigningKeys& keys);

// Signs snapshot and timestamp anew with fresh expiry (the daily job), and targets too when
// `targets_too` (then `keys` must hold the targets key, else Error kSignature).
PublishedState repo_refresh(const PublishContext& ctx, const SigningKeys& keys,
                            bool targets_too = false);

// Writes root N+1 in which `role` has `new_key` in place of its keys, signed by the root keys
// of root N and of root N+1 among `keys` (with new_key among them for the root role); then
// signs again, with `keys`, the roles below that the change touches.
PublishedState repo_rotate(const PublishContext& ctx, Role role, const PrivateKey& new_key,
                           const SigningKeys& keys);

}  // namespace hotfix
