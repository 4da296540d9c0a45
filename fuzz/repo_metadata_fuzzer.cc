// libFuzzer target: the repository metadata a server downloads from anyone's mirror before
// it can check anything but size (manifests/repo_metadata.h): the four roles' parsers, the
// version peek, and the detached signature files. The first byte picks the parser. Besides
// sanitizer findings it checks that only hotfix::Error of kind metadata escapes, and that what
// is accepted is written back and read again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "manifests/errors.h"
#include "manifests/repo_metadata.h"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "repo_metadata_fuzzer: %s\n", what);
    std::abort();
  }
}

template <class Parse>
void round_trip(const std::string& text, Parse&& parse) {
  auto m = parse(text, "fuzz.json");
  std::string written = hotfix::serialize(m);
  check(hotfix::serialize(parse(written, "written.json")) == written,
        "accepted metadata does not read back as written");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 6) {
      case 0: round_trip(text, hotfix::parse_root); break;
      case 1: round_trip(text, hotfix::parse_timestamp); break;
      case 2: round_trip(text, hotfix::parse_snapshot); break;
      case 3: round_trip(text, hotfix::parse_targets); break;
      case 4: hotfix::peek_version(text, "fuzz.json"); break;
      default: {
        auto sigs = hotfix::parse_signatures(text, "fuzz.sig");
        check(hotfix::serialize_signatures(sigs) == text, "a signature file does not read back");
      }
    }
  } catch (const hotfix::Error& error) {
    check(error.kind() == hotfix::ErrorKind::kMetadata, "an error that is not a metadata error");
  }
  return 0;
}
