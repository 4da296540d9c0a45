#include "tests/support/hotfix_kit.h"

#include <sys/time.h>

#include <stdexcept>

#include "manifests/manifest_json.h"
#include "samples/standins/standin_files.h"
#include "tests/support/tree_snapshot.h"

namespace hotfix::test {

namespace {

constexpr std::int64_t kRootFileTime = 1672531200;  // 2023-01-01T00:00:00Z

std::string name_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dir_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

void write_dated(const std::filesystem::path& path, const std::string& content, std::int64_t t) {
  write_file(path, content);
  struct timeval tv[2] = {{t, 0}, {t, 0}};
  if (::utimes(path.c_str(), tv) != 0) throw std::runtime_error("utimes " + path.string());
}

void must(const RunResult& r, const std::string& doing) {
  if (r.exit_code != 0) throw std::runtime_error(doing + ": " + r.err);
}

}  // namespace

std::string pe_image(const std::string& path, const Version& version) {
  FileEntry e;
  e.name = name_of(path);
  e.destination = dir_of(path);
  e.version = version;
  e.size = 4096;
  e.timestamp = Timestamp(kRootFileTime);
  e.platform = Arch::kX64;
  return standins::drop_standin(e, path).content;
}

std::string kit_content(const KitFile& file) {
  return file.version ? pe_image(file.path, *file.version) : file.text;
}

HotfixKit::HotfixKit() {
  must(run({packager_path(), "keygen", "--out", (dir_ / "key").string()}), "keygen");
}

std::string HotfixKit::pub() const { return (dir_ / "key.pub").string(); }

std::string HotfixKit::build(const KitHotfix& hotfix) {
  const std::string n = std::to_string(++built_);
  const std::filesystem::path drop = dir_ / ("drop-" + n);
  const std::int64_t when = 1700000000 + static_cast<std::int64_t>(hotfix.revision) * 86400;
  Manifest m;
  m.id = hotfix.id;
  m.title = "Test hotfix " + hotfix.id;
  m.revision = hotfix.revision;
  m.languages = {"en-US"};
  m.restart = hotfix.restart;
  m.supersedes = hotfix.supersedes;
  m.prerequisites = hotfix.prerequisites;
  std::vector<FileEntry>& entries = m.architectures[hotfix.arch];
  for (const KitFile& f : hotfix.files) {
    std::string content = kit_content(f);
    FileEntry e;
    e.name = name_of(f.path);
    e.destination = dir_of(f.path);
    e.version = f.version;
    e.size = content.size();
    e.timestamp = Timestamp(when);
    e.platform = f.version ? Arch::kX64 : Arch::kNeutral;
    e.kind = f.kind;
    e.only_if_present = f.only_if_present;
    entries.push_back(e);
    write_dated(drop / f.path, content, when);
  }
  const std::filesystem::path manifest = dir_ / ("manifest-" + n + ".json");
  write_file(manifest, write_manifest(m));
  const std::filesystem::path out = dir_ / ("bundles-" + n);
  must(run({packager_path(), "build", manifest.string(), "--drop",
            std::string(arch_token(hotfix.arch)) + "=" + drop.string(), "--key",
            (dir_ / "key.key").string(), "--out", out.string()}),
       "building " + hotfix.id);
  return (out / (hotfix.id + "-" + std::string(arch_token(hotfix.arch)) + ".hotfix")).string();
}

std::string HotfixKit::make_root(const std::string& name, const std::vector<KitFile>& files) const {
  const std::filesystem::path root = dir_ / name;
  write_file(root / "etc/hotfix/system.json",
             R"json({"family": "linux", "product": "Debian GNU/Linux 12 (bookworm)",)json"
             R"json( "version": "12", "architecture": "x64"})json");
  for (const KitFile& f : files) write_dated(root / f.path, kit_content(f), kRootFileTime);
  return root.string();
}

std::map<std::string, std::string> snapshot_with_state(const std::string& root) {
  auto tree = snapshot_tree(root);
  tree.erase("var/lib/hotfix/state.db-shm");
  return tree;
}

RunResult run_installer(std::vector<std::string> args, const std::vector<std::string>& env) {
  args.insert(args.begin(), installer_path());
  return run(args, env);
}

std::string refusal(const std::string& err) {
  const std::string prefix = "hotfix-installer: error: ";
  if (err.rfind(prefix, 0) != 0) return err;
  std::size_t id = err.find(": KB", prefix.size());
  return id == std::string::npos ? err : err.substr(id + 2);
}

}  // namespace hotfix::test
