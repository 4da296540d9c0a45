#include "packager/bundle_verify.h"

#include "manifests/bundle_reader.h"

namespace hotfix {

BundleVerifyReport verify_bundle(const std::string& path, const TrustStore& trust) {
  BundleReader reader = BundleReader::open_verified(path, trust);
  BundleVerifyReport report;
  report.manifest = reader.manifest();
  report.signer_fingerprint = reader.signer()->fingerprint();
  reader.for_each_payload(
      [&](const Sha256Digest&, std::uint64_t size, PayloadStream&) {
        // The reader hashes what the sink leaves unread.
        ++report.blobs_checked;
        report.bytes_checked += size;
      },
      &report.problems);
  return report;
}

}  // namespace hotfix
