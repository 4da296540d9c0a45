#include "manifests/cli_shell.h"

#include <algorithm>
#include <iostream>

#include "manifests/terminal_text.h"

namespace hotfix {

namespace {

using json = nlohmann::ordered_json;

// "hotfix-installer.apply.v1": the name of the JSON Schema the envelope follows
// (docs/schemas/); a run without a command follows the bare envelope's.
// A nested command ("manifest refresh") is spelled with '-' in the schema's name.
std::string schema_name(const std::string& program, const std::string& command) {
  std::string name = command;
  std::replace(name.begin(), name.end(), ' ', '-');
  return program + (name.empty() ? "" : "." + name) + ".v1";
}

json envelope_for(const std::string& program, const std::string& command, int exit_code, json data,
                  json errors, json warnings) {
  const bool ok = exit_code == static_cast<int>(ExitCode::kSuccess) ||
                  exit_code == static_cast<int>(ExitCode::kRestartRequired);
  return {{"schema", schema_name(program, command)},
          {"ok", ok},
          {"exit_code", exit_code},
          {"command", command.empty() ? json(nullptr) : json(command)},
          {"data", std::move(data)},
          {"errors", std::move(errors)},
          {"warnings", std::move(warnings)}};
}

json error_object(ErrorKind kind, const std::string& where, const std::string& message) {
  return {{"kind", std::string(error_kind_token(kind))},
          {"where", where.empty() ? json(nullptr) : json(where)},
          {"message", message}};
}

// Levenshtein distance, for "did you mean": words are short.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : ", ") + w;
  return text;
}

// "unknown command 'aply': did you mean 'apply'?", or the list of commands when none is near.
std::string unknown_command_message(const std::string& word,
                                    const std::vector<std::string>& commands) {
  std::string nearest;
  std::size_t best = std::string::npos;
  for (const std::string& c : commands) {
    std::size_t d = edit_distance(word, c);
    bool prefix = c.rfind(word, 0) == 0 && word.size() >= 2;
    if (prefix) d = 1;
    if (d < best) best = d, nearest = c;
  }
  std::string text = "unknown command '" + word + "'";
  if (best <= std::max<std::size_t>(2, word.size() / 3)) {
    return text + ": did you mean '" + nearest + "'?";
  }
  return text + "; the commands are " + join(commands);
}

}  // namespace

std::string_view error_kind_token(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kBadInput:
      return "bad_input";
    case ErrorKind::kSignature:
      return "signature";
    case ErrorKind::kVerification:
      return "verification";
    case ErrorKind::kNotApplicable:
      return "not_applicable";
    case ErrorKind::kBusy:
      return "busy";
    case ErrorKind::kSystem:
      return "system";
    case ErrorKind::kStateDamaged:
      return "state_damaged";
    case ErrorKind::kMetadata:
      return "metadata";
    case ErrorKind::kUnreachable:
      return "unreachable";
    case ErrorKind::kInternal:
      return "internal";
  }
  return "internal";
}

CommandOutput::CommandOutput(std::string program, std::string command, bool json)
    : program_(std::move(program)), command_(std::move(command)), json_(json) {}

void CommandOutput::warn(const std::string& line) {
  std::cerr << program_ << ": warning: " << terminal_safe(line) << "\n";
  warnings_.push_back(line);
}

void CommandOutput::error(ErrorKind kind, const std::string& line) {
  std::cerr << program_ << ": error: " << terminal_safe(line) << "\n";
  errors_.push_back(error_object(kind, "", line));
}

void CommandOutput::fail(const Error& e) {
  std::vector<std::string> lines = e.lines();
  // One line per error, whatever the names it quotes hold.
  for (const std::string& l : lines) {
    std::cerr << program_ << ": error: " << terminal_safe(l) << "\n";
  }
  if (lines.size() == 1) {
    errors_.push_back(error_object(e.kind(), e.where(), e.message()));
  } else {
    for (const std::string& l : lines) errors_.push_back(error_object(e.kind(), "", l));
  }
}

json CommandOutput::envelope(int exit_code) const {
  return envelope_for(program_, command_, exit_code, data, errors_, warnings_);
}

void print_json(const json& doc) { std::cout << doc.dump(2) << "\n"; }

int run_command(CommandOutput& out, const std::function<int()>& command) {
  int code = 0;
  try {
    code = command();
  } catch (const Error& e) {
    out.fail(e);
    code = static_cast<int>(exit_code_for(e.kind()));
  } catch (const std::exception& e) {
    out.fail(Error(ErrorKind::kInternal, "", std::string("internal error: ") + e.what()));
    code = static_cast<int>(ExitCode::kInternal);
  }
  if (out.json()) print_json(out.envelope(code));
  return code;
}

int usage_error(std::string_view program, const std::string& message, int argc,
                const char* const* argv, const std::vector<std::string>& commands) {
  std::cerr << program << ": error: " << terminal_safe(message) << "\n";
  bool as_json = false;
  std::string command;
  auto known = [&](const std::string& name) {
    return std::find(commands.begin(), commands.end(), name) != commands.end();
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json") as_json = true;
    if (!command.empty()) continue;
    if (i + 1 < argc && known(arg + " " + argv[i + 1])) {
      command = arg + " " + argv[i + 1];
    } else if (known(arg)) {
      command = arg;
    }
  }
  const int code = static_cast<int>(ExitCode::kBadInput);
  if (as_json) {
    json errors = json::array({error_object(ErrorKind::kBadInput, "", message)});
    print_json(envelope_for(std::string(program), command, code, nullptr, errors, json::array()));
  }
  return code;
}

}  // namespace hotfix

namespace hotfix {

std::string version_text(std::string_view program) {
  return std::string(program) + " " + HOTFIX_VERSION + " (source " + HOTFIX_SOURCE_REVISION + ")";
}

std::vector<std::string> command_names(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* c : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(c->get_name());
  }
  return names;
}

std::vector<std::string> leaf_command_names(CLI::App& app) {
  std::vector<std::string> names;
  auto all = [](const CLI::App*) { return true; };
  for (CLI::App* c : app.get_subcommands(all)) {
    std::vector<CLI::App*> nested = c->get_subcommands(all);
    if (nested.empty()) names.push_back(c->get_name());
    for (const CLI::App* n : nested) names.push_back(c->get_name() + " " + n->get_name());
  }
  return names;
}

std::optional<int> handle_command_word(CLI::App& app, int argc, const char* const* argv) {
  std::vector<std::string> commands = command_names(app);
  if (argc < 2 || argv[1][0] == '-') return std::nullopt;
  const std::string word = argv[1];
  if (word == "help") {
    if (argc == 2) {
      std::cout << app.help();
      return 0;
    }
    const std::string topic = argv[2];
    if (std::find(commands.begin(), commands.end(), topic) == commands.end()) {
      return usage_error(app.get_name(), unknown_command_message(topic, commands), argc, argv,
                         commands);
    }
    CLI::App* sub = app.get_subcommand(topic);
    // help manifest refresh: a nested command's own page.
    if (argc > 3) {
      for (CLI::App* nested : sub->get_subcommands([](const CLI::App*) { return true; })) {
        if (nested->get_name() == argv[3]) sub = nested;
      }
    }
    std::cout << sub->help();
    return 0;
  }
  if (std::find(commands.begin(), commands.end(), word) == commands.end()) {
    return usage_error(app.get_name(), unknown_command_message(word, commands), argc, argv,
                       commands);
  }
  // A group's word that is none of its commands ("repo frob"), named the same way.
  std::vector<std::string> nested;
  for (const CLI::App* c :
       app.get_subcommand(word)->get_subcommands([](const CLI::App*) { return true; })) {
    nested.push_back(c->get_name());
  }
  if (nested.empty() || argc < 3 || argv[2][0] == '-' ||
      std::find(nested.begin(), nested.end(), argv[2]) != nested.end()) {
    return std::nullopt;
  }
  return usage_error(app.get_name(), word + ": " + unknown_command_message(argv[2], nested), argc,
                     argv, leaf_command_names(app));
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv, std::string& command) {
  if (std::optional<int> code = handle_command_word(app, argc, argv)) return code;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(app.get_name(), e.what(), argc, argv, leaf_command_names(app));
  }
  for (const CLI::App* c : app.get_subcommands()) {
    command = c->get_name();
    for (const CLI::App* nested : c->get_subcommands()) command += " " + nested->get_name();
  }
  return std::nullopt;
}

}  // namespace hotfix
