#!/usr/bin/env bash
# The whole job end to end on the KB967131 sample: set up, build, generate the stand-in build
# drops, build and sign the x86, x64 and IA-64 bundles, print the article's file tables from
# them, and verify each bundle (with hotfix-packager and, independently, with openssl).
# Everything it writes stays under build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target hotfix-packager hotfix-installer make-standins >/dev/null

packager=build/packager/hotfix-packager
manifest=samples/KB967131/hotfix.json
demo=build/demo
rm -rf "$demo"
mkdir -p "$demo"

step() { printf '\n==> %s\n' "$*"; }

step "Stand-in build drops and sample server roots for KB967131"
build/samples/make-standins --manifest "$manifest" --out "$demo"

step "Signing key"
"$packager" keygen --out "$demo/keys/release"

step "What the x64 drop holds, read from the files themselves (first rows of $demo/scan-x64.txt)"
"$packager" scan "$demo/drops/x64" > "$demo/scan-x64.txt"
grep -E "^File name|System32/inetsrv$" "$demo/scan-x64.txt" | head -n 8

step "Build: check every drop against the manifest, then one signed bundle per architecture"
"$packager" build "$manifest" \
  --drop x86="$demo/drops/x86" --drop x64="$demo/drops/x64" --drop ia64="$demo/drops/ia64" \
  --key "$demo/keys/release.key" --out "$demo/bundles"

step "File information, rendered from the signed bundles"
for arch in x86 x64 ia64; do
  "$packager" describe "$demo/bundles/KB967131-$arch.hotfix" \
    --trust "$demo/keys/release.pub" > "$demo/file-information-$arch.md"
done
cat "$demo/file-information-x86.md"
echo; sed -n '/^### /,$p' "$demo/file-information-x64.md"
echo; sed -n '/^### /,$p' "$demo/file-information-ia64.md"

step "Verify each bundle: signature, then every payload's size and SHA-256"
for arch in x86 x64 ia64; do
  "$packager" verify "$demo/bundles/KB967131-$arch.hotfix" --trust "$demo/keys/release.pub"
done

step "Independent check with the openssl command line"
check="$demo/openssl-check"
mkdir -p "$check"
tar --zstd -xf "$demo/bundles/KB967131-x64.hotfix" -C "$check" manifest.json manifest.json.sig
openssl pkeyutl -verify -pubin -inkey "$demo/keys/release.pub" -rawin \
  -in "$check/manifest.json" -sigfile "$check/manifest.json.sig"

step "Reproducible: building again gives byte-identical bundles"
"$packager" build "$manifest" \
  --drop x86="$demo/drops/x86" --drop x64="$demo/drops/x64" --drop ia64="$demo/drops/ia64" \
  --key "$demo/keys/release.key" --out "$demo/bundles-again" >/dev/null
(cd "$demo/bundles" && sha256sum ./*.hotfix) > "$demo/sums"
(cd "$demo/bundles-again" && sha256sum -c --quiet "../sums")
cat "$demo/sums"

installer=build/installer/hotfix-installer
root="$demo/server-x64"
snapshot() {  # every file's hash, mode and mtime and every directory's mode under the root,
              # the installer's state (and the directories that hold it) aside
  (cd "$1" && find . -path ./var/lib/hotfix -prune -o -path ./run -prune -o -type f -print0 |
     sort -z | xargs -0 stat -c '%n %a %Y' | while read -r name mode mtime; do
       printf '%s %s %s %s\n' "$(sha256sum "$name" | cut -d' ' -f1)" "$mode" "$mtime" "$name"
     done
   find . -path ./var/lib/hotfix -prune -o -path ./run -prune -o -type d ! -path ./var \
     ! -path ./var/lib -printf 'dir %m %p\n' | sort)
}

step "A Windows Server 2008 x64 image at the versions before the hotfix: $root"
cp -a "$demo/roots/x64" "$root"
"$installer" facts --root "$root"
snapshot "$root" > "$demo/before.txt"

step "Apply KB967131-x64: signature, prerequisites, then one transaction (before -> after versions)"
set +e
"$installer" apply "$demo/bundles/KB967131-x64.hotfix" --root "$root" --trust "$demo/keys/release.pub"
code=$?
set -e
echo "exit code $code (10: applied, restart required)"
[ "$code" -eq 10 ]

step "Verify: every installed file is what the hotfix promised"
"$installer" verify --root "$root"
"$installer" list --root "$root"

step "Status: the restart the article asks for"
set +e
"$installer" status --root "$root"
code=$?
set -e
echo "exit code $code (10: restart required)"

step "Uninstall, then prove the image is byte-identical to before (hash, mode, mtime of every file; every directory)"
set +e
"$installer" uninstall KB967131 --root "$root" >/dev/null
set -e
snapshot "$root" > "$demo/after.txt"
diff "$demo/before.txt" "$demo/after.txt"
echo "identical: $(grep -vc '^dir ' "$demo/before.txt") files, $(grep -c '^dir ' "$demo/before.txt") directories"
"$installer" history --root "$root"

step "The same on a server's own root: the image as /, in a chroot, with no --root"
live="$demo/live-x64"
if [ "$(id -u)" -eq 0 ] && unshare --mount -- true 2>/dev/null; then
  cp -a "$demo/roots/x64" "$live"
  mkdir -p "$live/srv"
  cp "$demo/bundles/KB967131-x64.hotfix" "$demo/keys/release.pub" "$live/srv/"
  on_live() { scripts/live-root.sh "$live" "$installer" "$@"; }
  on_live facts >/dev/null  # makes the mount points once, before the snapshot
  snapshot "$live" > "$demo/live-before.txt"
  set +e
  on_live apply /srv/KB967131-x64.hotfix --trust /srv/release.pub > "$demo/live-apply.txt"
  code=$?
  set -e
  tail -n 1 "$demo/live-apply.txt"
  echo "exit code $code (10: applied, restart required)"
  [ "$code" -eq 10 ]
  on_live verify
  on_live status || true
  on_live uninstall KB967131 > "$demo/live-uninstall.txt" || true
  tail -n 1 "$demo/live-uninstall.txt"
  snapshot "$live" > "$demo/live-after.txt"
  diff "$demo/live-before.txt" "$demo/live-after.txt"
  echo "identical after uninstall; the state stayed inside the image: $(ls "$live/var/lib/hotfix" | tr '\n' ' ')"
else
  echo "skipped: a chroot in a private mount namespace needs root"
fi

step "Publish the three bundles to a signed repository (TUF roles: root, targets, snapshot, timestamp)"
"$packager" keygen --out "$demo/keys/root" >/dev/null
"$packager" keygen --out "$demo/keys/online" >/dev/null
repo="$demo/repo"
"$packager" repo init "$repo" --root-key "$demo/keys/root.key" \
  --targets-key "$demo/keys/release.key" --online-key "$demo/keys/online.key" >/dev/null
"$packager" repo add "$repo" "$demo/bundles"/KB967131-*.hotfix \
  --targets-key "$demo/keys/release.key" --online-key "$demo/keys/online.key"
"$packager" repo status "$repo"

step "A fresh x64 server takes the repository as a source, syncs, and is updated by id"
server="$demo/server-x64-from-repo"
cp -a "$demo/roots/x64" "$server"
"$installer" source add corp "file://$(realpath "$repo")" --root "$server" \
  --root-metadata "$repo/metadata/1.root.json"
"$installer" sync --root "$server"
set +e
"$installer" apply KB967131 --root "$server" > "$demo/apply-by-id.txt"
code=$?
set -e
head -n 2 "$demo/apply-by-id.txt"
echo "exit code $code (10: applied, restart required)"
[ "$code" -eq 10 ]
"$installer" verify --root "$server"
"$installer" sync --root "$server"

step "A fleet: four local servers (sshd on 127.0.0.2-5) rolled with Ansible's hotfix.fleet collection, then the fleet report"
/usr/bin/python3 scripts/fleet_demo.py build . "$demo/fleet"

step "Done: bundles in $demo/bundles/, the applied-and-removed image in $root, the repository in $repo, the server updated from it in $server, the fleet and its report in $demo/fleet/"
