// libFuzzer target: the target's facts file, etc/hotfix/system.json (parse_system_facts),
// which is read from the root before anything is trusted. Besides sanitizer findings it checks
// that only hotfix::Error escapes and that its messages stay bounded.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "installer/target_facts.h"
#include "manifests/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    hotfix::parse_system_facts(text, "system.json");
  } catch (const hotfix::Error& error) {
    // At most kMaxManifestIssues issues are listed, each quoting at most a bounded excerpt.
    if (std::string(error.what()).size() > (1u << 20)) {
      std::fprintf(stderr, "system_facts_fuzzer: a message of %zu bytes\n",
                   std::string(error.what()).size());
      std::abort();
    }
  }
  return 0;
}
