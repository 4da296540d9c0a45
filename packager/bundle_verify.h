// Full verification of a bundle file: its signature, then every payload's size and hash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "manifests/manifest.h"
#include "manifests/trust_store.h"

namespace hotfix {

struct BundleVerifyReport {
  Manifest manifest;
  std::string signer_fingerprint;
  std::vector<std::string> problems;  // one line per payload problem; empty when intact
  std::size_t blobs_checked = 0;
  std::uint64_t bytes_checked = 0;
};

// A bad or missing signature, or an untrusted key, throws (kSignature) before any payload
// is read; a malformed archive throws kBadInput; payload problems are collected.
BundleVerifyReport verify_bundle(const std::string& path, const TrustStore& trust);

}  // namespace hotfix
