#!/usr/bin/env bash
# The Debian packages end to end: cpack makes them, their control fields and contents are
# checked, dpkg installs them into a throwaway root, the installed programs run the KB967131
# job on that root (trusting a key through the packaged /etc/hotfix/trusted.d), and dpkg
# removes them again. Usage: dpkg_install_test.sh BUILD_DIR SOURCE_DIR (as root; no network).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
cpack=${CPACK:-cpack}

step() { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIPPED: dpkg --root needs root (files owned by root, as on a server)"
  exit 0
fi
[ -f "$build/CPackConfig.cmake" ] ||
  fail "no $build/CPackConfig.cmake: the top-level CMakeLists.txt must include cmake/packaging.cmake"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/debs root=$work/root job=$work/job

# run LOG COMMAND...: the command's output goes to LOG, shown only if it fails.
run() {
  local log=$1 code=0
  shift
  "$@" >"$log" 2>&1 || code=$?
  [ "$code" -eq 0 ] || { cat "$log" >&2; fail "$* exited $code"; }
}

# expect_exit CODES WHAT COMMAND...: the command exits with one of CODES ("10" or "10|0").
expect_exit() {
  local codes=$1 what=$2 code=0
  shift 2
  "$@" >"$work/last.log" 2>&1 || code=$?
  if ! [[ "$code" =~ ^($codes)$ ]]; then
    cat "$work/last.log" >&2
    fail "$what: exit $code, expected $codes"
  fi
  echo "    $what: exit $code"
}

one_deb() {
  local found=("$out/$1"_*.deb)
  if [ ${#found[@]} -ne 1 ] || [ ! -f "${found[0]}" ]; then
    fail "expected one $1_*.deb, cpack wrote: $(ls "$out" | tr '\n' ' ')"
  fi
  echo "${found[0]}"
}

# has_dep DEB PACKAGE: Depends names PACKAGE (a prefix such as libsqlite3 matches libsqlite3-0).
has_dep() {
  local depends
  depends=$(dpkg-deb -f "$1" Depends)
  grep -Eq "(^|[ ,|])$2[-a-z0-9.+]*( |,|$)" <<<"$depends" ||
    fail "$(basename "$1"): Depends has no $2: '$depends'"
}

# entry LISTING MODE PATH: the package holds PATH with MODE, owned by root/root.
entry() {
  local line
  line=$(awk -v p="$3" '$6 == p { print $1, $2 }' "$1")
  [ -n "$line" ] || fail "$(basename "$1" .list) has no $3"
  [ "$line" = "$2 root/root" ] || fail "$3 is '$line', expected '$2 root/root'"
}

check_listing() {  # DEB PROGRAM
  local list=$work/$2.list doc=./usr/share/doc/$2
  dpkg-deb -c "$1" >"$list"
  step "$2: every entry root/root, every directory drwxr-xr-x, nothing outside /usr and /etc/hotfix"
  awk '$2 != "root/root" { print; bad = 1 } END { exit bad }' "$list" || fail "entries not root/root"
  awk '$1 ~ /^d/ && $1 != "drwxr-xr-x" { print; bad = 1 } END { exit bad }' "$list" ||
    fail "directories not drwxr-xr-x"
  awk '$6 !~ /^\.\/(usr\/|etc\/$|etc\/hotfix\/)/ { print; bad = 1 } END { exit bad }' "$list" ||
    fail "entries outside /usr and /etc/hotfix"
  step "$2: the program, its docs and copyright"
  entry "$list" -rwxr-xr-x "./usr/bin/$2"
  entry "$list" -rw-r--r-- "$doc/copyright"
  entry "$list" -rw-r--r-- "$doc/README.md"
  entry "$list" -rw-r--r-- "./usr/share/man/man1/$2.1.gz"
  entry "$list" -rw-r--r-- "./usr/share/bash-completion/completions/$2"
  entry "$list" -rw-r--r-- "./usr/share/zsh/vendor-completions/_$2"
}

step "cpack -G DEB into a fresh directory"
run "$work/cpack.log" "$cpack" --config "$build/CPackConfig.cmake" -G DEB -B "$out"
[ "$(ls "$out"/*.deb | wc -l)" -eq 2 ] || fail "expected 2 .deb files, got: $(ls "$out"/*.deb)"
installer_deb=$(one_deb hotfix-installer)
packager_deb=$(one_deb hotfix-packager)
echo "    $(basename "$installer_deb") $(basename "$packager_deb")"

step "control fields: name, architecture, Depends from dpkg-shlibdeps"
arch=$(dpkg --print-architecture)
for deb in "$installer_deb" "$packager_deb"; do
  [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || fail "$(basename "$deb"): not $arch"
  has_dep "$deb" libc6
done
has_dep "$installer_deb" libsqlite3
has_dep "$packager_deb" libarchive
for field in Depends Pre-Depends Recommends; do
  if dpkg-deb -f "$installer_deb" "$field" | grep -q hotfix-packager; then
    fail "hotfix-installer's $field names hotfix-packager: a server needs only the installer"
  fi
done
version=$(dpkg-deb -f "$installer_deb" Version)
echo "    version $version, $arch; installer Depends: $(dpkg-deb -f "$installer_deb" Depends)"

check_listing "$installer_deb" hotfix-installer
step "hotfix-installer: /etc/hotfix/trusted.d, empty, and its parents, 0755 root/root"
for dir in ./etc/ ./etc/hotfix/ ./etc/hotfix/trusted.d/; do
  entry "$work/hotfix-installer.list" drwxr-xr-x "$dir"
done
[ "$(grep -c '\./etc/hotfix/trusted\.d/.' "$work/hotfix-installer.list")" -eq 0 ] ||
  fail "trusted.d is not empty in the package"
check_listing "$packager_deb" hotfix-packager
entry "$work/hotfix-packager.list" -rw-r--r-- ./usr/share/man/man5/hotfix-manifest.5.gz

step "dpkg --root: install both into an empty root (host libraries are not in its database)"
mkdir -p "$root/var/lib/dpkg/"{info,updates,triggers} "$root/var/log"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
dpkg_root() { dpkg --root="$root" --log="$root/var/log/dpkg.log" "$@"; }
run "$work/dpkg-install.log" dpkg_root --force-depends -i "$installer_deb" "$packager_deb"
for pkg in hotfix-installer hotfix-packager; do
  dpkg_root -s "$pkg" | grep -qx 'Status: install ok installed' || fail "$pkg is not installed"
done
[ -d "$root/etc/hotfix/trusted.d" ] || fail "no /etc/hotfix/trusted.d after install"

step "the installed programs run, stripped, at the packaged version"
installer=$root/usr/bin/hotfix-installer
packager=$root/usr/bin/hotfix-packager
for prog in "$installer" "$packager"; do
  "$prog" --version | grep -q " $version " || fail "$prog --version: '$("$prog" --version)'"
  if readelf -S "$prog" | grep -q '\.debug_info'; then fail "$prog has debug information"; fi
done
"$installer" --version

step "the installed completions complete: bash (with bash-completion) and zsh"
completions=$source/tests/shell
got=$("$completions/complete_bash.sh" bash-completion \
  "$root/usr/share/bash-completion/completions/hotfix-installer" _hotfix_installer \
  "hotfix-installer unin")
[ "$got" = uninstall ] || fail "bash: 'hotfix-installer unin' completes to '$got', not uninstall"
mkdir -p "$work/zsh"
cp "$root/usr/share/zsh/vendor-completions/_hotfix-packager" "$work/zsh/"
got=$(PATH="$root/usr/bin:$PATH" zsh "$completions/complete_zsh.zsh" "$work/zsh" \
  "hotfix-packager manifest r")
[ "$got" = refresh ] || fail "zsh: 'hotfix-packager manifest r' completes to '$got', not refresh"
echo "    bash: hotfix-installer unin -> uninstall; zsh: hotfix-packager manifest r -> refresh"

step "the KB967131 job with the installed programs: key, stand-in drops, three signed bundles"
manifest=$source/samples/KB967131/hotfix.json
run "$work/standins.log" "$build/samples/make-standins" --manifest "$manifest" --out "$job"
run "$work/keygen.log" "$packager" keygen --out "$job/release"
run "$work/build.log" "$packager" build "$manifest" --drop x86="$job/drops/x86" \
  --drop x64="$job/drops/x64" --drop ia64="$job/drops/ia64" --key "$job/release.key" \
  --out "$job/bundles"
for bundle_arch in x86 x64 ia64; do
  run "$work/verify.log" "$packager" verify "$job/bundles/KB967131-$bundle_arch.hotfix" \
    --trust "$job/release.pub"
done

step "the x64 image copied into the root; its key in the packaged trusted.d, no --trust"
cp -a "$job/roots/x64/." "$root/"
install -m 0644 "$job/release.pub" "$root/etc/hotfix/trusted.d/release.pub"
expect_exit 10 "apply (10: a restart is required)" \
  "$installer" apply "$job/bundles/KB967131-x64.hotfix" --root "$root"
expect_exit 0 "verify" "$installer" verify --root "$root"
expect_exit "10|0" "uninstall (10 or 0: restart required or not)" \
  "$installer" uninstall KB967131 --root "$root"

step "dpkg --root -r: programs and the package's (now empty) directories go"
rm "$root/etc/hotfix/trusted.d/release.pub" "$root/etc/hotfix/system.json"  # not the package's
run "$work/dpkg-remove.log" dpkg_root -r hotfix-installer hotfix-packager
for gone in usr/bin/hotfix-installer usr/bin/hotfix-packager etc/hotfix/trusted.d etc/hotfix \
  usr/share/doc/hotfix-installer usr/share/doc/hotfix-packager; do
  [ ! -e "$root/$gone" ] || fail "/$gone is still there after dpkg -r"
done
if dpkg_root -s hotfix-installer 2>/dev/null | grep -qx 'Status: install ok installed'; then
  fail "dpkg still lists hotfix-installer as installed"
fi
step "passed"
