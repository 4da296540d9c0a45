#!/usr/bin/env python3
# Checks that the generated man pages tell the truth about the programs: every command has
# its subsection, every option of a command is an item there, no subsection names an option
# the command lacks, hotfix-manifest(5) names every property of the manifest's JSON Schema,
# and groff renders each page without a warning.
#
# A command's subsection is its .SS under COMMANDS ("manifest refresh" for a nested one). A
# page names an option by writing it as code (bold), or in an item's tag; an option inside
# other code (`/bin/sh -c`) is not taken for one of the command's.
#
# Usage: check_man_pages.py --installer PATH --packager PATH --pages DIR --schema SCHEMA.json
# Exit status 0 when every check passes, 1 when any fails (each problem is listed).
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts"))
import cli_help  # noqa: E402  (the programs' help, shared with the shell completions)

HELP_OPTIONS = cli_help.HELP_OPTIONS


def commands_of(program, problems):
    """(the program's own options, {command path: options}); a command that only groups
    others needs no subsection of its own."""
    top, commands = cli_help.commands_of(program, problems)
    documented = {}
    for path, helped in commands.items():
        options = set(helped.options)
        if not helped.subcommands or options - HELP_OPTIONS:
            documented[path] = options
    return set(top.options), documented


# ---- the pages (man(7) roff) --------------------------------------------------------------

ESCAPE = re.compile(r"\\(f(?:\[[^\]]*\]|\(..|.)|\(..|\[[^\]]*\]|.)|-")
SPECIAL = {"aq": "'", "ga": "`", "ti": "~", "ha": "^", "bu": "*", "dq": '"'}


def plain(roff):
    """The text of a roff line, with a minus written \\- kept as '-' and a hyphen written
    '-' turned into U+2010, so that only what the page wrote as an option reads as one."""
    def one(m):
        s = m.group(0)
        if s == "-":
            return "\u2010"
        e = m.group(1)
        if e == "-":
            return "-"
        if e == "e":
            return "\\"
        if e.startswith("f") or e in ("&", "%", "c"):
            return ""
        if e.startswith("("):
            return SPECIAL.get(e[1:], "?")
        if e.startswith("[u") and re.fullmatch(r"\[u[0-9A-F]{4,6}\]", e):
            return chr(int(e[2:-1], 16))
        if e.startswith("["):
            return SPECIAL.get(e[1:-1], "?")
        return e
    return ESCAPE.sub(one, roff)


def macro(line):
    m = re.match(r"^\.\s*(\S+)\s*(.*)$", line)
    if not m:
        return None, None
    return m.group(1), m.group(2).strip().strip('"')


class Page:
    def __init__(self, path):
        with open(path, encoding="utf-8", errors="replace") as f:
            self.lines = f.read().splitlines()
        # sections: name -> [(subsection or None, line)]
        self.sections, section, sub = {}, None, None
        for line in self.lines:
            name, arg = macro(line)
            if name == "SH":
                section, sub = plain(arg).upper(), None
                self.sections.setdefault(section, [])
                continue
            if name == "SS":
                sub = plain(arg)
            if section is not None:
                self.sections[section].append((sub, line))

    def subsections(self, section):
        out = {}
        for sub, line in self.sections.get(section, []):
            if sub is not None:
                out.setdefault(sub, []).append(line)
        return out

    def top_of(self, section):
        return [line for sub, line in self.sections.get(section, []) if sub is None]


LONG = re.compile(r"(?<![\w\u2010-])--[A-Za-z0-9][\w-]*")
SHORT = re.compile(r"(?<![\w\u2010-])-[A-Za-z0-9](?![\w\u2010-])")


def text_of(line):
    name, arg = macro(line)
    if name is None:
        return plain(line)
    return plain(arg) if name in ("B", "I", "BI", "BR", "IB", "IR", "RB", "RI", "TP", "IP") else ""


BOLD = re.compile(r"\\fB(.*?)(?=\\f[RPI]|$)")


def bold_spans(line):
    return [plain(m.group(1)).strip() for m in BOLD.finditer(line)]


def options_named(lines):
    """The options a subsection names: in its items' tags, and wherever a bold span (code)
    starts with one. An option of another program inside code (`/bin/sh -c`) is no name."""
    found = set()
    for tag in item_tags(lines):
        found.update(o.rstrip("-") for o in LONG.findall(tag))
        found.update(SHORT.findall(tag))
    for line in lines:
        for span in bold_spans(line):
            m = re.match(r"^--?[A-Za-z0-9][\w-]*", span)
            if m and (LONG.fullmatch(m.group(0)) or SHORT.fullmatch(m.group(0))):
                found.add(m.group(0).rstrip("-"))
    return found


def item_tags(lines):
    """The tag line of each .TP item, as plain text."""
    tags = []
    for i, line in enumerate(lines):
        if macro(line)[0] == "TP" and i + 1 < len(lines):
            tags.append(text_of(lines[i + 1]))
    return tags


def check_options(where, documented_lines, actual, problems):
    tags = item_tags(documented_lines)
    defined = set()
    for tag in tags:
        defined.update(o.rstrip("-") for o in LONG.findall(tag))
        defined.update(SHORT.findall(tag))
    for option in sorted(actual - HELP_OPTIONS - defined):
        problems.append("%s: option %s is not documented (no item names it)" % (where, option))
    for option in sorted(options_named(documented_lines) - actual):
        problems.append("%s: names option %s, which the program does not have (stale page)"
                        % (where, option))


def check_program(label, program, page, problems):
    top_options, commands = commands_of(program, problems)
    check_options("%s: OPTIONS" % label, page.top_of("OPTIONS"), top_options, problems)
    subsections = page.subsections("COMMANDS")
    if not subsections:
        problems.append("%s: no COMMANDS section with a subsection per command" % label)
    for command, options in commands.items():
        if command not in subsections:
            problems.append("%s: command '%s' has no subsection in COMMANDS" % (label, command))
            continue
        check_options("%s: %s" % (label, command), subsections[command], options, problems)
    for sub in subsections:
        if commands and sub not in commands:
            problems.append("%s: COMMANDS has a subsection '%s', which is no command of the "
                            "program (stale page)" % (label, sub))
    return len(commands)


# ---- hotfix-manifest(5) against the schema ------------------------------------------------

def property_names(node, out):
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            out.update(props)
        for value in node.values():
            property_names(value, out)
    elif isinstance(node, list):
        for value in node:
            property_names(value, out)
    return out


def check_manifest_page(label, page, schema_path, problems):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    defs = schema.get("$defs", {})
    # The fields a reader looks up are items; names inside other objects need only be named.
    as_items = set(schema.get("properties", {}))
    for name in ("file", "prerequisite", "bundle"):
        as_items.update(defs.get(name, {}).get("properties", {}))
    everywhere = property_names(schema, set())
    tags = {re.split(r"[\s(]", t.strip(), 1)[0] for t in item_tags(page.lines)}
    bold = {span.strip('"') for line in page.lines for span in bold_spans(line)}
    for name in sorted(as_items - tags):
        problems.append("%s: schema property '%s' has no item of its own" % (label, name))
    for name in sorted(everywhere - as_items - bold):
        problems.append("%s: schema property '%s' is not named" % (label, name))
    return len(everywhere)


# ---- rendering ----------------------------------------------------------------------------

def check_render(label, path, problems):
    if not shutil.which("groff"):
        problems.append("%s: groff is not installed, so the page cannot be checked" % label)
        return
    p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path],
                       capture_output=True, text=True, timeout=60)
    for line in p.stderr.splitlines():
        problems.append("%s: groff: %s" % (label, line))
    if p.returncode != 0 and not p.stderr.strip():
        problems.append("%s: groff exited with status %d" % (label, p.returncode))


def main():
    parser = argparse.ArgumentParser(description="Check the man pages against the programs.")
    parser.add_argument("--installer", required=True, help="the hotfix-installer program")
    parser.add_argument("--packager", required=True, help="the hotfix-packager program")
    parser.add_argument("--pages", required=True, help="directory of the generated pages")
    parser.add_argument("--schema", required=True, help="docs/manifest.schema.json")
    args = parser.parse_args()

    problems, checked = [], []
    pages = {}
    for name in ("hotfix-installer.1", "hotfix-packager.1", "hotfix-manifest.5"):
        path = os.path.join(args.pages, name)
        if not os.path.isfile(path):
            problems.append("%s: missing from %s" % (name, args.pages))
            continue
        pages[name] = Page(path)
        check_render(name, path, problems)
    for name, program in (("hotfix-installer.1", args.installer),
                          ("hotfix-packager.1", args.packager)):
        if name in pages:
            n = check_program(name, program, pages[name], problems)
            checked.append("%s: %d commands" % (name, n))
    if "hotfix-manifest.5" in pages:
        n = check_manifest_page("hotfix-manifest.5", pages["hotfix-manifest.5"], args.schema,
                                problems)
        checked.append("hotfix-manifest.5: %d schema properties" % n)

    for line in checked:
        print("checked %s" % line)
    if problems:
        print("%d problem%s:" % (len(problems), "" if len(problems) == 1 else "s"))
        for p in problems:
            print("  " + p)
        return 1
    print("man pages: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
