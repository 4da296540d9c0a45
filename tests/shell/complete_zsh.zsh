#!/usr/bin/env zsh
# Prints, one per line, what zsh completes for LINE (the cursor at its end): an interactive
# zsh in a pseudo-terminal loads the completions from FPATH_DIR with compinit, LINE is typed
# followed by TAB, and every match given to compadd is printed instead of being inserted.
# (The markers are written split in two, so that the terminal's echo of the commands that
# print them is not taken for them.)
# Usage: complete_zsh.zsh FPATH_DIR LINE. Exit status 3 when zsh does not answer in time.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i || exit 3
zpty -w z "PROMPT='' RPROMPT='' PS2=''; fpath=(${(q)1} \$fpath)"
zpty -w z 'autoload -Uz compinit && compinit -u -D'
zpty -w z 'typeset -ga _hits; compadd() { local -a h; builtin compadd -O h "$@"; _hits+=($h); builtin compadd "$@" }'
zpty -w z 'compprefuncs=(_hits_reset); _hits_reset() { _hits=(); comppostfuncs=(_hits_print) }'
zpty -w z '_hits_print() { print -r -- "<<HI""TS"; print -rl -- ${(u)_hits}; print -r -- "HI""TS>>"; compstate[insert]=""; compstate[list]="" }'
zpty -w z 'bindkey "^I" complete-word; print -r -- "<<REA""DY>>"'

# read_until MARK TRIES: reads the terminal until MARK shows, at most TRIES times 0.05 s.
out=""
read_until() {
  local chunk i
  for ((i = 0; i < $2; i++)); do
    if zpty -r -t z chunk; then out+=$chunk; else sleep 0.05; fi
    [[ $out == *$1* ]] && return 0
  done
  return 1
}
read_until '<<READY>>' 200 || { zpty -d z; print -u2 "zsh did not start"; exit 3; }
out=""
zpty -w -n z "$2"$'\t'
read_until 'HITS>>' 200 || { zpty -d z; print -u2 "zsh did not complete: ${out//$'\r'/}"; exit 3; }
zpty -d z
out=${out#*'<<HITS'}
out=${out%%'HITS>>'*}
print -rl -- ${(f)${out//$'\r'/}} | sed '/^$/d' | sort -u
