// libFuzzer target: reading back the installer's journal (journal_from_json and the checks
// every field gets before recovery uses it, check_journal), which anyone who can write the
// root can plant. Besides sanitizer findings it checks that only hotfix::Error escapes and
// that an accepted journal survives a round trip through the writer unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "installer/journal.h"
#include "installer/state_checks.h"
#include "manifests/errors.h"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "journal_fuzzer: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    hotfix::Journal journal = hotfix::journal_from_json(text, "journal.json");
    hotfix::check_journal(journal, "var/lib/hotfix", "journal.json");
    std::string written = hotfix::journal_to_json(journal);
    hotfix::Journal again = hotfix::journal_from_json(written, "written.json");
    check(hotfix::journal_to_json(again) == written, "the written journal does not read back");
  } catch (const hotfix::Error& error) {
    check(error.kind() == hotfix::ErrorKind::kStateDamaged, "a journal error that is not damage");
  }
  return 0;
}
