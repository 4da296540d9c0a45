// What a hotfix repository IS (docs/repository-format.md): TUF's four roles, root, targets,
// snapshot and timestamp, each a JSON file signed over its exact bytes by a detached
// signature file, and the names they are published under. The publisher (packager/repo_*)
// writes them, the client (installer/repo_client.h) reads and checks them; both through here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifests/prerequisite.h"
#include "manifests/signature.h"
#include "manifests/timestamp.h"

namespace hotfix {

enum class Role { kRoot, kTargets, kSnapshot, kTimestamp };
inline constexpr Role kRoles[] = {Role::kRoot, Role::kTargets, Role::kSnapshot, Role::kTimestamp};
std::string_view role_name(Role role);  // "root", "targets", "snapshot", "timestamp"
std::optional<Role> parse_role(std::string_view text);

inline constexpr std::uint64_t kMaxRootSize = 512 * 1024;
inline constexpr std::uint64_t kMaxTimestampSize = 16 * 1024;
inline constexpr std::uint64_t kMaxSignatureFileSize = 4 * 1024;
inline constexpr std::size_t kMaxSignatures = 16;
inline constexpr std::uint64_t kMaxRootRotations = 64;  // bound of the client's root walk

// Published names, relative to the repository's top.
std::string root_name(std::uint64_t version);                  // metadata/N.root.json
std::string snapshot_name(std::uint64_t version);              // metadata/N.snapshot.json
std::string targets_name(std::uint64_t version);               // metadata/N.targets.json
std::string timestamp_name();                                  // metadata/timestamp.json
std::string timestamp_signature_name(std::uint64_t version);   // metadata/N.timestamp.json.sig
std::string signature_name(const std::string& metadata_name);  // NAME.sig

struct RoleKeys {
  std::vector<std::string> key_ids;  // fingerprints (manifests/signature.h)
  std::uint64_t threshold = 1;
  friend bool operator==(const RoleKeys&, const RoleKeys&) = default;
};

// Fields every role's metadata has.
struct MetadataHeader {
  Role role = Role::kRoot;
  std::uint64_t version = 1;
  Timestamp expires;
};

struct RootMetadata {
  MetadataHeader header;
  std::map<std::string, PublicKey> keys;  // by fingerprint
  std::map<Role, RoleKeys> roles;         // all four
  const RoleKeys& role(Role r) const { return roles.at(r); }
};

// A metadata file as the next role up describes it.
struct MetaFile {
  std::uint64_t version = 0;
  std::uint64_t length = 0;
  std::string sha256;  // hex
  friend bool operator==(const MetaFile&, const MetaFile&) = default;
};

struct TimestampMetadata {
  MetadataHeader header;
  MetaFile snapshot;
};

struct SnapshotMetadata {
  MetadataHeader header;
  MetaFile targets;
};

// What the targets role promises about one bundle: its bytes, and the hotfix inside, so that
// a validly signed bundle cannot be served in another's place.
struct TargetHotfix {
  std::string id;
  std::uint64_t revision = 0;
  std::string title;
  std::string arch;                     // arch_token
  std::optional<std::string> language;  // set for one language of several
  std::string restart;                  // restart_token
  std::vector<std::string> supersedes;
  std::string key_id;  // fingerprint of the key that signed the bundle's manifest
  // What a server needs to tell whether the hotfix applies before it downloads anything.
  std::string family;  // "" for any
  Prerequisite prerequisites = Prerequisite::always();
  friend bool operator==(const TargetHotfix&, const TargetHotfix&) = default;
};

struct TargetEntry {
  std::string name;  // "KB967131-x64.hotfix"
  std::string path;  // "targets/<sha256>.KB967131-x64.hotfix", relative to the repository
  std::uint64_t length = 0;
  std::string sha256;  // hex
  TargetHotfix hotfix;
  friend bool operator==(const TargetEntry&, const TargetEntry&) = default;
};

struct TargetsMetadata {
  MetadataHeader header;
  std::vector<TargetEntry> targets;  // sorted by name
};

// The content-addressed path of a bundle: targets/<sha256>.<name>.
std::string target_path(const std::string& sha256, const std::string& name);

// Writing: the exact bytes that are signed and published (indented JSON, one trailing newline).
std::string serialize(const RootMetadata& m);
std::string serialize(const TimestampMetadata& m);
std::string serialize(const SnapshotMetadata& m);
std::string serialize(const TargetsMetadata& m);

// Reading: strict (unknown fields, a wrong type or role, a bad key are errors), bounded.
// Errors are Error(kMetadata, `shown`, "<json path>: what is wrong").
RootMetadata parse_root(std::string_view bytes, const std::string& shown);
TimestampMetadata parse_timestamp(std::string_view bytes, const std::string& shown);
SnapshotMetadata parse_snapshot(std::string_view bytes, const std::string& shown);
TargetsMetadata parse_targets(std::string_view bytes, const std::string& shown);
// The version field alone, before the signature can be checked (the timestamp's signature
// file is named after it); nothing else is believed.
std::uint64_t peek_version(std::string_view bytes, const std::string& shown);

// A detached signature file: one line per signature, "<key id> <signature>", both lower-case
// hex (64 and 128 digits), so that `openssl pkeyutl -verify` can check each one.
struct DetachedSignature {
  std::string key_id;
  std::string signature;  // 64 raw bytes
};
std::string serialize_signatures(const std::vector<DetachedSignature>& signatures);
std::vector<DetachedSignature> parse_signatures(std::string_view text, const std::string& shown);
std::vector<DetachedSignature> sign_with(std::string_view bytes,
                                         const std::vector<const PrivateKey*>& keys);

// Whether `bytes` carry valid signatures, by distinct keys of `role` as `root` lists them,
// at least the role's threshold; throws Error(kMetadata, shown, ...) saying how many valid
// signatures it found of how many needed, and naming keys it does not know.
void verify_role(const RootMetadata& root, Role role, std::string_view bytes,
                 const std::vector<DetachedSignature>& signatures, const std::string& shown);

// Throws Error(kMetadata, shown, "expired at ...") when `expires` is not after `now`.
void check_not_expired(const MetadataHeader& header, Timestamp now, const std::string& shown);

}  // namespace hotfix
