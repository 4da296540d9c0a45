#include "tests/support/layered_sample.h"

#include <filesystem>

#include "installer/state_db.h"

namespace fs = std::filesystem;

namespace hotfix::test {

namespace {

constexpr int kReplaced = 140;  // files of the first hotfix that exist in the original tree
constexpr int kInstalled = 60;  // files it installs in directories it creates
constexpr std::int64_t kOriginalTime = 1599999960, kFirstTime = 1700000040,
                       kSecondTime = 1710000000;

std::string file_path(int i) {
  if (i < kReplaced)
    return "opt/big/lib" + std::to_string(i / 35) + "/f" + std::to_string(i) + ".so";
  return "opt/big/new" + std::to_string((i - kReplaced) / 20) + "/n" + std::to_string(i) + ".so";
}

std::string big_config(char variant) {
  std::string out;
  for (int i = 0; out.size() < (1u << 20); ++i) {
    out += "<add key=\"setting" + std::to_string(i) + "\" value=\"" + variant +
           std::to_string(i * 7919 % 100003) + "\" />\n";
  }
  return out;
}

}  // namespace

LayeredSample::LayeredSample() {
  std::vector<std::string> pool = sample_contents(40, 4096, 65536);
  const std::size_t n = pool.size();
  std::vector<TreeFile> a, b;
  for (int i = 0; i < kReplaced + kInstalled; ++i) {
    if (i < kReplaced) {
      original.push_back({file_path(i), pool[i % n], kOriginalTime + 60 * i,
                          std::vector<std::uint32_t>{0755, 0644, 0600}[i % 3]});
    }
    std::optional<std::uint32_t> mode;
    if (i >= kReplaced && i % 5 == 0) mode = 0750;
    a.push_back({file_path(i), pool[(i + 7) % n], kFirstTime + 60 * i, mode});
    if (i % 4 == 0) b.push_back({file_path(i), pool[(i + 13) % n], kSecondTime + 60 * i, {}});
  }
  original.push_back({"opt/big/etc/app.config", big_config('o'), kOriginalTime, 0640});
  a.push_back({"opt/big/etc/app.config", big_config('a'), kFirstTime, {}});
  for (int j = 0; j < 10; ++j) {
    b.push_back({"opt/big/lib0/b" + std::to_string(j) + ".so", pool[(j + 3) % n], kSecondTime, {}});
  }
  for (const TreeFile& f : a) first_bytes += f.content.size();
  first_files = a.size();
  first = factory.build(kFirst, a);
  second = factory.build(kSecond, b);
}

void LayeredSample::make_root(const std::string& root) const {
  make_linux_root(root);
  write_tree(root, original);
}

std::set<std::string> LayeredSample::installed_in(State state) {
  switch (state) {
    case kOriginal:
      return {};
    case kFirstOnly:
      return {kFirst};
    case kBoth:
      return {kFirst, kSecond};
    case kSecondOnly:
      return {kSecond};
  }
  return {};
}

std::vector<Step> layered_steps(const LayeredSample& s) {
  using S = LayeredSample;
  std::vector<std::string> apply1{"apply", s.first, "--trust", s.factory.pub()};
  std::vector<std::string> apply2{"apply", s.second, "--trust", s.factory.pub()};
  std::vector<std::string> remove1{"uninstall", S::kFirst}, remove2{"uninstall", S::kSecond};
  return {{"apply first", S::kOriginal, S::kFirstOnly, apply1},
          {"apply second over first", S::kFirstOnly, S::kBoth, apply2},
          {"uninstall first", S::kFirstOnly, S::kOriginal, remove1},
          {"uninstall second", S::kBoth, S::kFirstOnly, remove2},
          {"uninstall first under second", S::kBoth, S::kSecondOnly, remove1},
          {"uninstall second alone", S::kSecondOnly, S::kOriginal, remove2}};
}

std::string state_problems(const std::string& root, std::set<std::string>* installed) {
  std::string out;
  const std::string state = root + "/var/lib/hotfix";
  for (auto& e : fs::recursive_directory_iterator(root)) {
    std::string name = e.path().filename().string();
    if (name.find(".hotfix-") != std::string::npos || name.rfind("journal.json", 0) == 0) {
      out += "left behind: " + e.path().string() + "\n";
    }
  }
  for (auto& e : fs::directory_iterator(state)) {
    std::string name = e.path().filename().string();
    if (name != "lock" && name != "state.db" && name != "state.db-wal" && name != "state.db-shm" &&
        name != "backups") {
      out += "unexpected in the state directory: " + name + "\n";
    }
  }
  std::set<std::string> named;
  StateDb db = StateDb::open(state + "/state.db", StateDb::Mode::kReadOnly);
  for (const InstalledHotfix& h : db.hotfixes(true)) {
    if (installed) installed->insert(h.id);
    for (const InstalledFile& f : h.files) {
      if (f.backup) named.insert(*f.backup);
    }
  }
  std::set<std::string> found;
  if (fs::exists(state + "/backups")) {
    for (auto& e : fs::recursive_directory_iterator(state + "/backups")) {
      std::string rel = fs::relative(e.path(), state).generic_string();
      if (e.is_directory() && fs::is_empty(e.path()))
        out += "empty backup directory: " + rel + "\n";
      if (!e.is_directory()) found.insert(rel);
    }
  }
  for (const std::string& f : found) {
    if (!named.count(f)) out += "backup no hotfix names: " + f + "\n";
  }
  for (const std::string& f : named) {
    if (!found.count(f)) out += "backup missing: " + f + "\n";
  }
  return out;
}

}  // namespace hotfix::test
