#include "installer/repo_trust.h"

#include <algorithm>
#include <set>

#include "installer/atomic_write.h"
#include "installer/writer_start.h"
#include "manifests/errors.h"
#include "manifests/json_context.h"
#include "manifests/sha256.h"

namespace hotfix {

namespace {

constexpr std::uint64_t kMaxTrustedFile = 64 * 1024 * 1024;
constexpr std::uint64_t kMaxValidators = 1024;

std::string source_dir(const InstallerContext& ctx, const std::string& source) {
  return ctx.state_file("sources/" + source);
}

std::string file_name(std::string_view role, std::uint64_t version) {
  return std::string(role) + "." + std::to_string(version) + ".json";
}

// A validator is sent back as a request header: one short line of printable characters.
bool header_safe(const std::string& v) {
  return v.size() <= 256 && std::all_of(v.begin(), v.end(), [](char c) {
           return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
         });
}

struct Loaded {
  SignedFile file;
  std::string shown;
};

Loaded load_file(const InstallerContext& ctx, const std::string& source,
                 const RepositoryVersion& v) {
  std::string rel = source_dir(ctx, source) + "/" + file_name(v.role, v.version);
  Loaded l{{}, ctx.root.show(rel)};
  try {
    l.file.bytes = ctx.root.read_file(rel, kMaxTrustedFile);
    l.file.signatures = ctx.root.read_file(rel + ".sig", kMaxSignatureFileSize);
  } catch (const Error& e) {
    throw Error(
        ErrorKind::kStateDamaged, l.shown,
        "state damaged: the trusted " + v.role + " metadata is unreadable (" + e.what() + ")");
  }
  if (to_hex(Sha256::of(l.file.bytes)) != v.sha256) {
    throw Error(ErrorKind::kStateDamaged, l.shown,
                "state damaged: not the " + v.role + " metadata version " +
                    std::to_string(v.version) + " the state database recorded");
  }
  return l;
}

// Verified again: the record says which file, the signatures that it is what was trusted.
template <class Parse>
auto reverify(const TrustedRepository& t, Role role, const Loaded& l, Parse&& parse) {
  try {
    verify_role(t.root, role, l.file.bytes, parse_signatures(l.file.signatures, l.shown + ".sig"),
                l.shown);
    return parse(l.file.bytes, l.shown);
  } catch (const Error& e) {
    throw Error(ErrorKind::kStateDamaged, l.shown, std::string("state damaged: ") + e.message());
  }
}

void load_validators(const InstallerContext& ctx, TrustedRepository& t) {
  std::string rel = source_dir(ctx, t.source) + "/timestamp." +
                    std::to_string(t.timestamp->header.version) + ".http";
  if (!ctx.root.status(rel)) return;
  std::string text = ctx.root.read_file(rel, kMaxValidators);
  std::size_t nl = text.find('\n');
  std::string etag = text.substr(0, nl);
  std::string modified = nl == std::string::npos ? "" : text.substr(nl + 1);
  if (!modified.empty() && modified.back() == '\n') modified.pop_back();
  if (header_safe(etag) && header_safe(modified)) {
    t.etag = etag;
    t.last_modified = modified;
  }
}

}  // namespace

RootMetadata check_anchor(const SignedFile& file, const std::string& shown) {
  RootMetadata root = parse_root(file.bytes, shown);
  verify_role(root, Role::kRoot, file.bytes, parse_signatures(file.signatures, shown + ".sig"),
              shown);
  return root;
}

TrustedRepository load_trusted(const InstallerContext& ctx, const StateDb& db,
                               const std::string& source) {
  TrustedRepository t;
  t.source = source;
  std::map<std::string, RepositoryVersion> versions;
  for (const RepositoryVersion& v : db.repository_versions(source)) versions[v.role] = v;
  if (!versions.count("root")) {
    throw Error(ErrorKind::kStateDamaged, "source " + quote(source),
                "state damaged: no trusted root is recorded (remove the source and add it again "
                "with its root metadata)");
  }
  Loaded root = load_file(ctx, source, versions["root"]);
  try {
    t.root = check_anchor(root.file, root.shown);
  } catch (const Error& e) {
    throw Error(ErrorKind::kStateDamaged, root.shown, std::string("state damaged: ") + e.message());
  }
  t.root_file = root.file;
  if (versions.count("timestamp")) {
    Loaded l = load_file(ctx, source, versions["timestamp"]);
    t.timestamp = reverify(t, Role::kTimestamp, l, parse_timestamp);
    t.timestamp_file = l.file;
    load_validators(ctx, t);
  }
  if (versions.count("snapshot")) {
    Loaded l = load_file(ctx, source, versions["snapshot"]);
    t.snapshot = reverify(t, Role::kSnapshot, l, parse_snapshot);
    t.snapshot_file = l.file;
  }
  if (versions.count("targets")) {
    Loaded l = load_file(ctx, source, versions["targets"]);
    t.targets = reverify(t, Role::kTargets, l, parse_targets);
    t.targets_file = l.file;
  }
  return t;
}

namespace {

struct Stored {
  std::string role;
  const MetadataHeader* header;
  const SignedFile* file;
};

std::vector<Stored> stored_files(const TrustedRepository& t) {
  std::vector<Stored> out{{"root", &t.root.header, &t.root_file}};
  if (t.timestamp) out.push_back({"timestamp", &t.timestamp->header, &t.timestamp_file});
  if (t.snapshot) out.push_back({"snapshot", &t.snapshot->header, &t.snapshot_file});
  if (t.targets) out.push_back({"targets", &t.targets->header, &t.targets_file});
  return out;
}

void write_if_changed(const InstallerContext& ctx, const std::string& rel,
                      const std::string& bytes) {
  if (ctx.root.status(rel)) {
    try {
      if (ctx.root.read_file(rel, kMaxTrustedFile) == bytes) return;
    } catch (const Error&) {
      // Not readable as a file: replaced below, or the write names the problem.
    }
  }
  write_atomically(*ctx.disk, rel, bytes, 0644);
}

void prune(const InstallerContext& ctx, const std::string& dir, const std::set<std::string>& keep) {
  for (const std::string& name : ctx.root.list_dir(dir)) {
    if (!keep.count(name)) ctx.disk->remove(dir + "/" + name);
  }
  ctx.disk->sync_dir(dir);
}

}  // namespace

void store_trusted(const InstallerContext& ctx, StateDb& db, const TrustedRepository& now,
                   const HistoryEntry& entry, const std::vector<std::string>& reset_roles) {
  make_state_dir(ctx);
  std::string dir = source_dir(ctx, now.source);
  ctx.disk->make_dir(ctx.state_file("sources"));
  ctx.disk->make_dir(dir);
  std::set<std::string> keep;
  std::vector<RepositoryVersion> versions;
  for (const Stored& s : stored_files(now)) {
    std::string name = file_name(s.role, s.header->version);
    write_if_changed(ctx, dir + "/" + name + ".sig", s.file->signatures);
    write_if_changed(ctx, dir + "/" + name, s.file->bytes);
    keep.insert(name);
    keep.insert(name + ".sig");
    versions.push_back({s.role, s.header->version, s.header->expires.unix_seconds(),
                        to_hex(Sha256::of(s.file->bytes)), entry.at});
  }
  if (now.timestamp && header_safe(now.etag) && header_safe(now.last_modified) &&
      !(now.etag.empty() && now.last_modified.empty())) {
    std::string name = "timestamp." + std::to_string(now.timestamp->header.version) + ".http";
    write_if_changed(ctx, dir + "/" + name, now.etag + "\n" + now.last_modified + "\n");
    keep.insert(name);
  }
  db.record_sync(now.source, versions, entry, reset_roles);
  prune(ctx, dir, keep);
}

void forget_trusted(const InstallerContext& ctx, StateDb& db, const std::string& source,
                    const HistoryEntry& entry) {
  db.forget_source(source, entry);
  std::string dir = source_dir(ctx, source);
  if (!ctx.root.open_dir_if_exists(dir)) return;
  prune(ctx, dir, {});
  ctx.disk->remove_dir(dir);
  ctx.disk->sync_dir(ctx.state_file("sources"));
}

}  // namespace hotfix
