#include "packager/repo_publish.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "manifests/arch.h"
#include "manifests/bundle_format.h"
#include "manifests/case_fold.h"
#include "manifests/errors.h"
#include "manifests/file_descriptor.h"
#include "manifests/file_replace.h"
#include "manifests/input_file.h"
#include "manifests/sha256.h"
#include "packager/bundle_verify.h"

namespace hotfix {

namespace {

constexpr std::uint64_t kMaxPointerSize = 64 * 1024 * 1024;  // snapshot, targets
constexpr std::uint64_t kGenerationsKept = 3;                // for clients mid-sync
constexpr std::uint64_t kMaxPublishedRoots = 1'000'000;      // a bound, never a limit in practice

std::string path_in(const std::string& dir, const std::string& name) { return dir + "/" + name; }

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string read_published(const std::string& dir, const std::string& name, std::uint64_t max) {
  return read_named_input(path_in(dir, name), max, "repository file");
}

// The repository's writer lock: one publisher at a time; readers never take it.
class PublishLock {
 public:
  explicit PublishLock(const std::string& dir) {
    std::string path = path_in(dir, ".lock");
    fd_ = FileDescriptor(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (fd_.get() < 0) throw SystemError(path, "open", errno);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        throw Error(ErrorKind::kBusy, dir, "another publisher is changing this repository");
      }
      throw SystemError(path, "flock", errno);
    }
  }

 private:
  FileDescriptor fd_;
};

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw SystemError(path, "mkdir", errno);
}

// One published file: durable under a temporary name, then renamed into place.
void publish_file(const PublishContext& ctx, const std::string& name, const std::string& bytes) {
  if (ctx.step) ctx.step(name);
  write_file_atomically(path_in(ctx.dir, name), bytes, 0644, true);
}

// The signatures of `bytes` by the keys of `role` among `keys`, meeting the role's threshold
// in `root` and, during a rotation, in the `incoming` root too: what is published before the
// new root is then valid under both, so no client is ever left unable to read.
std::string sign_role(const RootMetadata& root, Role role, const std::string& bytes,
                      const SigningKeys& keys, const RootMetadata* incoming = nullptr) {
  auto listed = [&](const RootMetadata& r, const std::string& id) {
    const std::vector<std::string>& ids = r.role(role).key_ids;
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  std::vector<const PrivateKey*> chosen;
  for (const PrivateKey& k : keys) {
    std::string id = k.public_key().fingerprint();
    if (listed(root, id) || (incoming && listed(*incoming, id))) chosen.push_back(&k);
  }
  std::vector<DetachedSignature> sigs = sign_with(bytes, chosen);
  for (const RootMetadata* r : {&root, incoming}) {
    if (!r) continue;
    std::size_t by_role = static_cast<std::size_t>(
        std::count_if(sigs.begin(), sigs.end(),
                      [&](const DetachedSignature& d) { return listed(*r, d.key_id); }));
    if (by_role >= r->role(role).threshold) continue;
    std::string named;
    for (const std::string& id : r->role(role).key_ids) {
      named += (named.empty() ? "" : ", ") + short_fingerprint(id);
    }
    throw Error(ErrorKind::kSignature, std::string(role_name(role)),
                "needs " + std::to_string(r->role(role).threshold) + " of its keys (" + named +
                    ") in root version " + std::to_string(r->header.version) + ", " +
                    std::to_string(by_role) + " given");
  }
  return serialize_signatures(sigs);
}

MetaFile describe(std::uint64_t version, const std::string& bytes) {
  return MetaFile{version, bytes.size(), to_hex(Sha256::of(bytes))};
}

// Checks `bytes` against what the role above promised of them.
void check_meta_file(const MetaFile& promised, const std::string& bytes, const std::string& shown) {
  if (bytes.size() != promised.length || to_hex(Sha256::of(bytes)) != promised.sha256) {
    throw Error(ErrorKind::kMetadata, shown,
                "is not the file of " + std::to_string(promised.length) + " bytes and SHA-256 " +
                    promised.sha256 + " that the role above signed");
  }
}

void verify_published(const PublishedState& s, Role role, const std::string& dir,
                      const std::string& name, const std::string& sig_name,
                      const std::string& bytes) {
  std::string shown = path_in(dir, name);
  std::string sig = read_published(dir, sig_name, kMaxSignatureFileSize);
  verify_role(s.root, role, bytes, parse_signatures(sig, path_in(dir, sig_name)), shown);
}

RootMetadata load_root_chain(const std::string& dir) {
  std::string bytes = read_published(dir, root_name(1), kMaxRootSize);
  RootMetadata root = parse_root(bytes, path_in(dir, root_name(1)));
  auto check = [&](const RootMetadata& signer, const std::string& b, std::uint64_t v) {
    std::string sig = read_published(dir, signature_name(root_name(v)), kMaxSignatureFileSize);
    verify_role(signer, Role::kRoot, b, parse_signatures(sig, path_in(dir, root_name(v) + ".sig")),
                path_in(dir, root_name(v)));
  };
  check(root, bytes, 1);
  // The publisher reads its whole chain (the client's walk is bounded per sync, this is not):
  // stopping early would make the next rotation overwrite a published root.
  for (std::uint64_t v = 2; v <= kMaxPublishedRoots && exists(path_in(dir, root_name(v))); ++v) {
    std::string next_bytes = read_published(dir, root_name(v), kMaxRootSize);
    RootMetadata next = parse_root(next_bytes, path_in(dir, root_name(v)));
    if (next.header.version != v) {
      throw Error(ErrorKind::kMetadata, path_in(dir, root_name(v)),
                  "says version " + std::to_string(next.header.version));
    }
    check(root, next_bytes, v);
    check(next, next_bytes, v);
    root = std::move(next);
  }
  return root;
}

}  // namespace

std::int64_t parse_period(const std::string& text, const std::string& option) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::int64_t unit = 0;
  if (digits > 0 && digits <= 9 && digits + 1 == text.size()) {
    switch (text.back()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        break;
    }
  }
  std::int64_t n = unit ? std::stoll(text.substr(0, digits)) : 0;
  if (n <= 0) {
    throw Error(ErrorKind::kBadInput, option,
                "expected a period such as 7d, 12h, 30m or 2s, found \"" + text + "\"");
  }
  return n * unit;
}

PublishedState load_published(const std::string& dir) {
  PublishedState s;
  s.root = load_root_chain(dir);
  std::string ts = read_published(dir, timestamp_name(), kMaxTimestampSize);
  std::uint64_t tv = peek_version(ts, path_in(dir, timestamp_name()));
  verify_published(s, Role::kTimestamp, dir, timestamp_name(), timestamp_signature_name(tv), ts);
  s.timestamp = parse_timestamp(ts, path_in(dir, timestamp_name()));
  std::string sn = snapshot_name(s.timestamp.snapshot.version);
  std::string snap = read_published(dir, sn, kMaxPointerSize);
  check_meta_file(s.timestamp.snapshot, snap, path_in(dir, sn));
  verify_published(s, Role::kSnapshot, dir, sn, signature_name(sn), snap);
  s.snapshot = parse_snapshot(snap, path_in(dir, sn));
  std::string tn = targets_name(s.snapshot.targets.version);
  std::string targets = read_published(dir, tn, kMaxPointerSize);
  check_meta_file(s.snapshot.targets, targets, path_in(dir, tn));
  verify_published(s, Role::kTargets, dir, tn, signature_name(tn), targets);
  s.targets = parse_targets(targets, path_in(dir, tn));
  return s;
}

namespace {

// Old generations no client can still be reading, and bundles none of the kept targets name.
void prune(const PublishContext& ctx, const PublishedState& s) {
  if (ctx.step) ctx.step("prune");
  std::set<std::string> keep;
  std::uint64_t tv = s.snapshot.targets.version;
  for (std::uint64_t v = tv; v + kGenerationsKept > tv && v >= 1; --v) {
    std::string name = targets_name(v);
    if (!exists(path_in(ctx.dir, name))) continue;
    TargetsMetadata t = v == tv ? s.targets
                                : parse_targets(read_published(ctx.dir, name, kMaxPointerSize),
                                                path_in(ctx.dir, name));
    for (const TargetEntry& e : t.targets) keep.insert(e.path);
  }
  auto old = [](const std::string& name, const std::string& suffix, std::uint64_t current) {
    if (name.size() <= suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      return false;
    }
    std::string number = name.substr(0, name.size() - suffix.size());
    if (number.empty() || number.size() > 15 ||
        !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    return std::stoull(number) + kGenerationsKept <= current;
  };
  auto each = [&](const std::string& sub, const std::function<bool(const std::string&)>& drop) {
    std::string path = path_in(ctx.dir, sub);
    DIR* d = ::opendir(path.c_str());
    if (!d) return;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
    ::closedir(d);
    for (const std::string& n : names) {
      if (n != "." && n != ".." && drop(n)) ::unlink(path_in(path, n).c_str());
    }
  };
  std::uint64_t sv = s.timestamp.snapshot.version, tsv = s.timestamp.header.version;
  auto leftover = [](const std::string& n) { return n.size() > 4 && n.ends_with(".tmp"); };
  each("metadata", [&](const std::string& n) {
    return leftover(n) || old(n, ".targets.json", tv) || old(n, ".targets.json.sig", tv) ||
           old(n, ".snapshot.json", sv) || old(n, ".snapshot.json.sig", sv) ||
           old(n, ".timestamp.json.sig", tsv);
  });
  each("targets", [&](const std::string& n) { return !keep.count("targets/" + n); });
}

// Publishes the next generation: targets (when `targets` is given), snapshot, then timestamp.
// With `incoming`, every file is signed for that root too (a rotation's new root).
PublishedState publish(const PublishContext& ctx, const PublishedState& current,
                       const std::optional<std::vector<TargetEntry>>& targets,
                       const SigningKeys& keys, const RootMetadata* incoming = nullptr) {
  PublishedState next = current;
  if (targets) {
    next.targets.header = {Role::kTargets, current.snapshot.targets.version + 1,
                           Timestamp(ctx.now.unix_seconds() + ctx.periods.targets)};
    next.targets.targets = *targets;
    std::sort(next.targets.targets.begin(), next.targets.targets.end(),
              [](const TargetEntry& a, const TargetEntry& b) { return a.name < b.name; });
  }
  std::string targets_bytes = serialize(next.targets);
  std::string targets_sig =
      targets ? sign_role(next.root, Role::kTargets, targets_bytes, keys, incoming) : "";
  next.snapshot.header = {Role::kSnapshot, current.timestamp.snapshot.version + 1,
                          Timestamp(ctx.now.unix_seconds() + ctx.periods.snapshot)};
  next.snapshot.targets = describe(next.targets.header.version, targets_bytes);
  std::string snapshot_bytes = serialize(next.snapshot);
  std::string snapshot_sig = sign_role(next.root, Role::kSnapshot, snapshot_bytes, keys, incoming);
  next.timestamp.header = {Role::kTimestamp, current.timestamp.header.version + 1,
                           Timestamp(ctx.now.unix_seconds() + ctx.periods.timestamp)};
  next.timestamp.snapshot = describe(next.snapshot.header.version, snapshot_bytes);
  std::string timestamp_bytes = serialize(next.timestamp);
  std::string timestamp_sig =
      sign_role(next.root, Role::kTimestamp, timestamp_bytes, keys, incoming);
  // Everything is signed before the first file is written: a missing key changes nothing.
  if (targets) {
    std::string name = targets_name(next.targets.header.version);
    publish_file(ctx, signature_name(name), targets_sig);
    publish_file(ctx, name, targets_bytes);
  }
  std::string sname = snapshot_name(next.snapshot.header.version);
  publish_file(ctx, signature_name(sname), snapshot_sig);
  publish_file(ctx, sname, snapshot_bytes);
  publish_file(ctx, timestamp_signature_name(next.timestamp.header.version), timestamp_sig);
  publish_file(ctx, timestamp_name(), timestamp_bytes);
  prune(ctx, next);
  return next;
}

}  // namespace

PublishedState repo_init(const PublishContext& ctx, const PrivateKey& root_key,
                         const PrivateKey& targets_key, const PrivateKey& online_key) {
  std::error_code ec;
  std::filesystem::create_directories(ctx.dir, ec);  // as mkdir -p: an error is the lock's
  if (!std::filesystem::is_directory(ctx.dir))
    throw Error(ErrorKind::kBadInput, ctx.dir, "is not a directory");
  PublishLock lock(ctx.dir);
  if (exists(path_in(ctx.dir, "metadata"))) {
    throw Error(ErrorKind::kBadInput, ctx.dir, "already holds a repository (metadata/ exists)");
  }
  PublishedState s;
  s.root.header = {Role::kRoot, 1, Timestamp(ctx.now.unix_seconds() + ctx.periods.root)};
  auto add = [&](Role role, const PrivateKey& key) {
    PublicKey pub = key.public_key();
    s.root.keys.emplace(pub.fingerprint(), pub);
    s.root.roles[role] = RoleKeys{{pub.fingerprint()}, 1};
  };
  add(Role::kRoot, root_key);
  add(Role::kTargets, targets_key);
  add(Role::kSnapshot, online_key);
  add(Role::kTimestamp, online_key);
  std::string root_bytes = serialize(s.root);
  std::string root_sig = sign_role(s.root, Role::kRoot, root_bytes, {root_key});
  // Written in a staging directory and renamed whole: an interrupted init leaves no repository.
  make_dir(path_in(ctx.dir, "targets"));
  std::string pattern = path_in(ctx.dir, ".init-XXXXXX");
  if (!::mkdtemp(pattern.data())) throw SystemError(pattern, "mkdtemp", errno);
  PublishContext staging = ctx;
  staging.dir = pattern;
  make_dir(path_in(staging.dir, "metadata"));
  publish_file(staging, signature_name(root_name(1)), root_sig);
  publish_file(staging, root_name(1), root_bytes);
  s.timestamp.header.version = 0;
  s.timestamp.snapshot.version = 0;
  s.snapshot.targets.version = 0;
  SigningKeys keys{targets_key, online_key};
  PublishedState done = publish(staging, s, std::vector<TargetEntry>{}, keys);
  if (ctx.step) ctx.step("metadata");
  if (::rename(path_in(staging.dir, "metadata").c_str(), path_in(ctx.dir, "metadata").c_str()) !=
      0) {
    throw SystemError(path_in(ctx.dir, "metadata"), "rename", errno);
  }
  sync_parent(path_in(ctx.dir, "metadata"));
  ::rmdir(staging.dir.c_str());
  return done;
}

namespace {

struct StagedBundle {
  std::string tmp;  // under targets/, durable
  std::string sha256;
  std::uint64_t length = 0;
};

// Copies `source` into targets/ under a temporary name, hashing as it goes: what is then
// verified and published is this copy, whatever happens to the source meanwhile.
StagedBundle stage_bundle(const std::string& dir, const std::string& source) {
  FileDescriptor in = open_named_input(source, O_RDONLY, "bundle");
  std::string pattern = path_in(dir, "targets/.add-XXXXXX");
  FileDescriptor out(::mkstemp(pattern.data()));
  if (out.get() < 0) throw SystemError(pattern, "mkstemp", errno);
  StagedBundle staged{pattern, "", 0};
  try {
    Sha256 hash;
    std::vector<char> buffer(1 << 20);
    for (;;) {
      ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw SystemError(source, "read", errno);
      if (n == 0) break;
      hash.update(buffer.data(), static_cast<std::size_t>(n));
      write_all(out.get(), pattern, std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      staged.length += static_cast<std::uint64_t>(n);
    }
    if (::fchmod(out.get(), 0644) != 0 || ::fsync(out.get()) != 0) {
      throw SystemError(pattern, "fsync", errno);
    }
    staged.sha256 = to_hex(hash.finish());
  } catch (...) {
    ::unlink(pattern.c_str());
    throw;
  }
  return staged;
}

TrustStore bundle_trust(const RootMetadata& root, const TrustStore& extra) {
  TrustStore trust = extra;
  for (const std::string& id : root.role(Role::kTargets).key_ids) trust.add(root.keys.at(id));
  return trust;
}

TargetEntry entry_for(const BundleVerifyReport& report, const StagedBundle& staged) {
  const Manifest& m = report.manifest;
  TargetEntry e;
  e.name = bundle_file_name(m.id, m.bundle->arch, m.bundle->language);
  e.sha256 = staged.sha256;
  e.length = staged.length;
  e.path = target_path(e.sha256, e.name);
  e.hotfix = TargetHotfix{m.id,
                          m.revision,
                          m.title,
                          std::string(arch_token(m.bundle->arch)),
                          m.bundle->language,
                          std::string(restart_token(m.restart)),
                          m.supersedes,
                          report.signer_fingerprint,
                          m.family,
                          m.prerequisites};
  return e;
}

// Verifies the staged copy and gives it its content-addressed name.
TargetEntry admit_bundle(const std::string& dir, const std::string& source,
                         const TrustStore& trust) {
  StagedBundle staged = stage_bundle(dir, source);
  try {
    BundleVerifyReport report;
    try {
      report = verify_bundle(staged.tmp, trust);
    } catch (const Error& e) {
      throw Error(e.kind(), source, e.message());  // the file given, not its staged copy
    }
    if (!report.problems.empty()) {
      throw Error(ErrorKind::kVerification, source, report.problems.front());
    }
    if (!report.manifest.bundle) throw Error(ErrorKind::kBadInput, source, "is not a bundle");
    TargetEntry e = entry_for(report, staged);
    if (::rename(staged.tmp.c_str(), path_in(dir, e.path).c_str()) != 0) {
      throw SystemError(path_in(dir, e.path), "rename", errno);
    }
    return e;
  } catch (...) {
    ::unlink(staged.tmp.c_str());
    throw;
  }
}

// Where `e` goes among `entries`: a new name, the same bytes again, or a higher revision.
bool merge_entry(std::vector<TargetEntry>& entries, const TargetEntry& e,
                 const std::string& source) {
  for (TargetEntry& old : entries) {
    if (old.name != e.name) continue;
    if (old.sha256 == e.sha256) return false;
    if (old.hotfix.revision >= e.hotfix.revision) {
      throw Error(ErrorKind::kBadInput, source,
                  e.name + " revision " + std::to_string(old.hotfix.revision) +
                      " is published; a bundle replaces it only with a higher revision (this "
                      "one is revision " +
                      std::to_string(e.hotfix.revision) + ")");
    }
    old = e;
    return true;
  }
  entries.push_back(e);
  return true;
}

}  // namespace

AddResult repo_add(const PublishContext& ctx, const std::vector<std::string>& bundles,
                   const SigningKeys& keys, const TrustStore& trust) {
  PublishLock lock(ctx.dir);
  PublishedState current = load_published(ctx.dir);
  TrustStore accepted = bundle_trust(current.root, trust);
  std::vector<TargetEntry> entries = current.targets.targets;
  std::set<std::string> names;
  AddResult result;
  for (const std::string& b : bundles) {
    TargetEntry e = admit_bundle(ctx.dir, b, accepted);
    if (!names.insert(e.name).second) {
      throw Error(ErrorKind::kBadInput, b, "is a second bundle named " + e.name + " in one add");
    }
    (merge_entry(entries, e, b) ? result.added : result.unchanged).push_back(e);
  }
  if (!result.added.empty()) publish(ctx, current, entries, keys);
  return result;
}

std::vector<TargetEntry> repo_remove(const PublishContext& ctx, const std::string& id,
                                     const SigningKeys& keys) {
  PublishLock lock(ctx.dir);
  PublishedState current = load_published(ctx.dir);
  std::vector<TargetEntry> kept, removed;
  for (const TargetEntry& e : current.targets.targets) {
    (equal_fold(e.hotfix.id, id) ? removed : kept).push_back(e);
  }
  if (removed.empty()) {
    throw Error(ErrorKind::kBadInput, id, "is not published in " + ctx.dir);
  }
  publish(ctx, current, kept, keys);
  return removed;
}

PublishedState repo_refresh(const PublishContext& ctx, const SigningKeys& keys, bool targets_too) {
  PublishLock lock(ctx.dir);
  PublishedState current = load_published(ctx.dir);
  if (targets_too) {
    std::optional<std::vector<TargetEntry>> all = current.targets.targets;
    return publish(ctx, current, all, keys);
  }
  return publish(ctx, current, std::nullopt, keys);
}

namespace {

RootMetadata rotated_root(const PublishContext& ctx, const RootMetadata& old, Role role,
                          const PublicKey& key) {
  RootMetadata next = old;
  next.header.version = old.header.version + 1;
  next.header.expires = Timestamp(ctx.now.unix_seconds() + ctx.periods.root);
  next.roles[role] = RoleKeys{{key.fingerprint()}, 1};
  next.keys.emplace(key.fingerprint(), key);
  std::set<std::string> used;
  for (const auto& r : next.roles) used.insert(r.second.key_ids.begin(), r.second.key_ids.end());
  std::erase_if(next.keys, [&](const auto& k) { return !used.count(k.first); });
  return next;
}

}  // namespace

PublishedState repo_rotate(const PublishContext& ctx, Role role, const PrivateKey& new_key,
                           const SigningKeys& keys) {
  PublishLock lock(ctx.dir);
  PublishedState current = load_published(ctx.dir);
  RootMetadata next = rotated_root(ctx, current.root, role, new_key.public_key());
  SigningKeys with_new = keys;
  with_new.push_back(new_key);
  std::string bytes = serialize(next);
  // Signed by the keys both roots trust for the root role: a client that knows only root N
  // accepts N+1, and N+1 vouches for itself.
  std::vector<const PrivateKey*> signers;
  for (const PrivateKey& k : with_new) {
    std::string id = k.public_key().fingerprint();
    auto in = [&](const RootMetadata& r) {
      const auto& ids = r.role(Role::kRoot).key_ids;
      return std::find(ids.begin(), ids.end(), id) != ids.end();
    };
    if (in(current.root) || in(next)) signers.push_back(&k);
  }
  std::vector<DetachedSignature> sigs = sign_with(bytes, signers);
  std::string name = root_name(next.header.version);
  if (exists(path_in(ctx.dir, name))) {  // a published root is never replaced
    throw Error(ErrorKind::kMetadata, path_in(ctx.dir, name),
                "already exists, but the chain read ends at root version " +
                    std::to_string(current.root.header.version));
  }
  try {
    verify_role(current.root, Role::kRoot, bytes, sigs,
                "root version " + std::to_string(current.root.header.version));
    verify_role(next, Role::kRoot, bytes, sigs,
                "root version " + std::to_string(next.header.version));
  } catch (const Error& e) {
    throw Error(ErrorKind::kSignature, path_in(ctx.dir, name),
                std::string("cannot be signed as it must be: ") + e.message() +
                    " (give the current root key with --root-key)");
  }
  // What the new key signs is published first, signed by the old and the new keys, then the
  // new root: a client finds it valid before the rotation and after.
  PublishedState done = current;
  if (role != Role::kRoot) {
    std::optional<std::vector<TargetEntry>> targets;
    if (role == Role::kTargets) targets = current.targets.targets;
    done = publish(ctx, current, targets, with_new, &next);
  }
  publish_file(ctx, signature_name(name), serialize_signatures(sigs));
  publish_file(ctx, name, bytes);
  done.root = next;
  return done;
}

}  // namespace hotfix
