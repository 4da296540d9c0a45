#!/usr/bin/env bash
# Prints, one per line, what bash completes for LINE (the cursor at its end), as readline
# would call the completion: the line split into words at blanks and at COMP_WORDBREAKS.
# Usage: complete_bash.sh plain|bash-completion COMPLETION_FILE FUNCTION LINE
#   plain: bash alone; bash-completion: with /usr/share/bash-completion loaded first.
set -o pipefail
mode=$1 file=$2 function=$3 line=$4
if [ "$mode" = bash-completion ]; then
  # shellcheck disable=SC1091
  source /usr/share/bash-completion/bash_completion || exit 3
fi
# shellcheck disable=SC1090
source "$file" || exit 3
compopt() { :; }  # the builtin works only inside a completion readline started

COMP_LINE=$line
COMP_POINT=${#line}
COMP_WORDS=()
word=""
for ((i = 0; i < ${#line}; i++)); do
  c=${line:i:1}
  if [[ $c == [[:blank:]] ]]; then
    [ -n "$word" ] && COMP_WORDS+=("$word")
    word=""
  elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then
    [ -n "$word" ] && COMP_WORDS+=("$word")
    COMP_WORDS+=("$c")
    word=""
  else
    word+=$c
  fi
done
COMP_WORDS+=("$word")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
"$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
printf '%s\n' "${COMPREPLY[@]}" | sort -u | sed '/^$/d'
