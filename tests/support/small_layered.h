// Two small hotfixes over the same few files, for tests that run a step thousands of times.
// KB100001 replaces app/x.txt and app/y.txt, installs app/lib/new.txt in a directory it
// creates, and keeps the administrator's app/app.config (writing app.config.hotfix-new);
// KB100002 replaces app/x.txt and app/lib/new.txt again and installs app/z.txt.
#pragma once

#include <string>
#include <vector>

#include "manifests/manifest.h"
#include "manifests/trust_store.h"
#include "tests/support/temp_dir.h"

namespace hotfix::test {

struct SmallLayered {
  SmallLayered();  // builds the original root, a key and both bundles
  std::string bundle(const std::string& id) const;  // "KB100001" or "KB100002"

  TempDir dir;
  TrustStore trust;
  std::string root;  // the original tree

 private:
  struct File {
    std::string destination, name, content;
    FileKind kind;
  };
  void make(const std::string& id, const std::vector<File>& files);
};

}  // namespace hotfix::test
