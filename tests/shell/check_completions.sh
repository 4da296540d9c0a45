#!/usr/bin/env bash
# The shell completions complete what the programs accept: every command and every option of
# each command (read from the programs' help here, apart from the generator's own reading),
# and each kind of value: directories for --root, *.hotfix bundles, ARCH=DIR drops, a
# format's words, command names, and the hotfix ids installed under the --root on the line.
# Each case runs in bash alone, in bash with bash-completion, and in zsh.
#
# Usage: check_completions.sh INSTALLER PACKAGER COMPLETIONS_DIR MAKE_STANDINS MANIFEST
set -euo pipefail

if [ $# -ne 5 ]; then
  echo "usage: $0 INSTALLER PACKAGER COMPLETIONS_DIR MAKE_STANDINS MANIFEST" >&2
  exit 2
fi
installer=$(realpath "$1") packager=$(realpath "$2") completions=$(realpath "$3")
standins=$(realpath "$4") manifest=$(realpath "$5")
here=$(cd "$(dirname "$0")" && pwd)

fail() { printf 'FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }
failures=0 cases=0
command -v zsh >/dev/null || { echo "FAIL: zsh is not installed (scripts/setup.sh installs it)"; exit 1; }
[ -f /usr/share/bash-completion/bash_completion ] ||
  { echo "FAIL: bash-completion is not installed (scripts/setup.sh installs it)"; exit 1; }
for f in hotfix-installer.bash _hotfix-installer hotfix-packager.bash _hotfix-packager; do
  [ -f "$completions/$f" ] || { echo "FAIL: $completions/$f was not generated"; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The programs by their names, as a user types them.
mkdir -p "$work/bin"
ln -s "$installer" "$work/bin/hotfix-installer"
ln -s "$packager" "$work/bin/hotfix-packager"
export PATH="$work/bin:$PATH"

# A root with KB967131 installed, for the ids; files and directories to complete.
"$standins" --manifest "$manifest" --out "$work/job" >/dev/null
hotfix-packager keygen --out "$work/job/release" >/dev/null
hotfix-packager build "$manifest" --drop x64="$work/job/drops/x64" --arch x64 \
  --key "$work/job/release.key" --out "$work/job/bundles" >/dev/null
cp -a "$work/job/roots/x64" "$work/root"
code=0
hotfix-installer apply "$work/job/bundles/KB967131-x64.hotfix" --root "$work/root" \
  --trust "$work/job/release.pub" >/dev/null || code=$?
[ "$code" -eq 10 ] || { echo "FAIL: applying the sample exited $code, expected 10"; exit 1; }
mkdir -p "$work/cwd/drops/x64" "$work/cwd/image"
touch "$work/cwd/fix.hotfix" "$work/cwd/fix.json" "$work/cwd/notes.txt"
cd "$work/cwd"

# candidates SHELL LINE: what SHELL (plain, bash-completion, zsh) completes for LINE, sorted.
candidates() {
  local program=${2%% *} out code=0
  if [ "$1" = zsh ]; then
    out=$(zsh "$here/complete_zsh.zsh" "$completions" "$2") || code=$?
  else
    out=$("$here/complete_bash.sh" "$1" "$completions/$program.bash" "_${program//-/_}" "$2") ||
      code=$?
  fi
  [ "$code" -eq 0 ] || { fail "$1: '$2': the completion failed (exit $code)"; return 1; }
  # An option or architecture that takes its value after "=" is offered with it in bash (and
  # no space), and without it in zsh, which adds the "=" as the match's suffix.
  printf '%s\n' "$out" | sed 's/=$//' | sort -u
}

# expect exact|has|lacks LINE WORD...: exact: the candidates are the WORDs; has: they include
# every WORD; lacks: they include none. In every shell.
expect() {
  local how=$1 line=$2 shell got w
  shift 2
  for shell in plain bash-completion zsh; do
    cases=$((cases + 1))
    got=$(candidates "$shell" "$line") || continue
    case $how in
    exact)
      local want
      want=$(printf '%s\n' "$@" | sort -u)
      [ "$got" = "$want" ] ||
        fail "$shell: '$line': got [${got//$'\n'/ }], expected [${want//$'\n'/ }]"
      ;;
    has | lacks)
      for w in "$@"; do
        if grep -qxF -- "$w" <<<"$got"; then
          if [ "$how" = lacks ]; then fail "$shell: '$line': offers $w, which it should not"; fi
        elif [ "$how" = has ]; then
          fail "$shell: '$line': does not offer $w (got [${got//$'\n'/ }])"
        fi
      done
      ;;
    esac
  done
  return 0
}

# The long options of one command, read from its help page (an option's names start its line).
help_options() {
  "$@" | awk '/^[A-Za-z][A-Za-z ]*:$/ { s = $0; next }
              s != "Positionals:" && s != "Subcommands:" && /^  -/ {
                n = split($1, names, ","); for (i = 1; i <= n; i++) if (names[i] ~ /^--/) print names[i] }'
}
help_commands() {
  "$@" | awk '/^[A-Za-z][A-Za-z ]*:$/ { s = $0; next } s == "Subcommands:" && /^  [a-z]/ { print $1 }'
}

echo "==> every command and every option, as the help lists them"
for program in hotfix-installer hotfix-packager; do
  commands=$(help_commands "$program" --help)
  [ -n "$commands" ] || fail "$program --help lists no commands"
  # shellcheck disable=SC2086
  expect exact "$program " $commands help
  for command in $commands; do
    nested=$(help_commands "$program" help "$command")
    if [ -n "$nested" ]; then
      # shellcheck disable=SC2086
      expect exact "$program $command " $nested
      for sub in $nested; do
        # shellcheck disable=SC2046
        expect has "$program $command $sub --" $(help_options "$program" "$command" "$sub" --help)
      done
      continue
    fi
    options=$(help_options "$program" help "$command")
    [ -n "$options" ] || fail "$program help $command lists no options"
    # shellcheck disable=SC2086
    expect has "$program $command --" $options
  done
done

echo "==> values of each kind"
# shellcheck disable=SC2046
expect exact "hotfix-packager help " $(help_commands hotfix-packager --help)
expect exact "hotfix-packager help manifest " refresh
expect exact "hotfix-installer check --format " text nagios prometheus
expect exact "hotfix-installer check --format=n" nagios
expect exact "hotfix-packager scan --restart " none services reboot
expect exact "hotfix-packager build --arch i" ia64
expect exact "hotfix-installer apply --root " drops image
expect exact "hotfix-installer apply --root=i" image
expect exact "hotfix-installer apply " drops fix.hotfix image
expect exact "hotfix-packager describe " drops fix.hotfix fix.json image
expect exact "hotfix-packager build " drops fix.json image
expect has "hotfix-packager build --key " fix.hotfix fix.json notes.txt drops
expect exact "hotfix-packager build --drop " arm64 ia64 x64 x86
expect exact "hotfix-packager build --drop x6" x64
expect exact "hotfix-packager build --drop x64=" drops image
expect exact "hotfix-packager build --drop x64=d" drops
expect exact "hotfix-packager build --level " ""
expect has "hotfix-installer apply --restart-command ls" ls
expect exact "hotfix-installer uninstall --root $work/root " KB967131
expect exact "hotfix-installer verify --root=$work/root K" KB967131
expect exact "hotfix-installer check --json --root $work/root " KB967131
# A root with nothing installed has no ids to offer (zsh then offers the options instead).
expect lacks "hotfix-installer uninstall --root $work/cwd/image " KB967131
expect lacks "hotfix-installer apply --" --reinstal --version
expect lacks "hotfix-installer list --" --trust --reinstall

echo "$cases cases checked, $failures failed"
[ "$failures" -eq 0 ]
