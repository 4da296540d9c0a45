// Text read from input (file names, titles, process command lines, messages that quote them)
// made safe to print on a terminal: a name holding an escape sequence must not clear the
// screen or retitle the window, and one holding a newline must not forge an "error:" line.
// --json output never goes through this: JSON escapes control characters itself.
#pragma once

#include <string>
#include <string_view>

namespace hotfix {

// Every C0 control character (newline and tab included), DEL, and C1 control (U+0080 to
// U+009F in UTF-8, or a byte 0x80-0x9F outside a UTF-8 sequence) becomes a visible escape:
// "\n", "\t", "\x1b", "\u009b", "\x9b". Everything else, valid UTF-8 included, is unchanged.
std::string terminal_safe(std::string_view text);

// The same, keeping the newlines: for multi-line text this program laid out itself (a table,
// a file list) whose fields came from input.
std::string terminal_safe_lines(std::string_view text);

}  // namespace hotfix
