// libFuzzer target: the manifest reader (parse_manifest), as a source manifest and as a
// bundle's manifest. Besides sanitizer findings it checks that only hotfix::Error escapes
// (libFuzzer reports any other exception) and that an accepted manifest survives a round
// trip through the canonical writer unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "manifests/errors.h"
#include "manifests/manifest_json.h"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "manifest_fuzzer: %s\n", what);
    std::abort();
  }
}

void parse(std::string_view text, hotfix::ManifestReadOptions options) {
  try {
    hotfix::Manifest manifest = hotfix::parse_manifest(text, "fuzz.json", options);
    std::string canonical = hotfix::write_manifest(manifest);
    hotfix::Manifest again = hotfix::parse_manifest(canonical, "canonical.json", options);
    check(again == manifest, "the canonical form reads back as a different manifest");
    check(hotfix::write_manifest(again) == canonical, "the canonical form is not stable");
  } catch (const hotfix::ManifestError& error) {
    check(!error.issues().empty(), "a ManifestError without issues");
    check(!error.report().empty(), "an empty report");
  } catch (const hotfix::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  parse(text, {.bundle = false});
  parse(text, {.bundle = true});
  return 0;
}
