// Reads a bundle safely: the signature is checked before anything else is trusted, payload
// hashes and sizes while they stream. No name from the archive ever becomes a path on disk.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "manifests/manifest.h"
#include "manifests/sha256.h"
#include "manifests/signature.h"
#include "manifests/trust_store.h"

namespace hotfix {

// One payload blob while it streams. Reading stops at the declared size.
class PayloadStream {
 public:
  virtual ~PayloadStream() = default;
  // Up to `size` bytes into `buffer`; 0 at the end of the blob.
  virtual std::size_t read(void* buffer, std::size_t size) = 0;
};

// Whether the file at `path` starts as a bundle does (a zstd frame), whatever its name; a
// manifest is JSON text. Throws Error(kBadInput) when it is missing or not a regular file.
bool is_bundle_file(const std::string& path);

class BundleReader {
 public:
  // Reads manifest.json and its signature, checks the signature against `trust` and only then
  // parses the manifest. Errors: kSignature for an unsigned bundle, a bad signature or an
  // unknown key; kBadInput for anything malformed.
  static BundleReader open_verified(const std::string& path, const TrustStore& trust);
  // For inspecting: parses the manifest without checking the signature (signer() is empty).
  static BundleReader open_unverified(const std::string& path);

  BundleReader(BundleReader&&) noexcept;
  BundleReader& operator=(BundleReader&&) noexcept;
  ~BundleReader();

  const Manifest& manifest() const;
  const std::string& manifest_json() const;  // the signed bytes
  bool verified() const;
  const std::optional<PublicKey>& signer() const;

  // Streams every payload blob in archive order to `sink`. Each must be declared by the
  // manifest, appear once, be a regular file of the declared size, and hash to its name;
  // every declared blob must be present. A mismatch throws kVerification, possibly after
  // `sink` has seen the data: treat it as untrusted until this returns. Can be called once.
  // With `problems`, hash mismatches and missing blobs are appended there (one line each) and
  // reading goes on, for a full report; a size mismatch still ends the reading there.
  using PayloadSink =
      std::function<void(const Sha256Digest& digest, std::uint64_t size, PayloadStream& data)>;
  void for_each_payload(const PayloadSink& sink, std::vector<std::string>* problems = nullptr);

 private:
  struct Impl;
  explicit BundleReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hotfix
