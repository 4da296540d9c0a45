#include "tests/support/bundle_factory.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "manifests/file_identity.h"
#include "manifests/manifest.h"
#include "manifests/manifest_json.h"
#include "tests/support/run.h"

namespace fs = std::filesystem;

namespace hotfix::test {

void write_tree(const std::string& root, const std::vector<TreeFile>& files) {
  for (const TreeFile& f : files) {
    fs::path p = fs::path(root) / f.path;
    fs::create_directories(p.parent_path());
    write_file(p, f.content);
    if (::chmod(p.c_str(), f.mode.value_or(0644)) != 0)
      throw std::runtime_error("chmod " + p.string());
    struct timeval tv[2] = {{f.mtime, 0}, {f.mtime, 0}};
    if (::utimes(p.c_str(), tv) != 0) throw std::runtime_error("utimes " + p.string());
  }
}

void make_linux_root(const std::string& root) {
  fs::create_directories(root + "/var/lib/hotfix");
  write_file(
      root + "/etc/hotfix/system.json",
      R"({"family": "linux", "product": "Test Linux", "version": "1.0", "architecture": "x64"})");
}

BundleFactory::BundleFactory() {
  RunResult r = run({packager_path(), "keygen", "--out", (dir_ / "k").string()});
  if (r.exit_code != 0) throw std::runtime_error("keygen: " + r.err);
}

std::string BundleFactory::build(const std::string& id, const std::vector<TreeFile>& files,
                                 const BundleOptions& options) {
  std::string drop = (dir_ / ("drop-" + id)).string();
  write_tree(drop, files);
  Manifest m;
  m.id = id;
  m.title = "Test hotfix " + id;
  m.languages = {"en-US"};
  m.restart = options.reboot ? RestartRequirement::kReboot : RestartRequirement::kNone;
  m.family = options.family;
  std::vector<FileEntry>& entries = m.architectures[Arch::kX64];
  for (const TreeFile& f : files) {
    fs::path p(f.path);
    FileEntry e;
    e.name = p.filename().string();
    e.destination = p.parent_path().generic_string();
    e.size = f.content.size();
    e.timestamp = Timestamp(f.mtime);
    e.mode = f.mode;
    FileIdentity identity = identify_file(drop + "/" + f.path);
    e.platform = identity.arch().value_or(Arch::kNeutral);
    e.version = identity.version();
    entries.push_back(e);
  }
  std::string manifest = (dir_ / (id + ".json")).string();
  write_file(manifest, write_manifest(m));
  RunResult r = run({packager_path(), "build", manifest, "--drop", "x64=" + drop, "--key",
                     (dir_ / "k.key").string(), "--out", (dir_ / "bundles").string()});
  if (r.exit_code != 0) throw std::runtime_error("build " + id + ": " + r.err);
  fs::remove_all(drop);
  return (dir_ / ("bundles/" + id + "-x64.hotfix")).string();
}

std::vector<std::string> sample_contents(std::size_t count, std::size_t min_size,
                                         std::size_t max_size) {
  std::vector<std::string> candidates;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/x86_64-linux-gnu", ec)) {
    if (!e.is_regular_file(ec) || e.is_symlink(ec)) continue;
    std::uintmax_t size = e.file_size(ec);
    if (ec || size < min_size || size > max_size) continue;
    candidates.push_back(e.path().string());
  }
  std::sort(candidates.begin(), candidates.end());
  std::vector<std::string> out;
  for (const std::string& path : candidates) {
    if (out.size() == count) break;
    try {
      if (identify_file(path).arch() != Arch::kX64) continue;
      std::string bytes = read_file(path);
      if (std::find(out.begin(), out.end(), bytes) == out.end()) out.push_back(bytes);
    } catch (const std::exception&) {
      // unreadable or not a well-formed object: not a sample
    }
  }
  // Generated data for the rest: text-like, so that it compresses as real files do.
  std::mt19937_64 rng(out.size());
  while (out.size() < count) {
    std::size_t size = min_size + rng() % (max_size - min_size + 1);
    std::string bytes;
    bytes.reserve(size);
    while (bytes.size() < size) {
      bytes += "line " + std::to_string(out.size()) + " " + std::to_string(rng() % 100000) + "\n";
    }
    bytes.resize(size);
    out.push_back(bytes);
  }
  return out;
}

}  // namespace hotfix::test
