#include "manifests/cli_shell.h"

#include <iostream>

#include "manifests/terminal_text.h"

namespace hotfix {

void print_json(const nlohmann::ordered_json& doc) { std::cout << doc.dump(2) << "\n"; }

void print_error(std::string_view program, const Error& e, bool as_json) {
  std::vector<std::string> lines = e.lines();
  // One line per error, whatever the names it quotes hold.
  for (const std::string& l : lines)
    std::cerr << program << ": error: " << terminal_safe(l) << "\n";
  if (as_json) {
    print_json({{"ok", false},
                {"exit_code", static_cast<int>(exit_code_for(e.kind()))},
                {"errors", lines}});
  }
}

void print_warnings(std::string_view program, const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) {
    std::cerr << program << ": warning: " << terminal_safe(w) << "\n";
  }
}

int run_command(std::string_view program, bool as_json, const std::function<int()>& command) {
  try {
    return command();
  } catch (const Error& e) {
    print_error(program, e, as_json);
    return static_cast<int>(exit_code_for(e.kind()));
  } catch (const std::exception& e) {
    std::cerr << program << ": internal error: " << terminal_safe(e.what()) << "\n";
    return static_cast<int>(ExitCode::kInternal);
  }
}

}  // namespace hotfix
