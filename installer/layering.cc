#include "installer/layering.h"

#include <algorithm>

namespace hotfix {

const InstalledFile* record_of(const std::optional<InstalledHotfix>& hotfix,
                               const std::string& path) {
  if (!hotfix) return nullptr;
  for (const InstalledFile& f : hotfix->files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

bool answers_for_path(const InstalledFile& f) {
  return f.action == FileAction::kInstalled || f.action == FileAction::kReplaced ||
         f.backup.has_value();
}

std::optional<std::string> hand_on(const std::vector<FileLayer>& layers, const std::string& id,
                                   const InstalledFile& f, std::vector<FileLayer>& updated,
                                   std::vector<std::string>& discard_after_commit) {
  auto self =
      std::find_if(layers.begin(), layers.end(), [&](const FileLayer& l) { return l.first == id; });
  if (self == layers.end() || std::next(self) == layers.end()) return std::nullopt;
  FileLayer next = *std::next(self);
  InstalledFile& taker = next.second;
  if (taker.backup) discard_after_commit.push_back(*taker.backup);
  taker.backup = f.backup;
  if (!f.backup && taker.action == FileAction::kSkipped) {
    // `f` put a file where there was none, and the later hotfix had left it as it found it:
    // the later one now answers for that file, so that the file goes when it goes.
    taker.action = FileAction::kInstalled;
    taker.version = f.version;
    taker.size = f.size;
    taker.sha256 = f.sha256;
    taker.mtime = f.mtime;
    taker.mode = f.mode;
  }
  updated.push_back(next);
  return next.first;
}

}  // namespace hotfix
