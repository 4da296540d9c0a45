// The repository commands of hotfix-installer: source add|list|remove, sync and fetch, and
// the ids that apply takes in place of bundle files. installer/cli.cc declares their options
// and calls these; each prints a table, or sets the JSON envelope's data.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "installer/installer.h"
#include "installer/repo_sync.h"
#include "manifests/cli_shell.h"
#include "manifests/scratch_dir.h"

namespace hotfix {

struct RepoOptions {
  std::string source;  // NAME: source add/remove; sync, fetch, apply --source
  std::vector<std::string> urls;
  std::string root_metadata;
  std::string ca_file;
  bool accept_expired = false;
  std::vector<std::string> ids;  // fetch
  // sync --dry-run, apply --dry-run: metadata checked, nothing stored; downloads go to a
  // scratch directory outside the root (manifests/scratch_dir.h).
  bool dry_run = false;
};

// The real transports: libcurl, with the source's CA file.
TransportFactory curl_transports();

int cmd_source_add(InstallerContext& ctx, const RepoOptions& r, bool json, CommandOutput& out);
int cmd_source_list(InstallerContext& ctx, const RepoOptions& r, bool json, CommandOutput& out);
int cmd_source_remove(InstallerContext& ctx, const RepoOptions& r, bool json, CommandOutput& out);
int cmd_sync(InstallerContext& ctx, const RepoOptions& r, bool json, CommandOutput& out);
int cmd_fetch(InstallerContext& ctx, const RepoOptions& r, bool json, CommandOutput& out);

// apply's arguments: a file is a bundle; anything else is a hotfix id, fetched from the
// sources (synced first) into the cache. The bundle paths, in the order given; `trust` gains
// the keys the sources vouch for. A dry run downloads into `scratch` (made when needed),
// which must outlive the use of the paths.
std::vector<std::string> resolve_apply_arguments(InstallerContext& ctx,
                                                 const std::vector<std::string>& arguments,
                                                 const RepoOptions& r, TrustStore& trust,
                                                 CommandOutput& out,
                                                 std::unique_ptr<ScratchDir>& scratch);

}  // namespace hotfix
