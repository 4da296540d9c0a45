// What both programs share around their commands, in one place: a command's errors become one
// message each on standard error ("PROGRAM: error: where: why"), the same lines in a JSON
// object when --json was asked for, and the exit code of docs/exit-codes.md.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "manifests/errors.h"

namespace hotfix {

// One JSON document on standard output, indented by two.
void print_json(const nlohmann::ordered_json& doc);

// The error's lines (Error::lines) on standard error, and with `as_json` the object
// {"ok": false, "exit_code": N, "errors": [...]} on standard output.
void print_error(std::string_view program, const Error& e, bool as_json);

// "PROGRAM: warning: LINE" for each.
void print_warnings(std::string_view program, const std::vector<std::string>& warnings);

// Runs one command and returns its exit code: what it returns, or the code of what it
// throws (Error by its kind, anything else as an internal error, printed as such).
int run_command(std::string_view program, bool as_json, const std::function<int()>& command);

}  // namespace hotfix
