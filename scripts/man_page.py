#!/usr/bin/env python3
# Converts one man page source, written in a small Markdown dialect, to roff (man(7)).
#
# Usage: man_page.py SOURCE.md OUTPUT --version VERSION --date YYYY-MM-DD
#
# The page's name and section come from the source's name (hotfix-installer.1.md is
# HOTFIX-INSTALLER in section 1). The dialect is this and nothing more:
#
#   # NAME -- SUMMARY     first line: the NAME section ("NAME \- SUMMARY")
#   ## SECTION           a section (.SH), written as given
#   ### SUBSECTION       a subsection (.SS)
#   text lines           lines up to a blank line are one paragraph (.PP)
#   ```                  a code block up to the next ``` line, verbatim (.nf/.fi)
#   - text               a bullet (.IP); lines indented under it continue it
#   TERM                 a definition item (.TP): a term line, then a line starting
#   : meaning            ": "; lines indented under it continue the meaning, and
#                        another ": " line starts a second paragraph of it
#   **bold**  `code`  *italic*   inline; code is bold and literal
#
# Anything else is a paragraph. Hyphens in code, and in option words of the text
# (--root, -q), are written \- so that they print as the minus a user types.
import argparse
import datetime
import re
import sys

MANUALS = {"1": "User Commands", "5": "File Formats Manual"}


def escape(text, code=False):
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\e")
        elif code and ch == "-":
            out.append("\\-")
        elif code and ch == "'":
            out.append("\\(aq")  # an apostrophe, not a closing quote
        elif code and ch == "`":
            out.append("\\(ga")
        elif code and ch == "~":
            out.append("\\(ti")
        elif code and ch == "^":
            out.append("\\(ha")
        elif ord(ch) > 127:
            # \[uXXXX] reads the same whatever input encoding groff assumes.
            out.append("\\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


OPTION_WORD = re.compile(r"(?<![\w-])--?[A-Za-z0-9][\w-]*")


def escape_prose(text):
    pieces, last = [], 0
    for m in OPTION_WORD.finditer(text):
        pieces.append(escape(text[last:m.start()]))
        pieces.append(escape(m.group(0), code=True))
        last = m.end()
    pieces.append(escape(text[last:]))
    return "".join(pieces)


INLINE = re.compile(r"`([^`]+)`|\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")


def inline(text):
    pieces, last = [], 0
    for m in INLINE.finditer(text):
        pieces.append(escape_prose(text[last:m.start()]))
        code, bold, italic = m.groups()
        if code is not None:
            # \% keeps groff from hyphenating a name; only at a word's start, since
            # inside a word it would mark a place to hyphenate instead.
            starts_word = m.start() == 0 or text[m.start() - 1] == " "
            pieces.append("\\fB" + ("\\%" if starts_word else "") + escape(code, code=True)
                          + "\\fR")
        elif bold is not None:
            pieces.append("\\fB" + escape_prose(bold) + "\\fR")
        else:
            pieces.append("\\fI" + escape_prose(italic) + "\\fR")
        last = m.end()
    pieces.append(escape_prose(text[last:]))
    return text_line("".join(pieces))


def text_line(line):
    # A line starting with a dot or an apostrophe would be read as a request.
    return "\\&" + line if line[:1] in (".", "'") else line


def macro_arg(text):
    return '"' + escape(text).replace('"', "\\(dq") + '"'


def is_indented(line):
    return line.startswith("  ") and line.strip() != ""


def is_definition(line):
    return line.startswith(": ")


class Converter:
    def __init__(self, lines, source):
        self.lines = lines
        self.source = source
        self.out = []
        self.after_heading = True
        self.after_bullet = False

    def fail(self, n, message):
        sys.exit("%s:%d: %s" % (self.source, n + 1, message))

    def paragraph_break(self):
        if not self.after_heading:
            self.out.append(".PP")
        self.after_heading = self.after_bullet = False

    def run(self):
        lines, i = self.lines, 0
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
            elif line.startswith("### "):
                self.out.append(".SS " + macro_arg(line[4:].strip()))
                self.after_heading, self.after_bullet = True, False
                i += 1
            elif line.startswith("## "):
                self.out.append(".SH " + macro_arg(line[3:].strip()))
                self.after_heading, self.after_bullet = True, False
                i += 1
            elif line.startswith("#"):
                self.fail(i, "only the first line may be a title, and only ## and ### headings follow")
            elif line.strip() == "```":
                i = self.code_block(i)
            elif line.startswith("- "):
                i = self.bullet(i)
            elif i + 1 < len(lines) and is_definition(lines[i + 1]):
                i = self.definition(i)
            else:
                i = self.paragraph(i)
        return self.out

    def code_block(self, i):
        end = i + 1
        while end < len(self.lines) and self.lines[end].strip() != "```":
            end += 1
        if end == len(self.lines):
            self.fail(i, "code block without its closing ```")
        self.paragraph_break()
        self.out += [".RS 4", ".nf"]
        for line in self.lines[i + 1:end]:
            self.out.append(text_line(escape(line, code=True)) if line else "\\&")
        self.out += [".fi", ".RE"]
        return end + 1

    def bullet(self, i):
        text = [self.lines[i][2:].strip()]
        i += 1
        while i < len(self.lines) and is_indented(self.lines[i]):
            text.append(self.lines[i].strip())
            i += 1
        self.after_heading = False
        self.out += [".IP \\(bu 2", inline(" ".join(text))]
        self.after_bullet = True
        return i

    def definition(self, i):
        # A bullet's .IP set the indentation .TP would take: .PP puts it back.
        if self.after_bullet:
            self.out.append(".PP")
        self.after_heading = self.after_bullet = False
        self.out += [".TP", inline(self.lines[i].strip())]
        i += 1
        paragraphs = []
        while i < len(self.lines) and (is_indented(self.lines[i]) or is_definition(self.lines[i])):
            line = self.lines[i].strip()
            if is_definition(self.lines[i]):
                paragraphs.append([line[2:].strip()])
            else:
                paragraphs[-1].append(line)
            i += 1
        for n, text in enumerate(paragraphs):
            if n:
                self.out.append(".IP")
            self.out.append(inline(" ".join(text)))
        return i

    def paragraph(self, i):
        text = []
        while i < len(self.lines):
            line = self.lines[i]
            if (not line.strip() or line.startswith("#") or line.strip() == "```"
                    or line.startswith("- ")
                    or (i + 1 < len(self.lines) and is_definition(self.lines[i + 1]))):
                break
            text.append(line.strip())
            i += 1
        self.paragraph_break()
        self.out.append(inline(" ".join(text)))
        return i


def main():
    parser = argparse.ArgumentParser(description="Convert a man page source to roff.")
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--version", required=True)
    parser.add_argument("--date", required=True, help="YYYY-MM-DD")
    args = parser.parse_args()
    try:
        datetime.date.fromisoformat(args.date)
    except ValueError:
        parser.error("--date: %r is not YYYY-MM-DD" % args.date)

    m = re.match(r"^(?:.*/)?([a-z0-9][a-z0-9-]*)\.([1-9])\.md$", args.source)
    if not m:
        parser.error("the source must be named NAME.SECTION.md, like hotfix-installer.1.md")
    name, section = m.groups()
    with open(args.source, encoding="utf-8") as f:
        lines = f.read().splitlines()
    title = re.match(r"^# (\S+) -- (.+)$", lines[0]) if lines else None
    if not title or title.group(1) != name:
        sys.exit("%s:1: the first line must be '# %s -- SUMMARY'" % (args.source, name))

    out = [
        ".\\\" Generated by scripts/man_page.py from %s; edit that file instead."
        % args.source.rsplit("/", 1)[-1],
        ".TH %s %s %s %s %s" % (macro_arg(name.upper()), section, macro_arg(args.date),
                                macro_arg("hotfix " + args.version),
                                macro_arg(MANUALS.get(section, "hotfix"))),
        ".SH NAME",
        "%s \\- %s" % (escape(name), escape_prose(title.group(2))),
    ]
    out += Converter(lines[1:], args.source).run()
    with open(args.output, "w", encoding="ascii") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
