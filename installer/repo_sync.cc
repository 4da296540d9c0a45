#include "installer/repo_sync.h"

#include <algorithm>

#include "installer/applicability.h"
#include "installer/root_lock.h"
#include "installer/state_store.h"
#include "installer/target_facts.h"
#include "installer/writer_start.h"
#include "manifests/bundle_reader.h"
#include "manifests/case_fold.h"
#include "manifests/errors.h"
#include "manifests/input_file.h"
#include "manifests/json_context.h"

namespace hotfix {

namespace {

// The root's writer lock for one command, unless the command already holds it.
class WriterLock {
 public:
  explicit WriterLock(const InstallerContext& ctx) {
    make_state_dir(ctx);
    if (!ctx.held_lock) lock_.emplace(ctx.root, ctx.state_dir, ctx.lock_wait);
  }

 private:
  std::optional<RootLock> lock_;
};

HistoryEntry source_entry(const std::string& action, const std::string& source,
                          const std::string& outcome, const std::string& detail) {
  return HistoryEntry{0, unix_now(), action, "", 0, outcome, "source " + source + ": " + detail,
                      ""};
}

SignedFile read_anchor(const std::string& path) {
  SignedFile f;
  f.bytes = read_named_input(path, kMaxRootSize, "root metadata");
  f.signatures = read_named_input(path + ".sig", kMaxSignatureFileSize, "root metadata signature");
  return f;
}

}  // namespace

SourceAdded add_source(const InstallerContext& ctx, const SourceConfig& config,
                       const std::string& root_file) {
  check_source_config(config);
  if (!config.ca_file.empty()) {
    read_named_input(config.ca_file, 16 << 20, "CA file");  // there and readable, or say so now
  }
  SignedFile anchor = read_anchor(root_file);
  RootMetadata root = check_anchor(anchor, root_file);
  WriterLock lock(ctx);
  if (find_source(ctx, config.name)) {
    throw Error(ErrorKind::kBadInput, "source " + quote(config.name),
                "is already configured (source remove it first)");
  }
  StateDb db = open_state_db(ctx, StateDb::Mode::kReadWrite);
  TrustedRepository t;
  t.source = config.name;
  t.root = root;
  t.root_file = anchor;
  // The trust anchor first: a source whose configuration exists always has its root.
  store_trusted(
      ctx, db, t,
      source_entry("source add", config.name, "added",
                   "root version " + std::to_string(root.header.version) + " from " + root_file +
                       "; " + std::to_string(config.urls.size()) + " URL(s)"));
  write_source(ctx, config);
  return {config, root};
}

std::vector<SourceListing> list_sources(const InstallerContext& ctx) {
  StateDb db = open_state_db(ctx, StateDb::Mode::kReadOnly);
  std::vector<SourceListing> out;
  for (SourceConfig& c : read_sources(ctx)) {
    std::vector<RepositoryVersion> versions = db.repository_versions(c.name);
    out.push_back({std::move(c), std::move(versions)});
  }
  return out;
}

void remove_source(const InstallerContext& ctx, const std::string& name) {
  check_source_name(name);
  WriterLock lock(ctx);
  read_source(ctx, name);  // says so when it is not configured
  StateDb db = open_state_db(ctx, StateDb::Mode::kReadWrite);
  remove_source_config(ctx, name);
  forget_trusted(ctx, db, name, source_entry("source remove", name, "removed", "forgotten"));
}

namespace {

// What the root has installed, read once for every entry of a source.
struct Installed {
  std::vector<InstalledHotfix> all;
  std::optional<InstalledHotfix> find(const std::string& id) const {
    for (const InstalledHotfix& h : all) {
      if (equal_fold(h.id, id)) return h;
    }
    return std::nullopt;
  }
};

Offer classify(const TargetEntry& e, const TargetFacts& facts, const Installed& installed_all,
               const PrerequisiteContext& prerequisites) {
  Offer o{e, "applicable", ""};
  std::optional<Arch> arch = parse_arch(e.hotfix.arch);
  if (!arch) return {e, "not_applicable", "architecture " + e.hotfix.arch + " is unknown here"};
  HotfixDescription h{e.hotfix.id, e.hotfix.revision, *arch, e.hotfix.family,
                      &e.hotfix.prerequisites};
  if (auto why = platform_refusal(h, facts)) return {e, "not_applicable", *why};
  std::optional<InstalledHotfix> installed = installed_all.find(e.hotfix.id);
  if (installed && installed->revision >= e.hotfix.revision) {
    return {e, "installed", "revision " + std::to_string(installed->revision) + " is installed"};
  }
  if (auto why = install_refusal(h, installed, installed_all.all, prerequisites)) {
    bool superseded = why->rfind("superseded by", 0) == 0;
    return {e, superseded ? "superseded" : "not_applicable", *why};
  }
  if (installed) o.reason = "revision " + std::to_string(installed->revision) + " is installed";
  return o;
}

Timestamp earliest_expiry(const TrustedRepository& t) {
  Timestamp e = t.root.header.expires;
  for (const MetadataHeader* h :
       {t.timestamp ? &t.timestamp->header : nullptr, t.snapshot ? &t.snapshot->header : nullptr,
        t.targets ? &t.targets->header : nullptr}) {
    if (h && h->expires < e) e = h->expires;
  }
  return e;
}

std::string sync_detail(const MetadataUpdate& u, const SyncOptions& options) {
  std::string d = u.changed() ? "updated" : "nothing new";
  for (const std::string& s : u.updated) d += (d.back() == 'd' ? " " : ", ") + s;
  d += " from " + u.mirror;
  if (!u.warnings.empty() && options.accept_expired) d += "; EXPIRED METADATA ACCEPTED";
  return d;
}

// The versions a trusted state is made of, to tell whether another sync changed it.
std::vector<std::uint64_t> versions_of(const TrustedRepository& t) {
  return {t.root.header.version, t.timestamp ? t.timestamp->header.version : 0,
          t.snapshot ? t.snapshot->header.version : 0, t.targets ? t.targets->header.version : 0};
}

// The same from what the database records, without reading the files.
std::vector<std::uint64_t> recorded_versions(const StateDb& db, const std::string& source) {
  std::vector<std::uint64_t> v(4, 0);
  for (const RepositoryVersion& r : db.repository_versions(source)) {
    std::optional<Role> role = parse_role(r.role);
    if (role)
      v[static_cast<std::size_t>(*role == Role::kRoot        ? 0
                                 : *role == Role::kTimestamp ? 1
                                 : *role == Role::kSnapshot  ? 2
                                                             : 3)] = r.version;
  }
  return v;
}

TrustedRepository read_trusted(const InstallerContext& ctx, const std::string& source) {
  StateDb db = open_state_db(ctx, StateDb::Mode::kReadOnly);
  return load_trusted(ctx, db, source);
}

// What each bundle of the synced targets is to this root.
void classify_offers(const InstallerContext& ctx, const StateDb& db, SourceSync& s) {
  TargetFacts facts = load_target_facts(ctx.root);
  PrerequisiteContext prerequisites = root_prerequisite_context(ctx.root, db, facts);
  Installed installed{db.hotfixes(false, false)};
  for (const TargetEntry& e : s.update.trusted.targets->targets) {
    s.offers.push_back(classify(e, facts, installed, prerequisites));
  }
  s.expires = earliest_expiry(s.update.trusted);
}

// The network is read without the root's lock, which is taken only to store the result: a
// refused or unreachable source changes nothing, and a slow mirror holds up no apply. When
// another sync stored something meanwhile, the update is made again from that (twice at most).
SourceSync sync_one(const InstallerContext& ctx, const SourceConfig& config,
                    const SyncRequest& request, const TransportFactory& transports) {
  std::unique_ptr<Transport> transport = transports(config);
  TrustedRepository trusted = read_trusted(ctx, config.name);
  for (int attempt = 0;; ++attempt) {
    SourceSync s;
    s.source = config.name;
    s.update = update_metadata(trusted, config, *transport, request.options);
    if (request.dry_run) {
      classify_offers(ctx, open_state_db(ctx, StateDb::Mode::kReadOnly), s);
      return s;
    }
    WriterLock lock(ctx);
    StateDb db = open_state_db(ctx, StateDb::Mode::kReadWrite);
    if (recorded_versions(db, config.name) != versions_of(trusted) && attempt < 2) {
      trusted = load_trusted(ctx, db, config.name);
      continue;
    }
    store_trusted(ctx, db, s.update.trusted,
                  source_entry("sync", config.name, s.update.changed() ? "updated" : "unchanged",
                               sync_detail(s.update, request.options)),
                  s.update.reset_roles);
    classify_offers(ctx, db, s);
    return s;
  }
}

std::vector<SourceConfig> chosen_sources(const InstallerContext& ctx, const SyncRequest& request) {
  if (request.source) return {read_source(ctx, *request.source)};
  std::vector<SourceConfig> all = read_sources(ctx);
  if (all.empty()) {
    throw Error(ErrorKind::kBadInput, ctx.root.show(kSourcesDir),
                "no source is configured (see source add)");
  }
  return all;
}

}  // namespace

std::vector<SourceSync> sync_sources(const InstallerContext& ctx, const SyncRequest& request,
                                     const TransportFactory& transports,
                                     std::vector<Error>* failures) {
  std::vector<SourceConfig> sources = chosen_sources(ctx, request);
  std::vector<SourceSync> out;
  for (const SourceConfig& c : sources) {
    try {
      out.push_back(sync_one(ctx, c, request, transports));
    } catch (const Error& e) {
      if (!failures) throw;
      failures->push_back(e);
    }
  }
  return out;
}

namespace {

// The bundle's own manifest must say what its targets entry says.
void check_matches_entry(const BundleReader& reader, const TargetEntry& e,
                         const std::string& shown) {
  const Manifest& m = reader.manifest();
  auto differs = [&](const std::string& what, const std::string& bundle,
                     const std::string& signed_) {
    throw Error(ErrorKind::kVerification, shown,
                "is not the bundle its targets entry " + e.name + " describes: its " + what +
                    " is " + bundle + ", targets says " + signed_);
  };
  if (!equal_fold(m.id, e.hotfix.id)) differs("hotfix id", m.id, e.hotfix.id);
  if (m.revision != e.hotfix.revision) {
    differs("revision", std::to_string(m.revision), std::to_string(e.hotfix.revision));
  }
  if (!m.bundle) differs("architecture", "none", e.hotfix.arch);
  if (arch_token(m.bundle->arch) != e.hotfix.arch) {
    differs("architecture", std::string(arch_token(m.bundle->arch)), e.hotfix.arch);
  }
  if (m.bundle->language != e.hotfix.language) {
    differs("language", m.bundle->language.value_or("none"), e.hotfix.language.value_or("none"));
  }
  std::string signer = reader.signer() ? reader.signer()->fingerprint() : "";
  if (signer != e.hotfix.key_id)
    differs("signing key", short_fingerprint(signer), short_fingerprint(e.hotfix.key_id));
}

// The key the entry names, if the trusted root's targets role or the administrator trusts it.
TrustStore entry_trust(const TrustedRepository& t, const TargetEntry& e, const TrustStore& trust,
                       const std::string& shown) {
  TrustStore only;
  const auto& ids = t.root.role(Role::kTargets).key_ids;
  if (std::find(ids.begin(), ids.end(), e.hotfix.key_id) != ids.end()) {
    only.add(t.root.keys.at(e.hotfix.key_id));
  } else if (const PublicKey* k = trust.find(e.hotfix.key_id)) {
    only.add(*k);
  } else {
    throw Error(ErrorKind::kSignature, shown,
                "is signed by key " + short_fingerprint(e.hotfix.key_id) +
                    ", which neither the source's targets role nor the installer's trust store "
                    "holds: an unknown key");
  }
  return only;
}

}  // namespace

std::vector<FetchedBundle> fetch_hotfixes(const InstallerContext& ctx,
                                          const std::vector<std::string>& ids,
                                          const SyncRequest& request,
                                          const TransportFactory& transports,
                                          const TrustStore& trust, TrustStore& accepted) {
  std::vector<SourceSync> synced = sync_sources(ctx, request, transports);
  std::optional<WriterLock> lock;
  if (!request.dry_run) lock.emplace(ctx);
  TargetFacts facts = load_target_facts(ctx.root);
  std::vector<FetchedBundle> out;
  for (const std::string& id : ids) {
    const SourceSync* from = nullptr;
    const TargetEntry* entry = nullptr;
    for (const SourceSync& s : synced) {
      entry = find_target(*s.update.trusted.targets, id, arch_token(facts.architecture), {});
      if (entry) {
        from = &s;
        break;
      }
    }
    if (!entry) {
      throw Error(ErrorKind::kNotApplicable, id,
                  "no source offers it for " + std::string(arch_display(facts.architecture)) +
                      " (sync lists what each source offers)");
    }
    SourceConfig config = read_source(ctx, from->source);
    std::unique_ptr<Transport> transport = transports(config);
    std::string cache_file = std::string(kCacheDir) + "/" + entry->sha256 + "." + entry->name;
    bool cached = ctx.root.status(cache_file).has_value();
    // A dry run reads the root's cache but downloads only into its scratch directory.
    std::optional<InstallerContext> scratch;
    if (request.dry_run && !cached_intact(ctx, cache_file, *entry)) {
      cached = false;
      scratch.emplace(request.scratch_dir);
    }
    const InstallerContext& store = scratch ? *scratch : ctx;
    std::string rel = download_target(store, config, from->update.mirror, *transport, *entry);
    std::string path = store.root.show(rel);
    TrustStore key;
    try {
      key = entry_trust(from->update.trusted, *entry, trust, path);
      BundleReader reader = BundleReader::open_verified(path, key);
      check_matches_entry(reader, *entry, path);
    } catch (const Error&) {
      // What targets signed, but not a bundle this root may use (a dry run keeps the cache).
      if (!request.dry_run || scratch) store.disk->remove(rel);
      throw;
    }
    for (const PublicKey& k : key.keys()) {
      if (!accepted.find(k.fingerprint())) accepted.add(k);
    }
    out.push_back({id, from->source, *entry, path, rel, !cached});
  }
  return out;
}

}  // namespace hotfix
