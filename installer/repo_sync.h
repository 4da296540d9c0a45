// What the repository commands of hotfix-installer do, as a library: add, list and remove
// sources; sync (the TUF workflow, then what each source offers this root); and resolve
// hotfix ids to verified bundles in the cache for fetch and apply (docs/installer.md,
// "Repositories").
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "installer/installer.h"
#include "installer/repo_client.h"
#include "installer/source_config.h"
#include "installer/transport.h"

namespace hotfix {

// How the commands reach a source: tests and the CLI give the real transport.
using TransportFactory = std::function<std::unique_ptr<Transport>(const SourceConfig&)>;

struct SourceAdded {
  SourceConfig config;
  RootMetadata root;
};

// Configures a source and trusts `root_file` (with `root_file`.sig beside it) as its first
// root: no trust on first use. Refuses a name already configured.
SourceAdded add_source(const InstallerContext& ctx, const SourceConfig& config,
                       const std::string& root_file);

struct SourceListing {
  SourceConfig config;
  std::vector<RepositoryVersion> versions;
};
std::vector<SourceListing> list_sources(const InstallerContext& ctx);

void remove_source(const InstallerContext& ctx, const std::string& name);

// What a source offers this root, one row per bundle in its targets.
struct Offer {
  TargetEntry entry;
  // "applicable" (missing, or a higher revision than installed), "installed" (this revision
  // or a higher one), "superseded" (by an installed hotfix), "not_applicable".
  std::string state;
  std::string reason;  // why not applicable, what supersedes it, what is installed
};

struct SourceSync {
  std::string source;
  MetadataUpdate update;
  std::vector<Offer> offers;
  Timestamp expires;  // the earliest expiry of the trusted metadata
};

struct SyncRequest {
  std::optional<std::string> source;  // all sources when empty
  SyncOptions options;
  // A dry run: the metadata is fetched and checked as ever, but nothing is stored, locked or
  // recorded; a bundle the cache lacks is downloaded into `scratch_dir`, outside the root.
  bool dry_run = false;
  std::string scratch_dir;
};

// Syncs each source and records each in the history (a dry run: neither). Without `failures`, the first source
// that fails ends the command with its error (those synced before it stay synced); with it,
// each failing source's error goes there and the others are synced all the same.
std::vector<SourceSync> sync_sources(const InstallerContext& ctx, const SyncRequest& request,
                                     const TransportFactory& transports,
                                     std::vector<Error>* failures = nullptr);

// A hotfix id resolved to a bundle in <root>/var/cache/hotfix/: downloaded (or found there
// intact) and checked against its targets entry.
struct FetchedBundle {
  std::string id;
  std::string source;
  TargetEntry entry;
  std::string path;        // as the installer opens it (the root's path and the cache file)
  std::string cache_file;  // relative to the root
  bool downloaded = false;
};

// Syncs, then downloads the bundle each id names for this root's architecture. The bundle's
// own signature is checked, by the key its targets entry names, which the trusted root's
// targets role or the installer's trust store must hold, and its manifest must say what the
// entry says (id, revision, architecture, language, key): a validly signed bundle cannot
// stand in for another. Error(kNotApplicable, id) when no source offers the id here.
std::vector<FetchedBundle> fetch_hotfixes(const InstallerContext& ctx,
                                          const std::vector<std::string>& ids,
                                          const SyncRequest& request,
                                          const TransportFactory& transports,
                                          const TrustStore& trust, TrustStore& accepted);

}  // namespace hotfix
