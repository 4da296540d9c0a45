#include "packager/cli.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "manifests/bundle_format.h"
#include "manifests/bundle_reader.h"
#include "manifests/cli_shell.h"
#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/file_replace.h"
#include "manifests/input_file.h"
#include "manifests/json_context.h"
#include "manifests/manifest_json.h"
#include "manifests/signature.h"
#include "manifests/terminal_text.h"
#include "manifests/trust_store.h"
#include "packager/bundle_builder.h"
#include "packager/bundle_verify.h"
#include "packager/drop_scan.h"
#include "packager/kb_table.h"
#include "packager/manifest_from_drops.h"
#include "packager/manifest_refresh.h"
#include "packager/repo_cli.h"

namespace hotfix {

namespace {

using json = nlohmann::ordered_json;
constexpr const char* kProgram = "hotfix-packager";

struct Options {
  bool json = false;
  bool force = false;
  bool local_time = false;
  std::string key_prefix;
  std::string manifest;
  std::string bundle;
  std::string input;
  std::string scan_dir;
  std::string scan_id;
  std::string scan_arch;
  std::string scan_title;
  std::string scan_restart = "none";
  std::string os_release;
  bool dry_run = false;
  bool quiet = false;
  std::vector<std::string> drops;
  std::vector<std::string> arches;
  std::vector<std::string> trust;
  std::string key;
  std::string out;
  int level = 3;
  int threads = 2;
};

Arch parse_arch_option(const std::string& text, const std::string& option) {
  auto arch = parse_arch(text);
  if (!arch || *arch == Arch::kNeutral) {
    throw Error(ErrorKind::kBadInput, option,
                "'" + text + "' is not an architecture (x86, x64, ia64, arm64)");
  }
  return *arch;
}

// A drop named on the command line is a directory that exists: bad input otherwise, before
// any manifest is read (a drop that differs from the manifest is exit 4, but a name that
// leads nowhere is a usage error).
void check_drop_option(Arch arch, const std::string& dir) {
  const std::string option = "--drop " + std::string(arch_token(arch));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    int error = errno;
    if (error != ENOENT && error != ENOTDIR) throw SystemError(dir, option + ": stat", error);
    throw Error(ErrorKind::kBadInput, option, quote(dir) + " does not exist");
  }
  if (!S_ISDIR(st.st_mode))
    throw Error(ErrorKind::kBadInput, option, quote(dir) + " is not a directory");
}

// --drop ARCH=DIR options, each a directory that exists, each architecture once.
std::map<Arch, std::string> parse_drop_options(const std::vector<std::string>& drops) {
  std::map<Arch, std::string> out;
  for (const std::string& d : drops) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == d.size()) {
      throw Error(ErrorKind::kBadInput, "--drop", "'" + d + "' is not ARCH=DIR");
    }
    Arch arch = parse_arch_option(d.substr(0, eq), "--drop");
    if (out.count(arch)) {
      throw Error(ErrorKind::kBadInput, "--drop",
                  "architecture " + std::string(arch_token(arch)) + " given twice");
    }
    std::string dir = d.substr(eq + 1);
    check_drop_option(arch, dir);
    out[arch] = dir;
  }
  return out;
}

TrustStore load_trust(const std::vector<std::string>& paths) {
  TrustStore trust;
  for (const std::string& p : paths) trust.add_path(p);
  return trust;
}

json file_table_json(const Manifest& manifest) {
  json sections = json::array();
  for (const KbTableSection& s : build_kb_table(manifest).sections) {
    json files = json::array();
    for (const FileEntry& f : manifest.architectures.at(s.arch)) {
      json row;
      row["name"] = f.name;
      row["destination"] = f.destination;
      row["version"] = f.version ? json(f.version->to_string()) : json(nullptr);
      row["size"] = f.size;
      row["timestamp"] = f.timestamp.iso8601();
      row["platform"] = std::string(arch_token(f.platform));
      row["kind"] = std::string(file_kind_token(f.kind));
      if (f.sha256) row["sha256"] = to_hex(*f.sha256);
      files.push_back(row);
    }
    sections.push_back({{"architecture", std::string(arch_token(s.arch))},
                        {"heading", s.heading},
                        {"files", files}});
  }
  return sections;
}

// ---- keygen ----------------------------------------------------------------------------

int cmd_keygen(const Options& o, CommandOutput& out) {
  PrivateKey key = PrivateKey::generate();
  write_key_pair(key, o.key_prefix, o.force);
  std::string fp = key.public_key().fingerprint();
  out.data = {{"private_key", o.key_prefix + ".key"},
              {"public_key", o.key_prefix + ".pub"},
              {"fingerprint", fp}};
  if (!o.json) {
    std::cout << "private key: " << o.key_prefix << ".key (keep it secret; mode 0600)\n"
              << "public key:  " << o.key_prefix << ".pub (give it to every server)\n"
              << "fingerprint: " << fp << "\n";
  }
  return 0;
}

// ---- scan ------------------------------------------------------------------------------

RestartRequirement parse_restart_option(const std::string& text) {
  for (RestartRequirement r :
       {RestartRequirement::kNone, RestartRequirement::kServices, RestartRequirement::kReboot}) {
    if (restart_token(r) == text) return r;
  }
  throw Error(ErrorKind::kBadInput, "--restart",
              quote(text) + " is not a restart (none, services, reboot)");
}

// What scan writes, build reads: a manifest no build could take fails here, not later.
int print_scanned_manifest(const Options& o, CommandOutput& out, const ScannedManifest& scanned,
                           const std::string& from) {
  for (const std::string& w : scanned.warnings) out.warn(w);
  std::string text = write_manifest(scanned.manifest);
  parse_manifest(text, "the manifest scanned from " + from);
  out.data = {{"manifest", json::parse(text)}};
  if (!o.json) std::cout << text;
  return 0;
}

// scan --drop ARCH=DIR... (or DIR --arch ARCH) --manifest-id ID: a whole source manifest.
int scan_manifest(const Options& o, CommandOutput& out) {
  if (!is_valid_id(o.scan_id)) {
    throw Error(ErrorKind::kBadInput, "--manifest-id",
                quote(o.scan_id) + " is not a hotfix id (a letter or digit, then up to 63 " +
                    "letters, digits, '.', '_' or '-')");
  }
  ManifestStart start;
  start.id = o.scan_id;
  start.title = o.scan_title;
  start.restart = parse_restart_option(o.scan_restart);
  if (!o.os_release.empty()) {
    start.os_release = read_named_input(o.os_release, 64 * 1024, "an os-release file");
    start.os_release_source = o.os_release;
  }
  std::map<Arch, std::string> drops = parse_drop_options(o.drops);
  if (drops.empty()) drops[parse_arch_option(o.scan_arch, "--arch")] = o.scan_dir;
  std::string from = o.drops.empty() ? o.scan_dir : "the drops";
  return print_scanned_manifest(o, out, manifest_from_drops(drops, start), from);
}

int cmd_scan(const Options& o, CommandOutput& out) {
  if (o.scan_dir.empty() == o.drops.empty()) {
    throw Error(ErrorKind::kBadInput, "scan",
                o.drops.empty() ? "give a directory to scan, or --drop ARCH=DIR with --manifest-id"
                                : "give either a directory or --drop ARCH=DIR options, not both");
  }
  if (!o.drops.empty() && o.scan_id.empty()) {
    throw Error(ErrorKind::kBadInput, "--drop",
                "scan --drop writes a manifest: give its id with --manifest-id");
  }
  if (!o.scan_id.empty()) return scan_manifest(o, out);
  std::vector<FileEntry> files = scan_drop(o.scan_dir);
  for (FileEntry& f : files) f.kind = guess_kind(f);
  out.data = {{"files", json::parse(file_entries_json(files))}};
  if (o.json) return 0;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"File name", "File version", "File size", "Date", "Time"};
  if (o.local_time) header.emplace_back("Time zone");
  header.insert(header.end(), {"Platform", "Destination"});
  rows.push_back(header);
  for (const FileEntry& f : files) {
    std::vector<std::string> row{terminal_safe(f.name), format_file_version(f.version),
                                 format_thousands(f.size)};
    for (std::string& cell : kb_time_cells(f.timestamp, o.local_time)) row.push_back(cell);
    row.insert(row.end(), {std::string(arch_display(f.platform)), terminal_safe(f.destination)});
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      bool right = i == 2;  // sizes align right, as in the article
      std::string cell = r[i];
      std::string pad(width[i] - cell.size(), ' ');
      line += right ? pad + cell : cell + (i + 1 < r.size() ? pad : "");
      if (i + 1 < r.size()) line += "  ";
    }
    std::cout << line << "\n";
  }
  std::cout << files.size() << " files\n";
  return 0;
}

// ---- build -----------------------------------------------------------------------------

int cmd_build(const Options& o, CommandOutput& out) {
  BuildRequest request;
  request.manifest_path = o.manifest;
  request.key_path = o.key;
  request.out_dir = o.out;
  request.write.level = o.level;
  request.write.threads = o.threads;
  Progress progress("build", Progress::wanted(o.json, o.quiet));
  request.write.progress = &progress;
  request.drops = parse_drop_options(o.drops);
  for (const std::string& a : o.arches) request.only.push_back(parse_arch_option(a, "--arch"));

  BuildReport report = build_bundles(request);
  progress.finish();
  for (const DropIssue& w : report.warnings) out.warn(w.where + ": " + w.message);
  json bundles = json::array();
  for (const BuiltBundle& b : report.bundles) {
    bundles.push_back(
        {{"path", b.path},
         {"architecture", std::string(arch_token(b.result.manifest.bundle->arch))},
         {"language", b.result.manifest.bundle->language ? json(*b.result.manifest.bundle->language)
                                                         : json(nullptr)},
         {"files", b.result.manifest.architectures.begin()->second.size()},
         {"blobs", b.result.blobs},
         {"input_bytes", b.result.input_bytes},
         {"bundle_bytes", b.result.bundle_bytes}});
  }
  out.data = {{"bundles", bundles}};
  if (o.json) return 0;
  for (const BuiltBundle& b : report.bundles) {
    const auto& r = b.result;
    double ratio = r.bundle_bytes ? double(r.input_bytes) / double(r.bundle_bytes) : 0.0;
    char line[512];
    std::snprintf(line, sizeof line, "%s  %zu files, %zu blobs, %s bytes -> %s bytes (%.2fx)",
                  b.path.c_str(), r.manifest.architectures.begin()->second.size(), r.blobs,
                  format_thousands(r.input_bytes).c_str(), format_thousands(r.bundle_bytes).c_str(),
                  ratio);
    std::cout << terminal_safe(line) << "\n";
  }
  return 0;
}

// ---- inspect ---------------------------------------------------------------------------

int cmd_inspect(const Options& o, CommandOutput& out) {
  TrustStore trust = load_trust(o.trust);
  BundleReader reader = trust.empty() ? BundleReader::open_unverified(o.bundle)
                                      : BundleReader::open_verified(o.bundle, trust);
  const Manifest& m = reader.manifest();
  std::string signature = reader.verified()
                              ? "valid, by trusted key " + short_fingerprint(m.bundle->key_id)
                              : "not checked (key " + short_fingerprint(m.bundle->key_id) +
                                    "; pass --trust to check it)";
  {
    json doc;
    doc["id"] = m.id;
    doc["title"] = m.title;
    doc["revision"] = m.revision;
    doc["architecture"] = std::string(arch_token(m.bundle->arch));
    doc["language"] = m.bundle->language ? json(*m.bundle->language) : json(nullptr);
    doc["languages"] = m.languages;
    doc["restart"] = std::string(restart_token(m.restart));
    doc["prerequisites"] =
        m.prerequisites.is_always() ? json(nullptr) : json(m.prerequisites.describe());
    doc["supersedes"] = m.supersedes;
    doc["key_id"] = m.bundle->key_id;
    doc["signature_verified"] = reader.verified();
    doc["files"] = file_table_json(m)[0]["files"];
    out.data = doc;
    if (o.json) return 0;
  }
  std::ostringstream text;
  text << "Hotfix:        " << m.id << " (revision " << m.revision << ")\n"
            << "Title:         " << m.title << "\n"
            << "Architecture:  " << arch_display(m.bundle->arch) << "\n"
            << "Language:      "
            << (m.bundle->language ? *m.bundle->language
                                   : [&] {
                                       std::string s;
                                       for (const auto& l : m.languages) s += (s.empty() ? "" : ", ") + l;
                                       return s;
                                     }())
            << "\n"
            << "Prerequisites: "
            << (m.prerequisites.is_always() ? "none" : m.prerequisites.describe()) << "\n"
            << "Restart:       " << restart_token(m.restart) << "\n"
            << "Supersedes:    ";
  if (m.supersedes.empty()) text << "nothing";
  for (std::size_t i = 0; i < m.supersedes.size(); ++i) {
    text << (i ? ", " : "") << m.supersedes[i];
  }
  text << "\nSignature:     " << signature << "\n\n";
  // Title, languages and file names come from the bundle, verified or not.
  KbTableOptions table_options;
  table_options.local_time = o.local_time;
  text << render_kb_table_markdown(m, table_options);
  std::cout << terminal_safe_lines(text.str());
  return 0;
}

// ---- verify ----------------------------------------------------------------------------

int cmd_verify(const Options& o, CommandOutput& out) {
  TrustStore trust = load_trust(o.trust);
  BundleVerifyReport report = verify_bundle(o.bundle, trust);
  bool ok = report.problems.empty();
  out.data = {{"bundle", o.bundle},
              {"id", report.manifest.id},
              {"architecture", std::string(arch_token(report.manifest.bundle->arch))},
              {"signature", "valid"},
              {"key_id", report.signer_fingerprint},
              {"blobs_checked", report.blobs_checked},
              {"bytes_checked", report.bytes_checked},
              {"problems", report.problems},
              {"intact", ok}};
  for (const std::string& p : report.problems) out.error(ErrorKind::kVerification, p);
  if (!o.json) {
    std::cout << terminal_safe(o.bundle) << ": signature valid (key "
              << short_fingerprint(report.signer_fingerprint) << "), " << report.blobs_checked
              << " payloads, " << format_thousands(report.bytes_checked)
              << " bytes: " << (ok ? "OK" : std::to_string(report.problems.size()) + " problem(s)")
              << "\n";
  }
  return ok ? 0 : static_cast<int>(ExitCode::kVerification);
}

// ---- describe --------------------------------------------------------------------------

// ---- manifest refresh ------------------------------------------------------------------

json changes_json(const std::vector<ManifestChange>& changes) {
  json list = json::array();
  for (const ManifestChange& c : changes) {
    list.push_back({{"architecture", std::string(arch_token(c.arch))},
                    {"path", c.path},
                    {"change", std::string(change_token(c.kind))},
                    {"details", c.details}});
  }
  return list;
}

int cmd_manifest_refresh(const Options& o, CommandOutput& out) {
  std::map<Arch, std::string> drops = parse_drop_options(o.drops);
  Manifest manifest = read_manifest_file(o.manifest);
  RefreshResult refreshed = refresh_manifest(manifest, drops);
  std::string text = write_manifest(refreshed.manifest);
  parse_manifest(text, "the refreshed manifest");  // build must be able to read it
  const bool write = !o.dry_run && !refreshed.changes.empty();
  if (write) {
    struct stat st {};
    mode_t mode = ::stat(o.manifest.c_str(), &st) == 0 ? st.st_mode & 07777 : 0644;
    write_file_atomically(o.manifest, text, mode, true);
  }
  out.data = {
      {"manifest", o.manifest}, {"written", write}, {"changes", changes_json(refreshed.changes)}};
  if (o.json) return 0;
  for (const ManifestChange& c : refreshed.changes) {
    std::string line = std::string(change_token(c.kind)) + " " + std::string(arch_token(c.arch)) +
                       " " + c.path + ":";
    for (std::size_t i = 0; i < c.details.size(); ++i) line += (i ? ", " : " ") + c.details[i];
    std::cout << terminal_safe(line) << "\n";
  }
  std::cout << terminal_safe(o.manifest) << ": " << refreshed.changes.size()
            << (refreshed.changes.size() == 1 ? " change" : " changes")
            << (write                       ? ", written"
                : refreshed.changes.empty() ? "; up to date"
                                            : " (dry run: not written)")
            << "\n";
  return 0;
}

int cmd_describe(const Options& o, CommandOutput& out) {
  Manifest manifest;
  if (is_bundle_file(o.input)) {
    TrustStore trust = load_trust(o.trust);
    manifest = trust.empty() ? BundleReader::open_unverified(o.input).manifest()
                             : BundleReader::open_verified(o.input, trust).manifest();
  } else {
    manifest = read_manifest_file(o.input);
  }
  KbTableOptions options;
  options.local_time = o.local_time;
  {
    KbTable table = build_kb_table(manifest, options);
    json sections = json::array();
    for (const KbTableSection& s : table.sections) {
      sections.push_back({{"architecture", std::string(arch_token(s.arch))},
                          {"heading", s.heading},
                          {"columns", table.columns},
                          {"rows", s.rows}});
    }
    out.data = {{"id", manifest.id}, {"intro", table.intro}, {"sections", sections}};
    if (o.json) return 0;
  }
  std::cout << terminal_safe_lines(render_kb_table_markdown(manifest, options));
  return 0;
}

}  // namespace

int packager_main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "hotfix-packager: builds signed per-architecture hotfix bundles from a file-version "
      "manifest.\nExit codes: 0 ok, 1 internal error, 2 bad input, 3 bad or untrusted "
      "signature, 4 verification failed, 6 repository busy, 7 system error, 8 repository metadata "
      "not trusted (see docs/exit-codes.md).\n`help COMMAND` "
      "shows a command's options.",
      kProgram};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text(kProgram), "Name, version and source revision");
  app.option_defaults()->always_capture_default();  // --help shows each option's default

  auto* keygen = app.add_subcommand("keygen", "Make an Ed25519 signing key pair (PEM)");
  keygen->add_option("--out", o.key_prefix, "Writes PREFIX.key (mode 0600) and PREFIX.pub")
      ->required()
      ->type_name("PREFIX");
  keygen->add_flag("--force", o.force, "Replace existing key files");
  keygen->add_flag("--json", o.json, "Machine-readable output");

  auto* scan = app.add_subcommand(
      "scan", "List a directory's files as the article does, or write a manifest from the drops");
  scan->add_option("DIR", o.scan_dir, "Directory to scan")->check(CLI::ExistingDirectory);
  scan->add_flag("--json", o.json, "Emit manifest file entries");
  scan->add_flag("--local-time", o.local_time,
                 "The table's dates and times in local time, with each zone's UTC offset");
  auto* scan_id = scan->add_option("--manifest-id", o.scan_id,
                                   "Emit a whole source manifest with this hotfix id");
  scan->add_option("--drop", o.drops,
                   "ARCH=DIR: one architecture's build output; with --manifest-id, one manifest "
                   "for every architecture given")
      ->needs(scan_id)
      ->type_name("ARCH=DIR");
  scan->add_option("--arch", o.scan_arch, "Architecture of the manifest scanned from DIR")
      ->needs(scan_id)
      ->default_val("x64")
      ->type_name("{x86,x64,ia64,arm64}");
  scan->add_option("--title", o.scan_title, "The manifest's title (default: the id)")
      ->needs(scan_id);
  scan->add_option("--restart", o.scan_restart, "What the hotfix needs: none, services, reboot")
      ->needs(scan_id)
      ->type_name("{none,services,reboot}");
  scan->add_option("--os-release", o.os_release,
                   "The target's os-release: family linux, and os_id and os_version_at_least "
                   "prerequisites from its ID and VERSION_ID")
      ->needs(scan_id)
      ->type_name("FILE");

  auto* manifest_cmd = app.add_subcommand("manifest", "Work on a source manifest");
  manifest_cmd->require_subcommand(1);
  auto* refresh = manifest_cmd->add_subcommand(
      "refresh", "Update a manifest's files in place from new drops and print what changed");
  refresh->add_option("MANIFEST", o.manifest, "Source manifest (JSON), rewritten in place")
      ->required();
  refresh->add_option("--drop", o.drops, "ARCH=DIR: build output for one architecture")
      ->required()
      ->type_name("ARCH=DIR");
  refresh->add_flag("--dry-run", o.dry_run, "Print the changes; write nothing");
  refresh->add_flag("--json", o.json, "Machine-readable output");

  auto* build = app.add_subcommand(
      "build", "Check drops against a manifest, then write one signed bundle per architecture");
  build->add_option("MANIFEST", o.manifest, "Hotfix manifest (JSON)")->required();
  build->add_option("--drop", o.drops, "ARCH=DIR: build output for one architecture")
      ->required()
      ->type_name("ARCH=DIR");
  build->add_option("--key", o.key, "Ed25519 private key (PEM)")->required()->type_name("FILE");
  build->add_option("--out", o.out, "Output directory for the bundles")
      ->required()
      ->type_name("DIR");
  build->add_option("--arch", o.arches, "Build only these architectures")
      ->type_name("{x86,x64,ia64,arm64}");
  build->add_option("--level", o.level, "zstd compression level")->check(CLI::Range(1, 19));
  build->add_option("--threads", o.threads, "zstd worker threads (output does not depend on it)")
      ->check(CLI::Range(1, 64));
  build->add_flag("--quiet,-q", o.quiet,
                  "No progress on standard error (it shows only when that is a terminal, never "
                  "with --json)");
  build->add_flag("--json", o.json, "Machine-readable output");

  auto* inspect = app.add_subcommand("inspect", "Show a bundle's hotfix metadata and file table");
  inspect->add_option("BUNDLE", o.bundle, "Bundle file")->required();
  inspect
      ->add_option("--trust", o.trust,
                   "Trusted public key (file or directory) to check the signature")
      ->type_name("PATH");
  inspect->add_flag("--local-time", o.local_time,
                    "Dates and times in local time, with each zone's UTC offset, not UTC");
  inspect->add_flag("--json", o.json, "Machine-readable output");

  auto* verify = app.add_subcommand("verify", "Check a bundle's signature and every payload");
  verify->add_option("BUNDLE", o.bundle, "Bundle file")->required();
  verify->add_option("--trust", o.trust, "Trusted public key (file or directory)")
      ->required()
      ->type_name("PATH");
  verify->add_flag("--json", o.json, "Machine-readable output");

  auto* describe =
      app.add_subcommand("describe", "Render the article's File information tables (Markdown)");
  describe->add_option("INPUT", o.input, "Manifest (.json) or bundle (.hotfix)")->required();
  describe->add_option("--trust", o.trust, "Check a bundle's signature with this key")
      ->type_name("PATH");
  describe->add_flag("--local-time", o.local_time,
                     "Dates and times in local time, with each zone's UTC offset, not UTC");
  describe->add_flag("--json", o.json, "Machine-readable output");

  RepoCli repo(app);

  std::string command;
  if (std::optional<int> code = parse_command_line(app, argc, argv, command)) return *code;
  CommandOutput out(kProgram, command, o.json || repo.json());
  return run_command(out, [&] {
    if (std::optional<int> code = repo.run(out)) return *code;
    if (*keygen) return cmd_keygen(o, out);
    if (*scan) return cmd_scan(o, out);
    if (*refresh) return cmd_manifest_refresh(o, out);
    if (*build) return cmd_build(o, out);
    if (*inspect) return cmd_inspect(o, out);
    if (*verify) return cmd_verify(o, out);
    if (*describe) return cmd_describe(o, out);
    return static_cast<int>(ExitCode::kInternal);
  });
}

}  // namespace hotfix
