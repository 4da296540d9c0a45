// The KB967131 sample as the integration tests use it: the stand-in drops and server images,
// a signing key, and the signed bundles, made once in a temporary directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace hotfix::test {

struct Kb967131Sample {
  // `archs`: which bundles and images to make. `max_file_size`: every file cut to at most
  // this many bytes (0: the article's sizes), for tests that copy a root thousands of times.
  explicit Kb967131Sample(std::vector<std::string> archs = {"x64"},
                          std::uint64_t max_file_size = 0);

  std::string bundle(const std::string& arch) const;  // bundles/KB967131-ARCH.hotfix
  std::string pub() const;                            // the public key, for --trust
  std::string image(const std::string& arch) const;   // the server image before the hotfix
  // A fresh copy of the ARCH image at `into`/root; returns its path.
  std::string root(const TempDir& into, const std::string& arch = "x64") const;

  TempDir dir;
};

}  // namespace hotfix::test
