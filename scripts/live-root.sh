#!/usr/bin/env bash
# Runs PROGRAM with IMAGE as its root directory "/", as on a server whose own root it is: in a
# private mount namespace, chrooted into IMAGE. The host's /usr is mounted read-only inside (for
# the program's shared libraries), with a /proc and a /dev/null; PROGRAM's own directory is
# mounted read-only at /opt/hotfix. Nothing of this outlives the command: the mounts go with
# the namespace. The mount points (empty usr, proc, dev/null, opt/hotfix, and lib, lib64,
# bin, sbin as on the host: links into usr) are made in IMAGE when missing; nothing else in
# IMAGE is touched. IMAGE must not have a usr of its own. Needs root.
#
#   scripts/live-root.sh IMAGE PROGRAM [ARG...]
#
# Paths in ARG are seen from inside IMAGE.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 IMAGE PROGRAM [ARG...]" >&2
  exit 2
fi
image=$(realpath "$1")
program=$(realpath "$2")
shift 2
if [ -n "$(ls -A "$image/usr" 2>/dev/null)" ]; then
  echo "$0: $image/usr is not empty: the host's /usr would hide it" >&2
  exit 2
fi

mkdir -p "$image/usr" "$image/proc" "$image/dev" "$image/opt/hotfix"
[ -e "$image/dev/null" ] || : >"$image/dev/null"
bind_dirs=()
for d in lib lib64 bin sbin; do
  if [ -L "/$d" ]; then
    [ -e "$image/$d" ] || [ -L "$image/$d" ] || ln -s "$(readlink "/$d")" "$image/$d"
  elif [ -d "/$d" ]; then  # a host without merged /usr: its own directories, read-only
    mkdir -p "$image/$d"
    bind_dirs+=("$d")
  fi
done

exec unshare --mount --propagation private -- /bin/sh -euc '
  image=$1 dir=$2 binds=$3
  shift 3
  mount --bind -o ro /usr "$image/usr"
  for d in $binds; do mount --bind -o ro "/$d" "$image/$d"; done
  mount -t proc proc "$image/proc"
  # For tests: another boot id, as the kernel shows after a reboot.
  if [ -n "${LIVE_ROOT_BOOT_ID:-}" ]; then
    mount --bind "$LIVE_ROOT_BOOT_ID" "$image/proc/sys/kernel/random/boot_id"
  fi
  mount --bind /dev/null "$image/dev/null"
  mount --bind -o ro "$dir" "$image/opt/hotfix"
  exec chroot "$image" "$@"
' live-root "$image" "$(dirname "$program")" "${bind_dirs[*]:-}" \
  "/opt/hotfix/$(basename "$program")" "$@"
