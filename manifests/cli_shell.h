// What both programs share around their commands, in one place: a command's errors become one
// message each on standard error ("PROGRAM: error: where: why") and the exit code of
// docs/exit-codes.md; with --json, standard output carries exactly one JSON object per run,
// the envelope of docs/json.md, usage errors included:
//   {"schema", "ok", "exit_code", "command", "data", "errors", "warnings"}.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifests/errors.h"

namespace hotfix {

// The token of an error kind in JSON: "bad_input", "signature", "verification",
// "not_applicable", "busy", "system", "state_damaged", "metadata",
// "unreachable", "internal".
std::string_view error_kind_token(ErrorKind kind);

// What one command says: its data, and the warnings and errors it reports as it goes. Each
// warning and error is written to standard error at once (terminal-safe) and kept for the
// envelope.
class CommandOutput {
 public:
  CommandOutput(std::string program, std::string command, bool json);

  bool json() const { return json_; }
  const std::string& program() const { return program_; }
  void warn(const std::string& line);
  // An error that does not stop the command (a bundle that does not apply, files that differ):
  // the exit code says what the command returns.
  void error(ErrorKind kind, const std::string& line);
  // The error that ended the command.
  void fail(const Error& e);

  // The envelope, with `exit_code`.
  nlohmann::ordered_json envelope(int exit_code) const;

  nlohmann::ordered_json data = nullptr;  // the command's own object (null until it has one)

 private:
  std::string program_, command_;
  bool json_;
  nlohmann::ordered_json errors_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json warnings_ = nlohmann::ordered_json::array();
};

// One JSON document on standard output, indented by two.
void print_json(const nlohmann::ordered_json& doc);

// Runs one command and returns its exit code: what it returns, or the code of what it
// throws (Error by its kind, anything else as an internal error). With --json the envelope
// is printed at the end, whatever happened; `out.data` holds what the command had done.
int run_command(CommandOutput& out, const std::function<int()>& command);

// A usage error (unknown command or option, a missing argument): the message on standard
// error and, when `argv` asks for --json, the envelope with exit code 2 and the command
// named in `argv` (the first argument, or two arguments for a nested "manifest refresh", that
// is one of `commands`, else null).
int usage_error(std::string_view program, const std::string& message, int argc,
                const char* const* argv, const std::vector<std::string>& commands);

// "hotfix-installer 0.1.0 (source 0ebed3f1a2b3)": the name, the version and the source
// revision it was built from, for --version.
std::string version_text(std::string_view program);

// What CLI11 does not do with the first word of the command line: `help [COMMAND]` prints the
// program's or that command's help, and a word that is no command is named with the nearest
// one suggested ("did you mean apply?"), exit 2 (as usage_error). nullopt: parse as usual.
std::optional<int> handle_command_word(CLI::App& app, int argc, const char* const* argv);

// Every subcommand's name, in the order they were added.
std::vector<std::string> command_names(CLI::App& app);
// The commands that run something: those without subcommands of their own, and each nested
// one as "GROUP NAME" ("manifest refresh"); a group alone is none.
std::vector<std::string> leaf_command_names(CLI::App& app);

// Parses argv for `app` as both programs do: handle_command_word first, then CLI11, whose
// --help and --version exit 0 and whose usage errors become usage_error. Returns the exit
// code when the run ends here; otherwise nullopt, with `command` set to the chosen command.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, std::string& command);

}  // namespace hotfix
