#include "manifests/os_release.h"

#include <algorithm>

#include "manifests/case_fold.h"

namespace hotfix {

std::map<std::string, std::string> parse_os_release(std::string_view text) {
  std::map<std::string, std::string> values;
  std::size_t pos = 0;
  const std::size_t size = text.size();
  auto is_blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  auto skip_line = [&] {
    std::size_t end = text.find('\n', pos);
    pos = end == std::string_view::npos ? size : end + 1;
  };
  while (pos < size) {
    while (pos < size && (is_blank(text[pos]) || text[pos] == '\n')) ++pos;
    if (pos >= size) break;
    if (text[pos] == '#') {
      skip_line();
      continue;
    }
    const std::size_t line_start = pos;
    std::size_t eq = pos;
    while (eq < size && text[eq] != '=' && text[eq] != '\n') ++eq;
    std::string_view key = text.substr(pos, eq - pos);
    while (!key.empty() && is_blank(key.back())) key.remove_suffix(1);
    bool key_ok =
        !key.empty() && !(key[0] >= '0' && key[0] <= '9') &&
        std::all_of(key.begin(), key.end(), [](char c) { return is_ascii_alnum(c) || c == '_'; });
    if (eq >= size || text[eq] != '=' || !key_ok) {
      skip_line();
      continue;
    }
    pos = eq + 1;
    // As in the shell, "#" after an unquoted blank starts a comment.
    bool after_blank = false;
    while (pos < size && is_blank(text[pos])) {
      ++pos;
      after_blank = true;
    }

    // Shell-style value: unquoted text, "double quotes" (backslash escapes $ ` " \ and a
    // newline), 'single quotes' (literal). Trailing unquoted blanks are dropped.
    std::string value;
    std::size_t keep = 0;  // value length up to the last character that is not a trailing blank
    bool closed = true;
    while (pos < size && text[pos] != '\n') {
      char c = text[pos++];
      if (c == '\\') {
        if (pos >= size) break;
        char next = text[pos++];
        if (next != '\n') value += next;
        keep = value.size();
      } else if (c == '"') {
        closed = false;
        while (pos < size) {
          char q = text[pos++];
          if (q == '"') {
            closed = true;
            break;
          }
          if (q == '\\' && pos < size) {
            char next = text[pos];
            if (next == '\n') {
              ++pos;
              continue;
            }
            if (next == '$' || next == '`' || next == '"' || next == '\\') {
              value += next;
              ++pos;
              continue;
            }
          }
          value += q;
        }
        keep = value.size();
      } else if (c == '\'') {
        std::size_t end = text.find('\'', pos);
        if (end == std::string_view::npos) {
          closed = false;
          break;
        }
        value.append(text.substr(pos, end - pos));
        pos = end + 1;
        keep = value.size();
      } else if (c == '#' && after_blank) {
        std::size_t end = text.find('\n', pos);
        pos = end == std::string_view::npos ? size : end;
      } else {
        value += c;
        if (!is_blank(c)) keep = value.size();
      }
      after_blank = is_blank(c);
      if (!closed) break;
    }
    if (!closed) {
      // An unterminated quote: ignore the assignment and carry on after its line.
      pos = line_start;
      skip_line();
      continue;
    }
    value.resize(keep);
    values[std::string(key)] = std::move(value);
  }
  return values;
}

}  // namespace hotfix
