#!/usr/bin/env python3
# Reads the programs' own help (CLI11's layout) into commands, options and positionals, so
# that what is generated from it (shell completions) and what is checked against it (the man
# pages) both follow the programs instead of a list kept by hand.
#
# An option line starts with its names ("-q,--quiet"); then, for an option that takes a
# value, its type ("DIR", "FILE", "PATH", "ARCH=DIR", "{text,nagios}", "TEXT"...), CLI11's
# validator (":DIR"), a default ("=/") and notes ("Needs: --x"); then its description, on the
# same line from the description column or alone on the next line.
import re
import subprocess

HELP_OPTIONS = {"-h", "--help"}

HEADING = re.compile(r"^([A-Za-z][\w \[\]-]*):\s*$")
OPTION_NAMES = re.compile(r"^\s+(-{1,2}[A-Za-z0-9][\w.-]*(?:\{[^}]*\})?"
                          r"(?:\s*,\s*-{1,2}[A-Za-z0-9][\w.-]*(?:\{[^}]*\})?)*)")
TYPE = re.compile(r"\s+(\{[^}]*\}|[A-Z][A-Z0-9_]*(?:=[A-Z][A-Z0-9_]*)?)(?=[\s=:]|$)(:[A-Z]+)?")
POSITIONAL = re.compile(r"^\s+([A-Z][A-Z0-9_]*)(?:\s+|$)")


class Option:
    """One option or positional: its names, the type of its value (None for a flag), whether
    it may be given more than once, and its description."""

    def __init__(self, names, value_type, repeated, description):
        self.names = names
        self.value_type = value_type
        self.repeated = repeated
        self.description = description


class Help:
    def __init__(self):
        self.options = {}  # name -> Option (each of an option's names)
        self.positionals = []  # [Option], in order
        self.subcommands = []  # [(name, description)]

    def option_list(self):
        """Each option once, in the order of the help."""
        seen, out = set(), []
        for option in self.options.values():
            if id(option) not in seen:
                seen.add(id(option))
                out.append(option)
        return out


def run(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if p.returncode != 0:
        return None, "exit status %d: %s" % (p.returncode, p.stderr.strip())
    return p.stdout, None


def description_column(text):
    """Where descriptions start: a line indented that far continues a description (and may
    begin with "--"), so only lines indented less can name options."""
    m = re.search(r"^(\s+-h,\s*--help\s+)\S", text, re.M)
    return len(m.group(1)) if m else 30


def split_entry(lines, i, column):
    """(head, description) of the entry at lines[i]: the description starts at the column on
    the same line, or is the next line when the head reaches past it."""
    line = lines[i]
    if len(line) > column and line[column - 1] == " " and line[:column].strip():
        if not line[column - 2:column].strip():
            return line[:column].rstrip(), line[column:].strip()
    following = lines[i + 1] if i + 1 < len(lines) else ""
    if len(following) - len(following.lstrip()) >= column:
        return line.rstrip(), following.strip()
    return line.rstrip(), ""


def value_of(rest):
    """(value type or None, repeated) from what follows an option's names."""
    m = TYPE.match(rest)
    if not m:
        return None, False
    value_type = m.group(1)
    if value_type in ("TEXT", "INT", "UINT", "FLOAT") and m.group(2):
        value_type = m.group(2)[1:]  # CLI11's validator says more: TEXT:DIR
    return value_type, bool(re.search(r"\s\.\.\.(\s|$)", rest))


def parse_help(text):
    """The Help of one CLI11 help page."""
    helped, section = Help(), None
    column = description_column(text)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if len(line) - len(line.lstrip()) >= column:
            continue
        heading = HEADING.match(line)
        if heading and not line.startswith(" "):
            section = heading.group(1).strip().lower()
            continue
        if section is None or not line.strip() or section == "usage":
            continue
        head, description = split_entry(lines, i, column)
        if section == "subcommands":
            m = re.match(r"^\s+([A-Za-z0-9][\w-]*)(\s|$)", head)
            if m:
                helped.subcommands.append((m.group(1), description))
        elif section == "positionals":
            m = POSITIONAL.match(head)
            if m:
                # An operand's name says what it is where its type does not (BUNDLE TEXT).
                value_type, repeated = value_of(head[m.end() - 1:])
                if value_type in (None, "TEXT"):
                    value_type = m.group(1)
                helped.positionals.append(Option([m.group(1)], value_type, repeated,
                                                 description))
        else:
            # Any other heading is an option group ("Options:", or a group of its own).
            m = OPTION_NAMES.match(head)
            if m:
                names = [re.sub(r"\{.*\}$", "", n) for n in re.split(r"\s*,\s*", m.group(1))]
                value_type, repeated = value_of(head[m.end():])
                option = Option(names, value_type, repeated, description)
                for name in names:
                    helped.options[name] = option
    return helped


def commands_of(program, problems):
    """(the program's own Help, {command path ("apply", "manifest refresh"): Help}) for every
    command of program; a command that only groups others is listed when it has options."""
    top, err = run([program, "--help"])
    if err:
        problems.append("%s --help: %s" % (program, err))
        return Help(), {}
    top_help = parse_help(top)
    if not top_help.subcommands:
        problems.append("%s --help: no subcommands found in its output" % program)
    commands = {}

    def visit(path):
        text, err = run([program, "help"] + path)
        helped = parse_help(text or "")
        if len(path) > 1 and (err or helped.subcommands):
            # A program whose help takes one topic only: ask the nested command itself.
            text, err = run([program] + path + ["--help"])
            helped = parse_help(text or "")
        if err:
            problems.append("%s help %s: %s" % (program, " ".join(path), err))
            return
        for sub, _ in helped.subcommands:
            visit(path + [sub])
        commands[" ".join(path)] = helped

    for name, _ in top_help.subcommands:
        visit([name])
    return top_help, commands
