#!/usr/bin/env python3
# Writes bash and zsh completions for one program from its own help, so that every command
# and option the program has completes, and nothing it lacks does.
#
# Usage: shell_completions.py PROGRAM OUTDIR [--name NAME]
#   writes OUTDIR/NAME.bash (for bash-completion, installed as NAME) and OUTDIR/_NAME (for
#   zsh's fpath); NAME defaults to the program's file name.
#
# What a value completes to follows its type in the help (scripts/cli_help.py reads it):
#   DIR                          directories
#   FILE, PATH, PREFIX           files (and directories, to walk to them)
#   BUNDLE, MANIFEST, INPUT      files named *.hotfix, *.json, either
#   ARCH=DIR                     an architecture (the words of the program's --arch), then
#                                a directory after the "="
#   {a,b,c}                      one of the words
#   COMMAND                      a command name
#   ID                           an installed hotfix id: PROGRAM list --json, for the --root
#                                given on the line (list only reads the root)
#   anything else                nothing (a number, a time, free text)
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_help  # noqa: E402

FILE_TYPES = {"FILE", "PATH", "PREFIX"}
GLOBS = {"BUNDLE": ["hotfix"], "MANIFEST": ["json"], "INPUT": ["json", "hotfix"]}  # extensions


def kind(value_type):
    """What a value of this type completes to: dir, file, glob, arch-dir, words, command,
    id or none."""
    if value_type is None:
        return "flag"
    if value_type.startswith("{"):
        return "words"
    if value_type == "DIR":
        return "dir"
    if value_type in FILE_TYPES:
        return "file"
    if value_type in GLOBS:
        return "glob"
    if value_type == "ARCH=DIR":
        return "arch-dir"
    if value_type in ("COMMAND", "ID"):
        return value_type.lower()
    return "none"


def alternatives(extensions, pattern):
    """One extension as it is, several as pattern ("@(%s)" for bash, "(%s)" for zsh)."""
    return extensions[0] if len(extensions) == 1 else pattern % "|".join(extensions)


def bash_glob_cases():
    return "\n".join("    %s) _@F@_files '%s' ;;" % (t, alternatives(e, "@(%s)"))
                     for t, e in GLOBS.items())


def words_of(value_type):
    return value_type.strip("{}").split(",")


def tree(program):
    problems = []
    top, commands = cli_help.commands_of(program, problems)
    if problems:
        raise SystemExit("shell_completions: " + "; ".join(problems))
    return top, commands


def arches(commands):
    """The architectures an ARCH=DIR names: the words the program's --arch takes."""
    found = set()
    uses = False
    for helped in commands.values():
        for option in helped.option_list():
            uses = uses or option.value_type == "ARCH=DIR"
            if "--arch" in option.names and kind(option.value_type) == "words":
                found.update(words_of(option.value_type))
    if uses and not found:
        raise SystemExit("shell_completions: an option takes ARCH=DIR, but no --arch names "
                         "the architectures as {a,b,...}")
    return " ".join(sorted(found))


def identifier(name):
    return re.sub(r"[^A-Za-z0-9]", "_", name)


# ---- bash -----------------------------------------------------------------------------

BASH_ENGINE = r'''
# The command on the line so far, the --root given, and whether the word before the
# cursor is an option waiting for its value.
_@F@() {
    local cur="" prev="" words=() cword=0 split=""
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -s || return
    else
        # Without bash-completion: split the line at blanks only, then as it would.
        COMPREPLY=()
        local line=${COMP_LINE:0:COMP_POINT}
        read -ra words <<<"$line"
        [[ $line == *[[:blank:]] || ${#words[@]} -eq 0 ]] && words+=("")
        cword=$((${#words[@]} - 1))
        cur=${words[cword]} prev=${words[cword - 1]}
        if [[ $cur == --?*=* ]]; then
            prev=${cur%%=*} cur=${cur#*=} split=true
        fi
    fi
    local path="" root="" want="" i w
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -n $want ]]; then
            [[ $want == --root ]] && root=$w
            want=""
            continue
        fi
        case $w in
        --root=*) root=${w#--root=} ;;
        -*=*) ;;
        -*) [[ -n $(_@F@_value "${path:+$path }$w") ]] && want=$w ;;
        *) [[ " $(_@F@_commands "$path") " == *" $w "* ]] && path=${path:+$path }$w ;;
        esac
    done
    [[ $split == true ]] && want=$prev
    if [[ -n $want ]]; then
        _@F@_complete "$(_@F@_value "${path:+$path }$want")" "$root"
    elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_@F@_options "$path")" -- "$cur"))
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace
    elif [[ -n $(_@F@_commands "$path") ]]; then
        COMPREPLY=($(compgen -W "$(_@F@_commands "$path")" -- "$cur"))
    elif [[ ${path%% *} == help ]]; then
        COMPREPLY=()
    else
        _@F@_complete "$(_@F@_positional "$path")" "$root"
    fi
}

# _@F@_complete TYPE ROOT: COMPREPLY for a value of TYPE (see the help's types).
_@F@_complete() {
    case $1 in
    DIR) _@F@_files -d ;;
    FILE | PATH | PREFIX) _@F@_files ;;
@GLOB_CASES@
    ARCH=DIR)
        if [[ $cur == *=* ]]; then
            cur=${cur#*=}
            _@F@_files -d
        else
            COMPREPLY=($(compgen -W "@ARCHES@" -S = -- "$cur"))
            compopt -o nospace
        fi
        ;;
    COMMAND) COMPREPLY=($(compgen -c -- "$cur")) ;;
    ID) COMPREPLY=($(compgen -W "$(_@F@_ids "$2")" -- "$cur")) ;;
    \{*\})
        local choices=${1#\{}
        choices=${choices%\}}
        COMPREPLY=($(compgen -W "${choices//,/ }" -- "$cur"))
        ;;
    *) COMPREPLY=() ;;
    esac
}

# _@F@_files [-d | EXTENSION]: file names, with bash-completion's quoting when it is there.
_@F@_files() {
    if declare -F _filedir >/dev/null 2>&1; then
        _filedir "$@"
        return
    fi
    local IFS=$'\n' ext
    compopt -o filenames
    case $1 in
    -d) COMPREPLY=($(compgen -d -- "$cur")) ;;
    "") COMPREPLY=($(compgen -f -- "$cur")) ;;
    *)
        COMPREPLY=($(compgen -d -- "$cur"))
        for ext in ${1//[@()|]/$'\n'}; do
            COMPREPLY+=($(compgen -f -X "!*.$ext" -- "$cur"))
        done
        ;;
    esac
}
'''

BASH_IDS = r'''
# _@F@_ids ROOT: the hotfixes installed under ROOT, from the program itself (list only
# reads). An id is [A-Za-z0-9._-] (anything else is not one), so it needs no quoting.
_@F@_ids() {
    local program=${words[0]} json
    [[ $program == "~/"* ]] && program=$HOME/${program#"~/"}
    json=$("$program" list --json ${1:+--root "$1"} 2>/dev/null) || return 0
    local re='"id":[[:space:]]*"([A-Za-z0-9._-]+)"'
    while [[ $json =~ $re ]]; do
        printf '%s\n' "${BASH_REMATCH[1]}"
        json=${json#*"${BASH_REMATCH[0]}"}
    done
}
'''


def bash_case(function, doc, entries):
    """A function that echoes, for its arguments, the first entry that matches."""
    lines = ["# %s" % doc, "%s() {" % function, '    case "$*" in']
    for pattern, text in entries:
        lines.append("    %s) echo %s ;;" % (pattern, shell_quote(text)))
    lines += ["    esac", "}"]
    return "\n".join(lines)


def shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def bash_pattern(path, option=None):
    text = path if option is None else "%s %s" % (path, option)
    return shell_quote(text.strip()) if text.strip() else '""'


def bash_script(name, top, commands):
    f = "_" + identifier(name)
    subs = {"": [s for s, _ in top.subcommands] + ["help"],
            "help": [s for s, _ in top.subcommands]}
    for path, helped in commands.items():
        if helped.subcommands:  # a group's commands, and the same after help
            subs[path] = subs["help " + path] = [s for s, _ in helped.subcommands]
    values, options, positionals = [], [], []
    for path, helped in sorted(commands.items()):
        names = []
        for option in helped.option_list():
            for n in option.names:
                takes = option.value_type is not None and n.startswith("--")
                names.append(n + "=" if takes else n)
                if option.value_type is not None:
                    values.append((bash_pattern(path, n), option.value_type))
        options.append((bash_pattern(path), " ".join(names)))
        if helped.positionals:
            positionals.append((bash_pattern(path), helped.positionals[0].value_type))
    top_names = [n for o in top.option_list() for n in o.names]
    options.append(('""', " ".join(top_names)))
    parts = [
        "# bash completion for %s, generated from its help by scripts/shell_completions.py;"
        % name,
        "# bash-completion loads it by the command's name. Regenerate it; do not edit it.",
        (BASH_ENGINE + (BASH_IDS if uses_ids(commands) else ""))
        .replace("@GLOB_CASES@", bash_glob_cases()).replace("@F@", f[1:])
        .replace("@ARCHES@", arches(commands)),
        bash_case(f + "_commands", "_commands PATH: the commands under PATH (\"\" for the "
                  "program).", [(bash_pattern(p), " ".join(s)) for p, s in subs.items()]),
        "",
        bash_case(f + "_options", "_options PATH: the options of the command at PATH.", options),
        "",
        bash_case(f + "_value", "_value PATH OPTION: the type of the option's value; "
                  "nothing for a flag.", values),
        "",
        bash_case(f + "_positional", "_positional PATH: the type of the command's operands.",
                  positionals),
        "",
        "complete -F %s %s" % (f, name),
        "",
    ]
    return "\n".join(parts)


# ---- zsh ------------------------------------------------------------------------------

def zsh_text(text, limit=90):
    """A description for _arguments and _describe: one clause, brackets and colons escaped."""
    text = re.split(r"(?<=[.;])\s|\s\(", text.strip(), 1)[0].rstrip(".;")
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "..."
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]") \
        .replace(":", "\\:").replace("'", "'\\''")


def zsh_action(value_type, function):
    k = kind(value_type)
    if k == "dir":
        return "_files -/"
    if k == "file":
        return "_files"
    if k == "glob":
        return "_files -g '\\''*.%s(-.)'\\''" % alternatives(GLOBS[value_type], "(%s)")
    if k == "arch-dir":
        return "%s_arch_dir" % function
    if k == "words":
        return "(%s)" % " ".join(words_of(value_type))
    if k == "command":
        return "_command_names -e"
    if k == "id":
        return "%s_ids" % function
    return " "


def zsh_option_specs(helped, function):
    specs = []
    for option in helped.option_list():
        desc = zsh_text(option.description)
        star = "*" if option.repeated else ""
        if option.value_type is None:
            body = "[%s]" % desc
        else:
            message = option.names[-1].lstrip("-")
            body = "[%s]:%s:%s" % (desc, message, zsh_action(option.value_type, function))
        names = option.names
        if len(names) == 1:
            name = names[0] + ("=" if option.value_type and names[0].startswith("--") else "")
            specs.append("'%s%s%s'" % (star, name, body))
        else:
            exclusive = "" if option.repeated else "(%s)" % " ".join(names)
            specs.append("'%s%s'{%s}'%s'" % (exclusive, star, ",".join(names), body))
    for positional in helped.positionals:
        action = zsh_action(positional.value_type, function)
        message = positional.names[0].lower()
        specs.append("'%s:%s:%s'" % ("*" if positional.repeated else "", message, action))
    return specs


def zsh_help_function(name, top, commands):
    """help COMMAND [SUBCOMMAND]: the commands, then a group's own commands."""
    def described(subs):
        return " ".join("'%s:%s'" % (s, zsh_text(d)) for s, d in subs)
    groups = "".join("    %s) commands=(%s) ;;\n" % (s, described(commands[s].subcommands))
                     for s, _ in top.subcommands if commands[s].subcommands)
    return ("%s() {\n  local -a commands\n  case $CURRENT in\n  2) commands=(%s) ;;\n"
            "  3)\n    case $words[2] in\n%s    esac\n    ;;\n  esac\n"
            "  (( $#commands )) && _describe -t commands command commands\n}"
            % (name, described(top.subcommands), groups))


def zsh_functions(program_function, path, helped, commands):
    """The function for the command at path: a leaf completes its options and operands; a
    group completes its commands, then hands over to the one chosen."""
    name = program_function + "_cmd" + "".join("_" + identifier(p) for p in path.split())
    cont = " \\\n    "
    if not helped.subcommands:
        specs = zsh_option_specs(helped, program_function)
        return ["%s() {\n  _arguments -s -S%s%s\n}" % (name, cont, cont.join(specs))]
    subs = list(helped.subcommands)
    if not path:
        subs.append(("help", "A command's options"))
    entries = " ".join("'%s:%s'" % (s, zsh_text(d)) for s, d in subs)
    specs = zsh_option_specs(helped, program_function)
    out = ["%s() {\n  local curcontext=$curcontext state state_descr line ret=1\n"
           "  typeset -A opt_args\n  _arguments -C%s%s'1: :->command'%s'*:: :->argument' "
           "&& return\n  case $state in\n  command)\n    local -a commands=(%s)\n"
           "    _describe -t commands command commands && ret=0\n    ;;\n  argument)\n"
           "    if (( $+functions[%s_$words[1]] )); then %s_$words[1] && ret=0; fi\n"
           "    ;;\n  esac\n  return ret\n}"
           % (name, cont, cont.join(specs) + (cont if specs else ""), cont, entries,
              name, name)]
    if not path:
        out.append(zsh_help_function(name + "_help", helped, commands))
    for sub, _ in helped.subcommands:
        sub_path = (path + " " + sub).strip()
        out += zsh_functions(program_function, sub_path, commands[sub_path], commands)
    return out


ZSH_HELPERS = r'''
# An architecture, then after the "=" the directory of its build drop.
@F@_arch_dir() {
  if compset -P '*='; then
    _files -/
  else
    compadd -S = -- @ARCHES@
  fi
}
'''

ZSH_IDS = r'''
# The hotfixes installed under the --root given, from the program itself (list only reads).
# An id is [A-Za-z0-9._-] (anything else is not one), so it needs no quoting.
@F@_ids() {
  local program=${hotfix_program/#\~/$HOME} root=${opt_args[--root]} id expl
  local json=$(_call_program hotfix-ids ${(q)program} list --json \
    ${root:+--root ${(q)root}} 2>/dev/null)
  local -a ids
  while [[ $json == *'"id":'* ]]; do
    json=${json#*'"id":'}
    json=${json##[[:space:]]#}
    [[ $json == '"'* ]] || continue
    id=${${json#\"}%%\"*}
    [[ $id == [A-Za-z0-9._-]## ]] && ids+=($id)
  done
  _wanted hotfix-ids expl 'hotfix id' compadd -a ids
}
'''


def uses_ids(commands):
    return any(o.value_type == "ID" for h in commands.values()
               for o in h.option_list() + h.positionals)


def zsh_script(name, top, commands):
    function = "_" + name
    top_helped = cli_help.Help()
    top_helped.subcommands = top.subcommands
    top_helped.options = top.options
    body = zsh_functions(function, "", top_helped, commands)
    helpers = ZSH_HELPERS + (ZSH_IDS if uses_ids(commands) else "")
    helpers = helpers.replace("@F@", function).replace("@ARCHES@", arches(commands))
    return "\n".join([
        "#compdef %s" % name,
        "# zsh completion for %s, generated from its help by scripts/shell_completions.py."
        % name,
        "# Regenerate it; do not edit it.",
        helpers,
        "\n\n".join(body),
        "",
        "%s() {\n  setopt localoptions extendedglob\n  local hotfix_program=$words[1]\n"
        "  %s_cmd \"$@\"\n}" % (function, function),
        "",
        "%s \"$@\"" % function,
        "",
    ])


def main():
    parser = argparse.ArgumentParser(description="Write bash and zsh completions.")
    parser.add_argument("program", help="the program, built")
    parser.add_argument("outdir", help="where to write NAME.bash and _NAME")
    parser.add_argument("--name", help="the command's name (default: the program's)")
    args = parser.parse_args()
    name = args.name or os.path.basename(args.program)
    top, commands = tree(args.program)
    os.makedirs(args.outdir, exist_ok=True)
    for file_name, text in ((name + ".bash", bash_script(name, top, commands)),
                            ("_" + name, zsh_script(name, top, commands))):
        path = os.path.join(args.outdir, file_name)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
