// Reading and writing manifests as JSON (format v1), with strict validation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "manifests/errors.h"
#include "manifests/manifest.h"

namespace hotfix {

// One problem found while validating, at a JSON path such as
// "architectures.x64.files[12].version".
struct ManifestIssue {
  std::string path;
  std::string message;  // what was found and what was expected
};

// Thrown with every problem found, not just the first. what() is the first issue; the
// caller prints issues() one per line as "<source>: <path>: <message>".
class ManifestError : public Error {
 public:
  ManifestError(std::string source, std::vector<ManifestIssue> issues);
  const std::vector<ManifestIssue>& issues() const { return issues_; }

 private:
  std::vector<ManifestIssue> issues_;
};

struct ManifestReadOptions {
  // A bundle's manifest must carry "bundle" and a sha256 on every file, and only the
  // bundle's architecture; a source manifest must not carry "bundle".
  bool bundle = false;
};

// `source` names the input in messages (a file name, or "manifest.json in X.hotfix").
Manifest parse_manifest(std::string_view json_text, const std::string& source,
                        ManifestReadOptions options = {});

Manifest read_manifest_file(const std::string& path, ManifestReadOptions options = {});

// Canonical JSON: fixed key order, two-space indent, trailing newline. Byte-identical for
// equal manifests, so bundles built from it are reproducible.
std::string write_manifest(const Manifest& manifest);

}  // namespace hotfix
