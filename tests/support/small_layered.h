// Two small hotfixes over the same few files, for tests that run a step thousands of times.
// KB100001 replaces app/x.txt and app/y.txt, installs app/lib/new.txt in a directory it
// creates, and keeps the administrator's app/app.config (writing app.config.hotfix-new);
// KB100002 replaces app/x.txt and app/lib/new.txt again and installs app/z.txt. KB100001's
// revision 2 replaces app/x.txt over KB100002's, keeps app/app.config again, no longer lists
// app/y.txt and app/lib/new.txt, and installs app/extra/deep/e.txt in directories it creates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "manifests/manifest.h"
#include "manifests/trust_store.h"
#include "tests/support/temp_dir.h"

namespace hotfix::test {

struct SmallLayered {
  SmallLayered();  // builds the original root, a key and both bundles
  // "KB100001" (revision 1 or 2) or "KB100002" (revision 1).
  std::string bundle(const std::string& id, std::uint64_t revision = 1) const;

  TempDir dir;
  TrustStore trust;
  std::string root;  // the original tree

 private:
  struct File {
    std::string destination, name, content;
    FileKind kind;
  };
  void make(const std::string& id, const std::vector<File>& files, std::uint64_t revision);
};

}  // namespace hotfix::test
