#include "tests/support/root_image.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "installer/state_db.h"
#include "manifests/sha256.h"
#include "tests/support/tree_snapshot.h"

namespace hotfix::test {

namespace fs = std::filesystem;

namespace {

const std::regex kTxid("[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}");

// The state directory's skeleton may stay after a failed first apply.
const std::set<std::string> kSkeleton = {"var", "var/lib", kStateDirectory,
                                         kStateDirectory + "/backups"};

std::string normalize(const std::string& text, const std::set<std::string>& known) {
  std::string out;
  std::size_t last = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kTxid);
       it != std::sregex_iterator(); ++it) {
    out += text.substr(last, static_cast<std::size_t>(it->position()) - last);
    out += known.count(it->str()) ? it->str() : "NEW";
    last = static_cast<std::size_t>(it->position() + it->length());
  }
  return out + text.substr(last);
}

}  // namespace

const std::set<std::string>& untracked_state_files() {
  static const std::set<std::string> files = {
      kStateDirectory + "/state.db", kStateDirectory + "/state.db-wal",
      kStateDirectory + "/state.db-shm", kStateDirectory + "/state.db-journal",
      kStateDirectory + "/lock"};
  return files;
}

std::set<std::string> txids_in(const std::string& text) {
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kTxid);
       it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  return out;
}

std::string database_summary(const std::string& root) {
  StateDb db = StateDb::open(root + "/" + kStateDirectory + "/state.db", StateDb::Mode::kReadOnly);
  std::string out;
  // By id: the database orders by installation time, which differs between runs.
  std::vector<InstalledHotfix> hotfixes = db.hotfixes(true);
  std::sort(hotfixes.begin(), hotfixes.end(),
            [](const InstalledHotfix& a, const InstalledHotfix& b) { return a.id < b.id; });
  for (const InstalledHotfix& h : hotfixes) {
    out += h.id + " r" + std::to_string(h.revision) + "\n";
    for (const InstalledFile& f : h.files) {
      out += "  " + f.path + " " + std::string(file_action_token(f.action)) + " " +
             to_hex(f.sha256) + " " + std::to_string(f.mode) + " " + std::to_string(f.mtime) +
             " layer " + std::to_string(f.layer) + " backup " + f.backup.value_or("-") + "\n";
    }
    for (const std::string& dir : h.created_dirs) out += "  created " + dir + "/\n";
  }
  RestartState r = db.restart();
  out += "restart " + std::to_string(r.required) + " " + std::to_string(static_cast<int>(r.kind));
  for (const std::string& id : r.hotfixes) out += " " + id;
  return out;
}

RootImage root_image(const std::string& root, const std::set<std::string>& known) {
  RootImage s;
  for (const auto& [path, value] : snapshot_tree(root)) {
    if (untracked_state_files().count(path) || kSkeleton.count(path)) continue;
    s.tree[normalize(path, known)] = value;
  }
  s.database = normalize(database_summary(root), known);
  return s;
}

std::set<std::string> known_txids(const std::string& root) {
  std::string text = database_summary(root);
  for (const auto& [path, value] : snapshot_tree(root)) text += path + "\n";
  return txids_in(text);
}

std::string describe_difference(const RootImage& expected, const RootImage& actual) {
  std::string out = describe_difference(expected.tree, actual.tree);
  if (expected.database != actual.database) {
    out += "database differs:\n" + expected.database + "\n--- but is ---\n" + actual.database;
  }
  return out;
}

std::string transaction_leftovers_under(const std::string& root) {
  static const std::regex staged("\\.hotfix-[0-9]{8}T");
  std::string out;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    std::string name = e.path().filename().string();
    if (name == "journal.json" || name == "journal.json.tmp" ||
        name.find(".hotfix-restore") != std::string::npos || std::regex_search(name, staged)) {
      out += e.path().string() + "\n";
    }
  }
  return out;
}

void copy_root_linked(const std::string& from, const std::string& to) {
  auto keep_mode = [](const std::string& path, const struct stat& st) {
    ::chmod(path.c_str(), st.st_mode & 07777);
  };
  struct stat top {};
  ::lstat(from.c_str(), &top);
  fs::create_directory(to);
  keep_mode(to, top);
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = it->path().string().substr(from.size() + 1);
    std::string dest = to + "/" + rel;
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    if (S_ISDIR(st.st_mode)) {
      fs::create_directory(dest);
      keep_mode(dest, st);
    } else if (untracked_state_files().count(rel)) {
      fs::copy_file(it->path(), dest);
    } else {
      fs::create_hard_link(it->path(), dest);
    }
  }
}

}  // namespace hotfix::test
