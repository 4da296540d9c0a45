#include "packager/manifest_refresh.h"

#include <algorithm>

#include "manifests/errors.h"
#include "manifests/json_context.h"
#include "manifests/manifest_json.h"
#include "manifests/sha256.h"
#include "packager/drop_scan.h"
#include "packager/kb_table.h"
#include "packager/manifest_from_drops.h"

namespace hotfix {

std::string_view change_token(ManifestChange::Kind kind) {
  switch (kind) {
    case ManifestChange::Kind::kChanged:
      return "changed";
    case ManifestChange::Kind::kAdded:
      return "added";
    case ManifestChange::Kind::kRemoved:
      return "removed";
  }
  return "changed";
}

namespace {

std::string mode_text(const std::optional<std::uint32_t>& mode) {
  return mode ? format_mode(*mode) : "none";
}

// Updates `entry` from `found`, returning what changed.
std::vector<std::string> update_entry(FileEntry& entry, const FileEntry& found) {
  std::vector<std::string> details;
  auto note = [&](const std::string& field, const std::string& from, const std::string& to) {
    details.push_back(field + " " + from + " -> " + to);
  };
  if (entry.version != found.version) {
    note("version", format_file_version(entry.version), format_file_version(found.version));
    entry.version = found.version;
  }
  if (entry.size != found.size) {
    note("size", format_thousands(entry.size), format_thousands(found.size));
    entry.size = found.size;
  }
  if (entry.timestamp.unix_seconds() / 60 != found.timestamp.unix_seconds() / 60) {
    note("timestamp", entry.timestamp.iso8601(), found.timestamp.iso8601());
    entry.timestamp = found.timestamp;
  }
  if (entry.platform != found.platform) {
    note("platform", std::string(arch_token(entry.platform)),
         std::string(arch_token(found.platform)));
    entry.platform = found.platform;
  }
  if (entry.sha256 && entry.sha256 != found.sha256) {
    note("sha256", to_hex(*entry.sha256).substr(0, 12) + "...",
         to_hex(*found.sha256).substr(0, 12) + "...");
    entry.sha256 = found.sha256;
  }
  if (entry.mode && entry.mode != found.mode) {
    note("mode", mode_text(entry.mode), mode_text(found.mode));
    entry.mode = found.mode;
  }
  return details;
}

std::vector<std::string> describe_added(const FileEntry& f) {
  return {"version " + format_file_version(f.version),
          "size " + format_thousands(f.size),
          "timestamp " + f.timestamp.iso8601(),
          "platform " + std::string(arch_token(f.platform)),
          "kind " + std::string(file_kind_token(f.kind)),
          "mode " + mode_text(f.mode)};
}

// One architecture's entries refreshed from its drop's files; the article's order is kept,
// new files come last in path order.
void refresh_architecture(Arch arch, std::vector<FileEntry>& entries, std::vector<FileEntry> found,
                          std::vector<ManifestChange>& changes) {
  std::map<std::string, const FileEntry*> by_path;
  for (const FileEntry& f : found) by_path[f.path()] = &f;
  std::vector<FileEntry> kept;
  for (FileEntry& e : entries) {
    auto it = by_path.find(e.path());
    if (it == by_path.end()) {
      changes.push_back({arch, e.path(), ManifestChange::Kind::kRemoved, {"not in the drop"}});
      continue;
    }
    std::vector<std::string> details = update_entry(e, *it->second);
    if (!details.empty()) {
      changes.push_back({arch, e.path(), ManifestChange::Kind::kChanged, details});
    }
    by_path.erase(it);
    kept.push_back(std::move(e));
  }
  for (const FileEntry& f : found) {
    if (!by_path.count(f.path())) continue;
    FileEntry added = f;
    added.kind = guess_kind(added);
    changes.push_back({arch, added.path(), ManifestChange::Kind::kAdded, describe_added(added)});
    kept.push_back(std::move(added));
  }
  entries = std::move(kept);
}

}  // namespace

RefreshResult refresh_manifest(const Manifest& manifest, const std::map<Arch, std::string>& drops) {
  if (manifest.bundle) {
    throw Error(ErrorKind::kBadInput, "MANIFEST",
                "is a bundle's manifest; refresh the source manifest it was built from");
  }
  RefreshResult out;
  out.manifest = manifest;
  for (const auto& [arch, dir] : drops) {
    std::vector<FileEntry>& entries = out.manifest.architectures[arch];
    refresh_architecture(arch, entries, scan_drop(dir), out.changes);
    if (entries.empty()) {
      throw Error(ErrorKind::kBadInput, "--drop " + std::string(arch_token(arch)),
                  quote(dir) + " holds no files: the architecture would have none");
    }
  }
  return out;
}

}  // namespace hotfix
