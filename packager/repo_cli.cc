#include "packager/repo_cli.h"

#include <ctime>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "manifests/errors.h"
#include "manifests/signature.h"
#include "manifests/terminal_text.h"
#include "packager/kb_table.h"
#include "packager/repo_publish.h"

namespace hotfix {

namespace {

using json = nlohmann::ordered_json;

struct RepoOptions {
  bool json = false;
  std::string dir;
  std::string root_key, targets_key, new_key;
  std::vector<std::string> online_keys;
  std::vector<std::string> bundles;
  std::vector<std::string> trust;
  std::string id;
  std::string role;
  std::string root_expiry = "365d", targets_expiry = "90d", snapshot_expiry = "7d",
              timestamp_expiry = "7d";
};

PublishContext context(const RepoOptions& o) {
  PublishContext ctx;
  ctx.dir = o.dir;
  ctx.now = Timestamp(static_cast<std::int64_t>(std::time(nullptr)));
  ctx.periods.root = parse_period(o.root_expiry, "--root-expiry");
  ctx.periods.targets = parse_period(o.targets_expiry, "--targets-expiry");
  ctx.periods.snapshot = parse_period(o.snapshot_expiry, "--snapshot-expiry");
  ctx.periods.timestamp = parse_period(o.timestamp_expiry, "--timestamp-expiry");
  return ctx;
}

SigningKeys signing_keys(const RepoOptions& o) {
  SigningKeys keys;
  for (const std::string* p : {&o.root_key, &o.targets_key}) {
    if (!p->empty()) keys.push_back(PrivateKey::load_pem_file(*p));
  }
  for (const std::string& p : o.online_keys) keys.push_back(PrivateKey::load_pem_file(p));
  return keys;
}

json entry_json(const TargetEntry& e) {
  const TargetHotfix& h = e.hotfix;
  return json{{"name", e.name},
              {"path", e.path},
              {"length", e.length},
              {"sha256", e.sha256},
              {"id", h.id},
              {"revision", h.revision},
              {"title", h.title},
              {"architecture", h.arch},
              {"language", h.language ? json(*h.language) : json(nullptr)},
              {"restart", h.restart},
              {"supersedes", h.supersedes},
              {"key_id", h.key_id}};
}

json entries_json(const std::vector<TargetEntry>& entries) {
  json list = json::array();
  for (const TargetEntry& e : entries) list.push_back(entry_json(e));
  return list;
}

json role_json(const PublishedState& s, Role r, const MetadataHeader& h) {
  return json{{"version", h.version},
              {"expires", h.expires.iso8601()},
              {"key_ids", s.root.role(r).key_ids},
              {"threshold", s.root.role(r).threshold}};
}

json state_json(const RepoOptions& o, const PublishedState& s) {
  return json{{"dir", o.dir},
              {"roles",
               {{"root", role_json(s, Role::kRoot, s.root.header)},
                {"targets", role_json(s, Role::kTargets, s.targets.header)},
                {"snapshot", role_json(s, Role::kSnapshot, s.snapshot.header)},
                {"timestamp", role_json(s, Role::kTimestamp, s.timestamp.header)}}},
              {"bundles", entries_json(s.targets.targets)}};
}

void print_roles(const PublishedState& s) {
  std::cout << std::left << std::setw(10) << "role" << std::setw(9) << "version" << std::setw(22)
            << "expires"
            << "keys\n";
  auto row = [&](Role r, const MetadataHeader& h) {
    std::string keys;
    for (const std::string& id : s.root.role(r).key_ids) {
      keys += (keys.empty() ? "" : ", ") + short_fingerprint(id);
    }
    std::cout << std::setw(10) << role_name(r) << std::setw(9) << h.version << std::setw(22)
              << h.expires.iso8601() << keys << " (threshold " << s.root.role(r).threshold << ")\n";
  };
  row(Role::kRoot, s.root.header);
  row(Role::kTargets, s.targets.header);
  row(Role::kSnapshot, s.snapshot.header);
  row(Role::kTimestamp, s.timestamp.header);
}

void print_entries(const std::string& heading, const std::vector<TargetEntry>& entries) {
  for (const TargetEntry& e : entries) {
    std::cout << heading << " " << terminal_safe(e.name) << " (" << terminal_safe(e.hotfix.id)
              << " revision " << e.hotfix.revision << ", " << format_thousands(e.length)
              << " bytes, sha256 " << e.sha256.substr(0, 16) << ")\n";
  }
}

int cmd_init(const RepoOptions& o, CommandOutput& out) {
  if (o.online_keys.size() != 1) {
    throw Error(ErrorKind::kBadInput, "--online-key",
                "a new repository has one online key for snapshot and timestamp (rotate either "
                "role to a key of its own later)");
  }
  PrivateKey root = PrivateKey::load_pem_file(o.root_key);
  PrivateKey targets = PrivateKey::load_pem_file(o.targets_key);
  PrivateKey online = PrivateKey::load_pem_file(o.online_keys.front());
  PublishedState s = repo_init(context(o), root, targets, online);
  out.data = state_json(o, s);
  if (!o.json) {
    std::cout << "repository " << terminal_safe(o.dir) << " created: metadata/1.root.json\n";
    print_roles(s);
  }
  return 0;
}

int cmd_add(const RepoOptions& o, CommandOutput& out) {
  TrustStore trust;
  for (const std::string& p : o.trust) trust.add_path(p);
  AddResult r = repo_add(context(o), o.bundles, signing_keys(o), trust);
  PublishedState s = load_published(o.dir);
  out.data = state_json(o, s);
  out.data["added"] = entries_json(r.added);
  out.data["unchanged"] = entries_json(r.unchanged);
  if (!o.json) {
    print_entries("published", r.added);
    print_entries("already published", r.unchanged);
    if (!r.added.empty()) std::cout << "targets version " << s.targets.header.version << "\n";
  }
  return 0;
}

int cmd_remove(const RepoOptions& o, CommandOutput& out) {
  std::vector<TargetEntry> removed = repo_remove(context(o), o.id, signing_keys(o));
  out.data = state_json(o, load_published(o.dir));
  out.data["removed"] = entries_json(removed);
  if (!o.json) print_entries("withdrawn", removed);
  return 0;
}

int cmd_refresh(const RepoOptions& o, CommandOutput& out) {
  PublishedState s = repo_refresh(context(o), signing_keys(o), !o.targets_key.empty());
  out.data = state_json(o, s);
  if (!o.json) print_roles(s);
  return 0;
}

int cmd_rotate(const RepoOptions& o, CommandOutput& out) {
  std::optional<Role> role = parse_role(o.role);
  if (!role) {
    throw Error(ErrorKind::kBadInput, "--role",
                "expected root, targets, snapshot or timestamp, found \"" + o.role + "\"");
  }
  PrivateKey key = PrivateKey::load_pem_file(o.new_key);
  PublishedState s = repo_rotate(context(o), *role, key, signing_keys(o));
  out.data = state_json(o, s);
  out.data["rotated"] = {{"role", o.role}, {"key_id", key.public_key().fingerprint()}};
  if (!o.json) {
    std::cout << "root version " << s.root.header.version << ": the " << o.role
              << " role is signed by " << short_fingerprint(key.public_key().fingerprint()) << "\n";
  }
  return 0;
}

int cmd_status(const RepoOptions& o, CommandOutput& out) {
  PublishedState s = load_published(o.dir);
  out.data = state_json(o, s);
  if (o.json) return 0;
  std::cout << "repository " << terminal_safe(o.dir) << "\n";
  print_roles(s);
  std::cout << s.targets.targets.size() << " bundle(s)\n";
  for (const TargetEntry& e : s.targets.targets) {
    std::cout << "  " << std::left << std::setw(28) << terminal_safe(e.name) << std::setw(12)
              << terminal_safe(e.hotfix.id) << " revision " << e.hotfix.revision << "  "
              << format_thousands(e.length) << " bytes\n";
  }
  return 0;
}

}  // namespace

struct RepoCli::Impl {
  RepoOptions o;
  CLI::App *init = nullptr, *add = nullptr, *remove = nullptr, *refresh = nullptr,
           *rotate = nullptr, *status = nullptr;
};

namespace {

CLI::App* dir_command(CLI::App* group, RepoOptions& o, const char* name, const char* what) {
  CLI::App* c = group->add_subcommand(name, what);
  c->add_option("DIR", o.dir, "The repository's directory (what the web server serves)")
      ->required()
      ->type_name("DIR");
  c->add_flag("--json", o.json, "Machine-readable output");
  return c;
}

void expiry_options(CLI::App* c, RepoOptions& o, bool root) {
  if (root)
    c->add_option("--root-expiry", o.root_expiry, "How long root stays valid (7d, 12h, 30m, 2s)");
  c->add_option("--targets-expiry", o.targets_expiry, "How long targets stays valid");
  c->add_option("--snapshot-expiry", o.snapshot_expiry, "How long snapshot stays valid");
  c->add_option("--timestamp-expiry", o.timestamp_expiry, "How long timestamp stays valid");
}

void key_option(CLI::App* c, std::string& into, const char* name, const char* what, bool required) {
  auto* opt = c->add_option(name, into, what)->type_name("FILE");
  if (required) opt->required();
}

void online_option(CLI::App* c, RepoOptions& o, bool required) {
  auto* opt = c->add_option("--online-key", o.online_keys,
                            "The snapshot and timestamp key (Ed25519 PEM); repeat for several")
                  ->type_name("FILE")
                  ->expected(1)
                  ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                  ->allow_extra_args(false);
  if (required) opt->required();
}

}  // namespace

RepoCli::RepoCli(CLI::App& app) : impl_(std::make_unique<Impl>()) {
  RepoOptions& o = impl_->o;
  CLI::App* group = app.add_subcommand("repo", "Publish bundles to a signed repository");
  group->require_subcommand(1);
  impl_->init = dir_command(group, o, "init", "Make a new repository signed by three keys");
  key_option(impl_->init, o.root_key, "--root-key", "The root key (kept offline)", true);
  key_option(impl_->init, o.targets_key, "--targets-key", "The release key that signs targets",
             true);
  online_option(impl_->init, o, true);
  expiry_options(impl_->init, o, true);

  impl_->add = dir_command(group, o, "add", "Verify bundles and publish them");
  impl_->add->add_option("BUNDLE", o.bundles, "Bundle files")->required()->type_name("BUNDLE");
  key_option(impl_->add, o.targets_key, "--targets-key", "The targets key", true);
  online_option(impl_->add, o, true);
  impl_->add->add_option("--trust", o.trust, "Also accept bundles signed by these public keys")
      ->type_name("PATH")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  expiry_options(impl_->add, o, false);

  impl_->remove = dir_command(group, o, "remove", "Stop publishing a hotfix's bundles");
  impl_->remove->add_option("ID", o.id, "Hotfix id")->required();
  key_option(impl_->remove, o.targets_key, "--targets-key", "The targets key", true);
  online_option(impl_->remove, o, true);
  expiry_options(impl_->remove, o, false);

  impl_->refresh =
      dir_command(group, o, "refresh", "Sign snapshot and timestamp anew (the daily job)");
  online_option(impl_->refresh, o, true);
  key_option(impl_->refresh, o.targets_key, "--targets-key", "Also sign targets anew", false);
  expiry_options(impl_->refresh, o, false);

  impl_->rotate = dir_command(group, o, "rotate", "Give a role a new key in a new root");
  impl_->rotate->add_option("--role", o.role, "The role whose key changes")
      ->required()
      ->type_name("{root,targets,snapshot,timestamp}");
  key_option(impl_->rotate, o.new_key, "--new-key", "The role's new private key", true);
  key_option(impl_->rotate, o.root_key, "--root-key", "The current root key", true);
  key_option(impl_->rotate, o.targets_key, "--targets-key", "The targets key, to sign targets anew",
             false);
  online_option(impl_->rotate, o, false);
  expiry_options(impl_->rotate, o, true);

  impl_->status = dir_command(group, o, "status", "What is published, and what expires when");
}

RepoCli::~RepoCli() = default;

bool RepoCli::json() const { return impl_->o.json; }

std::optional<int> RepoCli::run(CommandOutput& out) {
  const RepoOptions& o = impl_->o;
  if (*impl_->init) return cmd_init(o, out);
  if (*impl_->add) return cmd_add(o, out);
  if (*impl_->remove) return cmd_remove(o, out);
  if (*impl_->refresh) return cmd_refresh(o, out);
  if (*impl_->rotate) return cmd_rotate(o, out);
  if (*impl_->status) return cmd_status(o, out);
  return std::nullopt;
}

}  // namespace hotfix
