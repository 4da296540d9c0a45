#include "installer/repo_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "manifests/case_fold.h"
#include "manifests/errors.h"
#include "manifests/file_descriptor.h"
#include "manifests/json_context.h"
#include "manifests/sha256.h"

namespace hotfix {

namespace {

constexpr std::uint64_t kMaxPointedFile = 64 * 1024 * 1024;  // a snapshot or targets file

[[noreturn]] void untrusted(const std::string& where, const std::string& why) {
  throw Error(ErrorKind::kMetadata, where, why);
}

// One mirror's view of the workflow: what it fetched and what the update found.
class MirrorUpdate {
 public:
  MirrorUpdate(const TrustedRepository& trusted, std::string base, Transport& transport,
               const SyncOptions& options)
      : base_(std::move(base)), transport_(transport), options_(options) {
    result_.trusted = trusted;
    result_.mirror = base_;
  }

  MetadataUpdate run() {
    update_root();
    update_timestamp();
    update_snapshot();
    update_targets();
    return result_;
  }

 private:
  TrustedRepository& t() { return result_.trusted; }
  std::string url(const std::string& name) const { return join_url(base_, name); }

  std::optional<std::string> get(const std::string& name, std::uint64_t max,
                                 FetchResult* answer = nullptr,
                                 const FetchRequest* base = nullptr) {
    FetchRequest request = base ? *base : FetchRequest{};
    request.url = url(name);
    request.max_bytes = max;
    request.accept_compression = true;
    std::string body;
    FetchResult r =
        transport_.fetch(request, [&](const void* data, std::size_t size, bool restart) {
          if (restart) body.clear();
          body.append(static_cast<const char*>(data), size);
        });
    if (answer) *answer = r;
    if (r.status == FetchStatus::kNotFound) return std::nullopt;
    return body;
  }

  std::string require(const std::string& name, std::uint64_t max) {
    std::optional<std::string> body = get(name, max);
    if (!body) untrusted(url(name), "is missing from the repository");
    return *body;
  }

  void check_expiry(const MetadataHeader& h, const std::string& shown) {
    if (h.expires > options_.now) return;
    try {
      check_not_expired(h, options_.now, shown);
    } catch (const Error& e) {
      if (!options_.accept_expired) {
        throw Error(ErrorKind::kMetadata, e.where(),
                    e.message() +
                        ": a freeze attack or a repository nobody refreshes "
                        "(--accept-expired-metadata accepts it, for an air-gapped site)");
      }
      result_.warnings.push_back(std::string(e.what()) +
                                 "; ACCEPTED because of --accept-expired-metadata");
    }
  }

  void update_root();
  void update_timestamp();
  void update_snapshot();
  void update_targets();
  template <class M, class Parse>
  std::optional<M> fetch_described(Role role, const std::string& name, const MetaFile& meta,
                                   std::string_view above, std::string_view missing,
                                   const std::optional<M>& trusted, const SignedFile& trusted_file,
                                   Parse&& parse, SignedFile& file);

  std::string base_;
  Transport& transport_;
  const SyncOptions& options_;
  MetadataUpdate result_;
};

bool same_keys(const RootMetadata& a, const RootMetadata& b, Role role) {
  return a.role(role) == b.role(role);
}

void MirrorUpdate::update_root() {
  const RootMetadata before = t().root;
  for (std::uint64_t n = 1; n <= kMaxRootRotations; ++n) {
    std::uint64_t v = t().root.header.version + 1;
    std::string name = root_name(v);
    std::optional<std::string> bytes = get(name, kMaxRootSize);
    if (!bytes) break;
    std::string sig = require(signature_name(name), kMaxSignatureFileSize);
    std::vector<DetachedSignature> sigs = parse_signatures(sig, url(signature_name(name)));
    try {
      verify_role(t().root, Role::kRoot, *bytes, sigs, url(name));
    } catch (const Error& e) {
      untrusted(url(name),
                "broken root chain: not signed by the keys of the trusted root version " +
                    std::to_string(t().root.header.version) + " (" + e.message() + ")");
    }
    RootMetadata next = parse_root(*bytes, url(name));
    if (next.header.version != v) {
      untrusted(url(name), "says it is root version " + std::to_string(next.header.version));
    }
    verify_role(next, Role::kRoot, *bytes, sigs, url(name));
    t().root = std::move(next);
    t().root_file = {*bytes, sig};
    result_.updated.push_back("root " + std::to_string(v));
  }
  check_expiry(t().root.header, url(root_name(t().root.header.version)));
  // New timestamp or snapshot keys: what the old ones signed is no longer a floor (TUF 5.3.11,
  // recovery from a fast-forward attack).
  bool snapshot_keys = !same_keys(before, t().root, Role::kSnapshot);
  if (snapshot_keys || !same_keys(before, t().root, Role::kTimestamp)) {
    t().timestamp.reset();
    t().etag.clear();
    t().last_modified.clear();
    result_.reset_roles.push_back("timestamp");
  }
  if (snapshot_keys) {
    t().snapshot.reset();
    result_.reset_roles.push_back("snapshot");
  }
}

void MirrorUpdate::update_timestamp() {
  FetchRequest conditional;
  if (t().timestamp) {
    conditional.if_none_match = t().etag;
    conditional.if_modified_since = t().last_modified;
  }
  FetchResult answer;
  std::optional<std::string> bytes =
      get(timestamp_name(), kMaxTimestampSize, &answer, &conditional);
  std::string shown = url(timestamp_name());
  if (answer.status == FetchStatus::kNotModified && t().timestamp) {
    check_expiry(t().timestamp->header, shown);
    return;
  }
  if (!bytes) untrusted(shown, "is missing from the repository");
  std::uint64_t v = peek_version(*bytes, shown);
  std::string sig_name = timestamp_signature_name(v);
  std::string sig = require(sig_name, kMaxSignatureFileSize);
  verify_role(t().root, Role::kTimestamp, *bytes, parse_signatures(sig, url(sig_name)), shown);
  TimestampMetadata ts = parse_timestamp(*bytes, shown);
  if (const auto& old = t().timestamp) {
    if (ts.header.version < old->header.version) {
      untrusted(shown, "rollback: timestamp version " + std::to_string(ts.header.version) +
                           " is older than version " + std::to_string(old->header.version) +
                           ", trusted before");
    }
    if (ts.snapshot.version < old->snapshot.version) {
      untrusted(shown, "rollback: it names snapshot version " +
                           std::to_string(ts.snapshot.version) + ", older than version " +
                           std::to_string(old->snapshot.version) + ", trusted before");
    }
    if (ts.header.version == old->header.version) {  // nothing new: keep what is trusted
      check_expiry(old->header, shown);
      t().etag = answer.etag;
      t().last_modified = answer.last_modified;
      return;
    }
  }
  check_expiry(ts.header, shown);
  t().timestamp = ts;
  t().timestamp_file = {*bytes, sig};
  t().etag = answer.etag;
  t().last_modified = answer.last_modified;
  result_.updated.push_back("timestamp " + std::to_string(v));
}

// Whether a fetched file is the one the role above describes: mix-and-match and modified
// files are stopped here, before a signature is even looked at.
void check_described(const std::string& bytes, const MetaFile& meta, const std::string& shown,
                     std::string_view above) {
  if (bytes.size() != meta.length || to_hex(Sha256::of(bytes)) != meta.sha256) {
    untrusted(shown, "is not the file the " + std::string(above) + " signed (" +
                         std::to_string(meta.length) + " bytes, SHA-256 " +
                         meta.sha256.substr(0, 16) + "…): mix-and-match or a modified file");
  }
}

// The file `meta` describes, fetched, checked against `meta`, signed by `role` and saying
// the version `meta` names; nullopt when the trusted one (`trusted`, from `trusted_file`) is
// that file already, whose expiry is then checked. `above` names the role that described it,
// `missing` what the mirror lacks when it is not there.
template <class M, class Parse>
std::optional<M> MirrorUpdate::fetch_described(Role role, const std::string& name,
                                               const MetaFile& meta, std::string_view above,
                                               std::string_view missing,
                                               const std::optional<M>& trusted,
                                               const SignedFile& trusted_file, Parse&& parse,
                                               SignedFile& file) {
  std::string shown = url(name);
  if (trusted && trusted->header.version == meta.version &&
      to_hex(Sha256::of(trusted_file.bytes)) == meta.sha256) {
    check_expiry(trusted->header, shown);
    return std::nullopt;
  }
  std::optional<std::string> bytes = get(name, std::min(meta.length, kMaxPointedFile));
  if (!bytes) {
    untrusted(shown, "is missing: the " + std::string(above) + " names " + std::string(missing) +
                         " the mirror does not have");
  }
  check_described(*bytes, meta, shown, above);
  std::string sig = require(signature_name(name), kMaxSignatureFileSize);
  verify_role(t().root, role, *bytes, parse_signatures(sig, url(signature_name(name))), shown);
  M m = parse(*bytes, shown);
  if (m.header.version != meta.version) {
    untrusted(shown, "says " + std::string(role_name(role)) + " version " +
                         std::to_string(m.header.version) + "; the " + std::string(above) +
                         " signed version " + std::to_string(meta.version));
  }
  file = {*bytes, sig};
  return m;
}

void MirrorUpdate::update_snapshot() {
  const MetaFile& meta = t().timestamp->snapshot;
  std::string name = snapshot_name(meta.version);
  SignedFile file;
  std::optional<SnapshotMetadata> s =
      fetch_described(Role::kSnapshot, name, meta, "timestamp", "a snapshot", t().snapshot,
                      t().snapshot_file, parse_snapshot, file);
  if (!s) return;
  std::uint64_t floor = t().targets ? t().targets->header.version
                                    : (t().snapshot ? t().snapshot->targets.version : 0);
  if (s->targets.version < floor) {
    untrusted(url(name), "rollback: it names targets version " +
                             std::to_string(s->targets.version) + ", older than version " +
                             std::to_string(floor) + ", trusted before");
  }
  check_expiry(s->header, url(name));
  t().snapshot = std::move(s);
  t().snapshot_file = std::move(file);
  result_.updated.push_back("snapshot " + std::to_string(meta.version));
}

void MirrorUpdate::update_targets() {
  const MetaFile& meta = t().snapshot->targets;
  std::string name = targets_name(meta.version);
  SignedFile file;
  std::optional<TargetsMetadata> targets =
      fetch_described(Role::kTargets, name, meta, "snapshot", "targets", t().targets,
                      t().targets_file, parse_targets, file);
  if (!targets) return;
  check_expiry(targets->header, url(name));
  t().targets = std::move(targets);
  t().targets_file = std::move(file);
  result_.updated.push_back("targets " + std::to_string(meta.version));
}

}  // namespace

MetadataUpdate update_metadata(const TrustedRepository& trusted, const SourceConfig& source,
                               Transport& transport, const SyncOptions& options) {
  std::optional<Error> metadata_error, unreachable;
  for (const std::string& mirror : source.urls) {
    try {
      return MirrorUpdate(trusted, mirror, transport, options).run();
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kUnreachable) {
        unreachable = e;
      } else if (e.kind() == ErrorKind::kMetadata) {
        metadata_error = e;
      } else {
        throw;
      }
    }
  }
  if (metadata_error) throw *metadata_error;
  if (unreachable) throw *unreachable;
  throw Error(ErrorKind::kBadInput, "source " + quote(source.name), "has no URL");
}

const TargetEntry* find_target(const TargetsMetadata& targets, const std::string& id,
                               std::string_view arch, const std::vector<std::string>& languages) {
  const TargetEntry* any_language = nullptr;
  for (const TargetEntry& e : targets.targets) {
    if (!equal_fold(e.hotfix.id, id) || e.hotfix.arch != arch) continue;
    if (!e.hotfix.language) return &e;
    for (const std::string& l : languages) {
      if (equal_fold(l, *e.hotfix.language)) return &e;
    }
    if (!any_language) any_language = &e;
  }
  return languages.empty() ? any_language : nullptr;
}

namespace {

// The partial download, opened beneath the cache directory without following a link.
class PartialFile {
 public:
  PartialFile(const InstallerContext& ctx, const std::string& name)
      : shown_(ctx.root.show(std::string(kCacheDir) + "/" + name)) {
    FileDescriptor dir = ctx.root.open_dir(kCacheDir);
    fd_ = FileDescriptor(::openat(dir.get(), name.c_str(),
                                  O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644));
    if (fd_.get() < 0) throw SystemError(shown_, "open", errno);
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw SystemError(shown_, "stat", errno);
    if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::kBadInput, shown_, "is not a regular file");
    size_ = static_cast<std::uint64_t>(st.st_size);
  }

  std::uint64_t size() const { return size_; }
  // Hashes what is already there, from the start.
  void hash_existing(Sha256& hash) {
    std::vector<char> buffer(1 << 20);
    for (std::uint64_t at = 0; at < size_;) {
      ssize_t n = ::pread(fd_.get(), buffer.data(), buffer.size(), static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw SystemError(shown_, "read", n < 0 ? errno : EIO);
      hash.update(buffer.data(), static_cast<std::size_t>(n));
      at += static_cast<std::uint64_t>(n);
    }
  }
  void truncate() {
    if (::ftruncate(fd_.get(), 0) != 0) throw SystemError(shown_, "truncate", errno);
    size_ = 0;
    written_back_ = 0;
  }
  void append(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::pwrite(fd_.get(), p, n, static_cast<off_t>(size_));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw SystemError(shown_, "write", errno);
      p += w;
      n -= static_cast<std::size_t>(w);
      size_ += static_cast<std::uint64_t>(w);
    }
  }
  void sync() {
    if (::fsync(fd_.get()) != 0) throw SystemError(shown_, "fsync", errno);
  }
  // Starts writing out what arrived so far, so that the final fsync has little left to do.
  void start_writeback() {
    if (size_ - written_back_ < kWritebackStep) return;
    ::sync_file_range(fd_.get(), static_cast<off_t>(written_back_),
                      static_cast<off_t>(size_ - written_back_), SYNC_FILE_RANGE_WRITE);
    written_back_ = size_;
  }

 private:
  static constexpr std::uint64_t kWritebackStep = 8 << 20;
  std::string shown_;
  FileDescriptor fd_;
  std::uint64_t size_ = 0;
  std::uint64_t written_back_ = 0;
};

}  // namespace

bool cached_intact(const InstallerContext& ctx, const std::string& rel, const TargetEntry& e) {
  std::optional<struct stat> st = ctx.root.status(rel);
  if (!st) return false;
  if (!S_ISREG(st->st_mode) || static_cast<std::uint64_t>(st->st_size) != e.length) return false;
  FileDescriptor fd = ctx.root.open_file(rel);
  return to_hex(sha256_of_fd(fd.get(), ctx.root.show(rel))) == e.sha256;
}

std::string download_target(const InstallerContext& ctx, const SourceConfig& /*source*/,
                            const std::string& mirror, Transport& transport,
                            const TargetEntry& entry) {
  for (const char* d : {"var", "var/cache", kCacheDir}) ctx.disk->make_dir(d);
  std::string name = entry.sha256 + "." + entry.name;
  std::string rel = std::string(kCacheDir) + "/" + name;
  if (cached_intact(ctx, rel, entry)) return rel;
  if (ctx.root.status(rel)) ctx.disk->remove(rel);
  PartialFile partial(ctx, name + ".partial");
  if (partial.size() > entry.length) partial.truncate();
  Sha256 hash;
  partial.hash_existing(hash);
  FetchRequest request;
  request.url = join_url(mirror, entry.path);
  request.max_bytes = entry.length;
  request.resume_from = partial.size();
  const std::string shown = request.url;
  try {
    transport.fetch(request, [&](const void* data, std::size_t size, bool restart) {
      if (restart) {
        partial.truncate();
        hash.finish();  // drop what was hashed
      }
      if (partial.size() + size > entry.length) {
        throw Error(ErrorKind::kVerification, shown,
                    "is longer than the " + std::to_string(entry.length) +
                        " bytes targets signed: a different bundle (reading stopped there)");
      }
      hash.update(data, size);
      partial.append(data, size);
      partial.start_writeback();
    });
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kUnreachable) throw;  // the partial file is kept, to resume
    ctx.disk->remove(rel + ".partial");
    if (e.kind() == ErrorKind::kMetadata) {  // the transport's bound: longer than signed
      throw Error(ErrorKind::kVerification, shown,
                  "is longer than the " + std::to_string(entry.length) +
                      " bytes targets signed: a different bundle (reading stopped there)");
    }
    throw;
  }
  partial.sync();
  std::string got = to_hex(hash.finish());
  if (partial.size() != entry.length || got != entry.sha256) {
    ctx.disk->remove(rel + ".partial");
    throw Error(
        ErrorKind::kVerification, shown,
        "is not the bundle targets signed, a different bundle: " + std::to_string(partial.size()) +
            " bytes, SHA-256 " + got.substr(0, 16) + "…, where targets promised " +
            std::to_string(entry.length) + " bytes, SHA-256 " + entry.sha256.substr(0, 16) + "…");
  }
  ctx.disk->rename(rel + ".partial", rel);
  ctx.disk->sync_dir(kCacheDir);
  return rel;
}

}  // namespace hotfix
