// Text from input printed on a terminal (manifests/terminal_text.h): controls become visible
// escapes, everything printable stays as it is.
#include "manifests/terminal_text.h"

#include <catch2/catch.hpp>
#include <string>

using hotfix::terminal_safe;
using hotfix::terminal_safe_lines;

TEST_CASE("C0 controls, DEL and C1 controls become visible escapes") {
  CHECK(terminal_safe("a\x1b[2Jb") == "a\\x1b[2Jb");                 // clear screen
  CHECK(terminal_safe("\x1b]0;owned\x07") == "\\x1b]0;owned\\x07");  // window title
  CHECK(terminal_safe("x.dll\nhotfix-installer: error: forged") ==
        "x.dll\\nhotfix-installer: error: forged");
  CHECK(terminal_safe("tab\there\r") == "tab\\there\\r");
  CHECK(terminal_safe(std::string("nul\0x", 5)) == "nul\\x00x");
  CHECK(terminal_safe("del\x7f") == "del\\x7f");
  CHECK(terminal_safe("csi\xc2\x9b"
                      "2J") == "csi\\u009b2J");  // U+009B, the 8-bit CSI
  CHECK(terminal_safe("raw\x9b"
                      "2J") == "raw\\x9b2J");  // a lone byte, not UTF-8
  CHECK(terminal_safe("\xff\xfe") == "\\xff\\xfe");
  CHECK(terminal_safe("\xe0\x80\x80") == "\\xe0\\x80\\x80");  // overlong
}

TEST_CASE("Printable text, UTF-8 included, is unchanged") {
  for (const char* text :
       {"Admwprox.dll",
        "Gr\xc3\xb6\xc3\x9f"
        "e.dll",
        "\xc3\x89.dll", "\xe2\x82\xac \xf0\x9f\x94\xa7", "\xc4\x80", "a\\b \"q\" %s"}) {
    INFO(text);
    CHECK(terminal_safe(text) == text);
  }
}

TEST_CASE("terminal_safe_lines keeps the newlines of text laid out by the program") {
  CHECK(terminal_safe_lines("| a\x1b | b |\n| c | d |\n") == "| a\\x1b | b |\n| c | d |\n");
}
