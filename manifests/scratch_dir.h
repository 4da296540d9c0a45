// A private directory for what a command needs only while it runs (a dry run's download),
// made outside any target root: in $TMPDIR, else /tmp. Removed, with what it holds, when the
// object goes away.
#pragma once

#include <string>

namespace hotfix {

class ScratchDir {
 public:
  // `purpose` names the directory (hotfix-<purpose>-XXXXXX), so that a leftover one is known.
  explicit ScratchDir(const std::string& purpose);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace hotfix
