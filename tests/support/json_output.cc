#include "tests/support/json_output.h"

#include <stdexcept>

namespace hotfix::test {

nlohmann::json json_envelope(const std::string& out) {
  nlohmann::json doc = nlohmann::json::parse(out);
  static const char* const kKeys[] = {"schema", "ok",     "exit_code", "command",
                                      "data",   "errors", "warnings"};
  if (!doc.is_object() || doc.size() != std::size(kKeys)) {
    throw std::runtime_error("not the --json envelope: " + out);
  }
  for (const char* key : kKeys) {
    if (!doc.contains(key)) throw std::runtime_error(std::string("no \"") + key + "\" in: " + out);
  }
  return doc;
}

nlohmann::json json_data(const std::string& out) { return json_envelope(out)["data"]; }

}  // namespace hotfix::test
