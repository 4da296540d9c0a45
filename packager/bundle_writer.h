// Writes one signed, reproducible bundle (docs/bundle-format.md) from a drop directory.
#pragma once

#include <cstdint>
#include <string>

#include "manifests/manifest.h"
#include "manifests/progress.h"
#include "manifests/signature.h"
#include "packager/drop_reader.h"

namespace hotfix {

struct BundleWriteOptions {
  int level = 3;                 // zstd level
  int threads = 2;               // zstd workers; the output does not depend on this (see the test)
  DropReaderOptions read;        // nor on this
  Progress* progress = nullptr;  // told of each file bundled, when the command shows progress
};

struct BundleWriteResult {
  Manifest manifest;                // as signed: every file's sha256 and the key id filled in
  std::uint64_t input_bytes = 0;    // sum of the entries' sizes
  std::uint64_t payload_bytes = 0;  // distinct content stored
  std::uint64_t bundle_bytes = 0;   // size of the bundle file
  std::size_t blobs = 0;
};

// `slice` is one architecture (and language) of a hotfix with `bundle` set; each entry's file
// is read from `drop_dir/<destination>/<name>` once, hashed and compressed in the same pass
// (a file larger than a read window is hashed first, see DropReaderOptions). The bundle
// appears at `out_path` complete or not at all.
BundleWriteResult write_bundle(Manifest slice, const std::string& drop_dir, const PrivateKey& key,
                               const std::string& out_path, const BundleWriteOptions& options = {});

}  // namespace hotfix
