// The programs' --json output as tests read it: one envelope (docs/json.md) per run.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hotfix::test {

// The envelope on `out`, its shape checked (schema, ok, exit_code, command, data, errors,
// warnings, nothing else); throws std::runtime_error naming what is wrong.
nlohmann::json json_envelope(const std::string& out);

// Its "data".
nlohmann::json json_data(const std::string& out);

}  // namespace hotfix::test
