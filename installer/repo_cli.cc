#include "installer/repo_cli.h"

#include <sys/stat.h>

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "installer/json_views.h"
#include "manifests/errors.h"
#include "manifests/terminal_text.h"

namespace hotfix {

namespace {

using json = nlohmann::ordered_json;

SyncRequest sync_request(const RepoOptions& r) {
  SyncRequest q;
  if (!r.source.empty()) q.source = r.source;
  q.options.now = Timestamp(static_cast<std::int64_t>(std::time(nullptr)));
  q.options.accept_expired = r.accept_expired;
  q.dry_run = r.dry_run;
  return q;
}

json config_json(const SourceConfig& c) {
  return json{{"name", c.name}, {"urls", c.urls}, {"ca_file", text_or_null(c.ca_file)}};
}

json entry_json(const TargetEntry& e) {
  return json{{"name", e.name},
              {"id", e.hotfix.id},
              {"revision", e.hotfix.revision},
              {"title", e.hotfix.title},
              {"architecture", e.hotfix.arch},
              {"language", e.hotfix.language ? json(*e.hotfix.language) : json(nullptr)},
              {"restart", e.hotfix.restart},
              {"length", e.length},
              {"sha256", e.sha256},
              {"key_id", e.hotfix.key_id}};
}

void warn_loudly(CommandOutput& out, const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) out.warn("EXPIRED METADATA: " + w);
}

}  // namespace

TransportFactory curl_transports() {
  return [](const SourceConfig& c) {
    TransportOptions options;
    options.ca_file = c.ca_file;
    return make_curl_transport(options);
  };
}

int cmd_source_add(InstallerContext& ctx, const RepoOptions& r, bool json_out, CommandOutput& out) {
  SourceConfig config{r.source, r.urls, r.ca_file};
  SourceAdded added = add_source(ctx, config, r.root_metadata);
  json keys = json::object();
  for (Role role : kRoles) keys[std::string(role_name(role))] = added.root.role(role).key_ids;
  out.data = {{"source", config_json(added.config)},
              {"root",
               {{"version", added.root.header.version},
                {"expires", added.root.header.expires.iso8601()},
                {"key_ids", keys}}}};
  if (!json_out) {
    std::cout << "source " << terminal_safe(r.source) << " added: root version "
              << added.root.header.version << " trusted, expires "
              << added.root.header.expires.iso8601() << "; run sync to read what it offers\n";
  }
  return 0;
}

int cmd_source_list(InstallerContext& ctx, const RepoOptions&, bool json_out, CommandOutput& out) {
  json list = json::array();
  for (const SourceListing& s : list_sources(ctx)) {
    json versions = json::object();
    for (const RepositoryVersion& v : s.versions) {
      versions[v.role] = {{"version", v.version},
                          {"expires", Timestamp(v.expires).iso8601()},
                          {"trusted_at", Timestamp(v.updated_at).iso8601()}};
    }
    json item = config_json(s.config);
    item["metadata"] = versions;
    list.push_back(item);
    if (!json_out) {
      std::cout << terminal_safe(s.config.name) << "  ";
      for (std::size_t i = 0; i < s.config.urls.size(); ++i) {
        std::cout << (i ? " " : "") << terminal_safe(s.config.urls[i]);
      }
      std::cout << "\n";
      for (const RepositoryVersion& v : s.versions) {
        std::cout << "  " << v.role << " version " << v.version << ", expires "
                  << Timestamp(v.expires).iso8601() << "\n";
      }
    }
  }
  out.data = {{"sources", list}};
  if (!json_out && list.empty()) std::cout << "no source configured\n";
  return 0;
}

int cmd_source_remove(InstallerContext& ctx, const RepoOptions& r, bool json_out,
                      CommandOutput& out) {
  remove_source(ctx, r.source);
  out.data = {{"source", r.source}};
  if (!json_out) std::cout << "source " << terminal_safe(r.source) << " removed\n";
  return 0;
}

namespace {

json sync_json(const SourceSync& s) {
  json offers = json::array();
  for (const Offer& o : s.offers) {
    json item = entry_json(o.entry);
    item["state"] = o.state;
    item["reason"] = text_or_null(o.reason);
    offers.push_back(item);
  }
  return json{{"source", s.source},
              {"mirror", s.update.mirror},
              {"changed", s.update.changed()},
              {"updated", s.update.updated},
              {"expires", s.expires.iso8601()},
              {"expired_metadata_accepted", !s.update.warnings.empty()},
              {"offers", offers}};
}

void print_sync(const SourceSync& s, bool dry_run) {
  std::string what = s.update.changed() ? (dry_run ? "would update" : "updated") : "nothing new";
  for (std::size_t i = 0; i < s.update.updated.size(); ++i) {
    what += (i ? ", " : " ") + s.update.updated[i];
  }
  std::cout << "source " << terminal_safe(s.source) << ": " << what << " from "
            << terminal_safe(s.update.mirror) << "; trusted until " << s.expires.iso8601()
            << (dry_run ? " (dry run: nothing stored)" : "") << "\n";
  for (const Offer& o : s.offers) {
    std::string state = o.state == "applicable"
                            ? (o.reason.empty() ? "applicable, missing" : "applicable, upgrade")
                            : o.state;
    std::cout << "  " << terminal_safe(o.entry.hotfix.id) << "  revision "
              << o.entry.hotfix.revision << "  " << o.entry.hotfix.arch << "  " << state
              << (o.reason.empty() ? "" : ": " + terminal_safe(o.reason)) << "\n";
  }
}

}  // namespace

int cmd_sync(InstallerContext& ctx, const RepoOptions& r, bool json_out, CommandOutput& out) {
  // One source that fails does not keep the others from being synced: each failure is
  // reported, and the first one's code is the exit code.
  std::vector<Error> failures;
  std::vector<SourceSync> synced = sync_sources(ctx, sync_request(r), curl_transports(), &failures);
  json list = json::array();
  for (const SourceSync& s : synced) {
    warn_loudly(out, s.update.warnings);
    list.push_back(sync_json(s));
    if (!json_out) print_sync(s, r.dry_run);
  }
  out.data = {{"sources", list}, {"dry_run", r.dry_run}};
  if (failures.size() == 1 && synced.empty()) throw failures.front();
  for (const Error& e : failures) out.error(e.kind(), e.what());
  return failures.empty() ? 0 : static_cast<int>(exit_code_for(failures.front().kind()));
}

namespace {

json fetched_json(const FetchedBundle& f) {
  json j = entry_json(f.entry);
  j["source"] = f.source;
  j["file"] = f.path;
  j["downloaded"] = f.downloaded;
  return j;
}

}  // namespace

int cmd_fetch(InstallerContext& ctx, const RepoOptions& r, bool json_out, CommandOutput& out) {
  std::vector<std::string> warnings;
  TrustStore trust = load_installer_trust(ctx, {}, &warnings);
  for (const std::string& w : warnings) out.warn(w);
  TrustStore accepted;
  std::vector<FetchedBundle> fetched =
      fetch_hotfixes(ctx, r.ids, sync_request(r), curl_transports(), trust, accepted);
  json list = json::array();
  for (const FetchedBundle& f : fetched) {
    list.push_back(fetched_json(f));
    if (!json_out) {
      std::cout << terminal_safe(f.id) << " revision " << f.entry.hotfix.revision << " ("
                << f.entry.hotfix.arch << ") from source " << terminal_safe(f.source) << ": "
                << (f.downloaded ? "downloaded to " : "already in ") << terminal_safe(f.path)
                << "\n";
    }
  }
  out.data = {{"bundles", list}};
  return 0;
}

std::vector<std::string> resolve_apply_arguments(InstallerContext& ctx,
                                                 const std::vector<std::string>& arguments,
                                                 const RepoOptions& r, TrustStore& trust,
                                                 CommandOutput& out,
                                                 std::unique_ptr<ScratchDir>& scratch) {
  std::vector<std::string> ids;
  for (const std::string& a : arguments) {
    struct stat st {};
    // A name with a '/' or the bundle extension is a file, even a missing one.
    bool file_like = a.find('/') != std::string::npos || a.ends_with(".hotfix");
    if (!file_like && ::stat(a.c_str(), &st) != 0 && errno == ENOENT) {
      ids.push_back(a);
    }
  }
  if (ids.empty()) return arguments;
  TrustStore accepted;
  SyncRequest request = sync_request(r);
  if (request.dry_run) {
    scratch = std::make_unique<ScratchDir>("dry-run");
    request.scratch_dir = scratch->path();
  }
  std::vector<FetchedBundle> fetched =
      fetch_hotfixes(ctx, ids, request, curl_transports(), trust, accepted);
  for (const PublicKey& k : accepted.keys()) {
    if (!trust.find(k.fingerprint())) trust.add(k);
  }
  std::vector<std::string> paths;
  std::size_t next = 0;
  for (const std::string& a : arguments) {
    bool is_id = next < ids.size() && a == ids[next];
    if (!is_id) {
      paths.push_back(a);
      continue;
    }
    const FetchedBundle& f = fetched[next++];
    if (!out.json()) {
      std::cout << terminal_safe(f.id) << ": revision " << f.entry.hotfix.revision
                << " from source " << terminal_safe(f.source)
                << (f.downloaded ? " (downloaded)" : " (cached)") << "\n";
    }
    paths.push_back(f.path);
  }
  return paths;
}

}  // namespace hotfix
