// libFuzzer target: the PE and ELF readers behind identify_bytes, which judge files from
// a build drop and on target machines. Only hotfix::Error may escape them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "manifests/errors.h"
#include "manifests/file_identity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    hotfix::FileIdentity identity = hotfix::identify_bytes(std::span(data, size), "fuzz.bin");
    bool consistent =
        (identity.format == hotfix::FileIdentity::Format::kPe) == identity.pe.has_value() &&
        (identity.format == hotfix::FileIdentity::Format::kElf) == identity.elf.has_value();
    if (!consistent) {
      std::fprintf(stderr, "file_identity_fuzzer: format and details disagree\n");
      std::abort();
    }
    (void)identity.arch();
    if (auto version = identity.version()) (void)version->to_string();
  } catch (const hotfix::Error&) {
  }
  return 0;
}
