#!/usr/bin/env bash
# Benchmark: hotfix-installer against dpkg and against plain hashing, all in one run, on the
# same files (about 300 MB of real binaries copied from /usr/lib, and 20,000 small files
# copied from /usr/share and /usr/include). Best of N, warm page cache unless COLD=1.
#   (a) `apply` of the whole bundle to an empty root  vs  `dpkg --root DIR -i` of a .deb with
#       the same files (zstd level 3, as the bundle); both durable (dpkg fsyncs every file,
#       the installer syncs the filesystem once per step);
#   (b) a hotfix-sized change, CHANGED of those files: `apply` of a second hotfix  vs  `dpkg -i`
#       of the upgraded .deb (which rewrites every file);
#   (c) `verify` of the installed files and of the small files  vs  `openssl dgst -sha256` and
#       `sha256sum` over the same files, each in one process.
# Prints wall-clock times, CPU times (user + system) and the ratios.
#   bench/install_bench.sh [MEGABYTES] [RUNS]      # default: 300 MB, best of 3
#   environment: SMALL_FILES (20000), CHANGED (15), COLD=1 (drop the page cache before every
#   timed run of (c); needs root), NICE (niceness of the timed commands, e.g. -20 on a busy
#   machine; needs root), BENCH_DIR (work directory; default build-release/bench-install)
set -euo pipefail
cd "$(dirname "$0")/.."

target_mb=${1:-300}
runs=${2:-3}
small_files=${SMALL_FILES:-20000}
changed=${CHANGED:-15}
cold=${COLD:-0}
niceness=${NICE:-0}

scripts/setup.sh
if ! command -v /usr/bin/time >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
for tool in dpkg dpkg-deb openssl sha256sum; do
  command -v "$tool" >/dev/null || { echo "install_bench: $tool is needed" >&2; exit 1; }
done
if [ "$cold" = 1 ] && [ ! -w /proc/sys/vm/drop_caches ]; then
  echo "install_bench: COLD=1 needs root (/proc/sys/vm/drop_caches)" >&2
  exit 1
fi
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOTFIX_TESTS=OFF >/dev/null
cmake --build build-release --target hotfix-packager hotfix-installer >/dev/null
packager=$PWD/build-release/packager/hotfix-packager
installer=$PWD/build-release/installer/hotfix-installer

work=${BENCH_DIR:-$PWD/build-release/bench-install}
old_work=""
if [ -e "$work" ]; then  # deleted at the end, not before the timings (see "trash" below)
  old_work=$work.old-$$
  mv "$work" "$old_work"
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)

# copy_files LIST DIR: copies the absolute paths in LIST (one a line) under DIR, keeping
# their paths and timestamps.
copy_files() {
  local list=$1 dir=$2
  sed 's|^/||' "$list" | tar -C / --no-recursion -cf - -T - | tar -C "$dir" -xf -
}

# pick_files LIMIT_BYTES MAX_COUNT SIZE-TEST DIR...: absolute paths of regular files (find's
# -size tests, e.g. +8k), sorted, until about LIMIT_BYTES or MAX_COUNT files.
pick_files() {
  local limit=$1 max=$2 size_test=$3
  shift 3
  find "$@" -xdev -type f $size_test -printf '%s\t%p\n' 2>/dev/null | LC_ALL=C sort -t "$(printf '\t')" -k2 |
    awk -F '\t' -v limit="$limit" -v max="$max" '
      done || $2 !~ /^[A-Za-z0-9_.+\/-]+$/ { next }   # names any manifest accepts
      total + $1 > limit || tolower($2) in seen { next }  # paths are unique ignoring case
      { seen[tolower($2)] = 1 }
      {
        total += $1; count++; print $2
        if (count >= max || total >= limit - 65536) done = 1
      }'
}

# Timing. measure NAME PREPARE CMD...: runs PREPARE (untimed, a shell string, may be empty),
# then CMD once; keeps the best wall time and the least CPU time (user + system) so far in
# WALL[NAME] and CPU[NAME], in seconds. CMD must succeed (exit 0 or 10, "restart required").
# The contenders of a comparison take turns, run by run, so that both see the same machine.
declare -A WALL CPU
measure() {
  local name=$1 prepare=$2
  shift 2
  local start end t cpu rc
  if [ -n "$prepare" ] && ! bash -c "$prepare" >"$work/out" 2>&1; then
    echo "install_bench: preparing $name failed: $prepare" >&2
    tail -n 20 "$work/out" >&2
    exit 1
  fi
  sync
  if [ "$cold" = 1 ] && [[ $name == verify* || $name == openssl* || $name == sha256sum* ]]; then
    echo 3 > /proc/sys/vm/drop_caches
  fi
  start=$(date +%s%N)
  rc=0
  nice -n "$niceness" /usr/bin/time -f '%U %S' -o "$work/time" "$@" >"$work/out" 2>&1 || rc=$?
  end=$(date +%s%N)
  if [ "$rc" != 0 ] && [ "$rc" != 10 ]; then
    echo "install_bench: $name failed (exit $rc): $*" >&2
    tail -n 20 "$work/out" >&2
    exit 1
  fi
  t=$(awk -v ns="$(( end - start ))" 'BEGIN { printf "%.3f", ns / 1e9 }')
  cpu=$(awk 'END { printf "%.2f", $1 + $2 }' "$work/time")
  if [ -z "${WALL[$name]:-}" ] || awk -v a="$t" -v b="${WALL[$name]}" 'BEGIN { exit !(a < b) }'; then
    WALL[$name]=$t
  fi
  if [ -z "${CPU[$name]:-}" ] || awk -v a="$cpu" -v b="${CPU[$name]}" 'BEGIN { exit !(a < b) }'; then
    CPU[$name]=$cpu
  fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
show() { printf '  %-44s %8ss  cpu %7ss\n' "$1" "${WALL[$2]}" "${CPU[$2]}"; }
show_ratio() {
  printf '  %-44s %8s   cpu %6s   (target <= %s)\n' "$1" "$(ratio "${WALL[$2]}" "${WALL[$3]}")" \
    "$(ratio "${CPU[$2]}" "${CPU[$3]}")" "$4"
}

# make_deb TREE VERSION OUT: a .deb of TREE's files, zstd level 3 like the bundles.
make_deb() {
  local tree=$1 version=$2 out=$3 pkg="$work/deb-tree"
  rm -rf "$pkg"
  cp -al "$tree" "$pkg"
  mkdir -p "$pkg/DEBIAN"
  printf 'Package: hotfix-bench\nVersion: %s\nArchitecture: amd64\nMaintainer: bench <bench@example.invalid>\nDescription: benchmark payload\n' \
    "$version" > "$pkg/DEBIAN/control"
  dpkg-deb --root-owner-group -Zzstd -z3 --build "$pkg" "$out" >/dev/null
  rm -rf "$pkg"
}

# new_dpkg_root DIR: an empty root with an empty dpkg database.
new_dpkg_root() {
  rm -rf "$1"
  mkdir -p "$1/var/lib/dpkg/updates" "$1/var/lib/dpkg/info"
  : > "$1/var/lib/dpkg/status"
}

# make_bundle DROP ID OUT-DIR [REVISION]: manifest by scanning DROP, signed bundle.
make_bundle() {
  local drop=$1 id=$2 out=$3 revision=${4:-1}
  "$packager" scan "$drop" --manifest-id "$id" --arch x64 |
    sed "s/^  \"revision\": 1,/  \"revision\": $revision,/" > "$work/$id.json"
  "$packager" build "$work/$id.json" --drop x64="$drop" --key "$work/key.key" --out "$out" \
    --threads 2 >/dev/null
}

"$packager" keygen --out "$work/key" >/dev/null
trust=(--trust "$work/key.pub")

echo "== preparing (not timed)"
pick_files $(( target_mb * 1024 * 1024 )) 1000000 "-size +8k -size -16M" \
  /usr/lib/x86_64-linux-gnu /usr/lib/gcc /usr/libexec /usr/bin /usr/sbin \
  > "$work/big.list"
mkdir -p "$work/drop"
copy_files "$work/big.list" "$work/drop"
big_count=$(wc -l < "$work/big.list")
big_mb=$(( $(du -sb "$work/drop" | cut -f1) / 1024 / 1024 ))
echo "  binaries: $big_count files, $big_mb MB"

# The change: CHANGED files spread over the drop, each with a few bytes appended (a rebuild
# with other content; ELF files carry no version, so the plan compares content).
mkdir -p "$work/update"
awk -v n="$big_count" -v k="$changed" 'NR % int(n / k) == 0 && c < k { c++; print }' \
  "$work/big.list" > "$work/changed.list"
copy_files "$work/changed.list" "$work/update"
cp -al "$work/drop" "$work/drop-v2"
while IFS= read -r f; do
  rel=${f#/}
  printf 'hotfix benchmark rebuild\n' >> "$work/update/$rel"
  rm "$work/drop-v2/$rel"
  cp -p "$work/update/$rel" "$work/drop-v2/$rel"
done < "$work/changed.list"

pick_files $(( 1024 * 1024 * 1024 )) "$small_files" "-size -16k -size +0" /usr/share /usr/include \
  > "$work/small.list"
mkdir -p "$work/small"
copy_files "$work/small.list" "$work/small"
small_count=$(wc -l < "$work/small.list")
small_mb=$(( $(du -sb "$work/small" | cut -f1) / 1024 / 1024 ))
echo "  small files: $small_count files, $small_mb MB"

make_bundle "$work/drop" BENCH "$work/bundles"
make_bundle "$work/update" BENCH-UPDATE "$work/bundles"
make_bundle "$work/small" BENCH-SMALL "$work/bundles"
make_deb "$work/drop" 1 "$work/bench_1.deb"
make_deb "$work/drop-v2" 2 "$work/bench_2.deb"
printf '  bundle %s MB, .deb %s MB\n' \
  "$(( $(stat -c %s "$work/bundles/BENCH-x64.hotfix") / 1024 / 1024 ))" \
  "$(( $(stat -c %s "$work/bench_1.deb") / 1024 / 1024 ))"
cat "$work/bundles"/*.hotfix "$work"/*.deb >/dev/null  # both start from a warm cache

root=$work/root          # the installer's target
droot=$work/dpkg-root    # dpkg's
sroot=$work/small-root   # the small files

# Roots of finished runs are moved aside and deleted at the end: creating files right after
# deleting many costs ext4 extra time (it skips recently freed inodes), which would blur the
# comparison.
trash=$work/trash
mkdir -p "$trash"
echo "== (a) install $big_count files ($big_mb MB) into an empty root, durable"
for run in $(seq "$runs"); do
  measure apply "if [ -e '$root' ]; then mv '$root' '$trash/root-$run'; fi; mkdir '$root'" \
    "$installer" apply "$work/bundles/BENCH-x64.hotfix" --root "$root" "${trust[@]}"
  measure dpkg-install \
    "if [ -e '$droot' ]; then mv '$droot' '$trash/dpkg-root-$run'; fi; $(declare -f new_dpkg_root); new_dpkg_root '$droot'" \
    dpkg --root="$droot" -i "$work/bench_1.deb"
done
show "hotfix-installer apply" apply
show "dpkg --root DIR -i" dpkg-install
show_ratio "ratio apply / dpkg" apply dpkg-install 0.7

echo "== (b) replace $changed of the $big_count files, durable"
# Between runs (not timed): uninstall the update, downgrade the package.
for run in $(seq "$runs"); do
  measure apply-update "'$installer' uninstall BENCH-UPDATE --root '$root' || [ \$? = 5 ]" \
    "$installer" apply "$work/bundles/BENCH-UPDATE-x64.hotfix" --root "$root" "${trust[@]}"
  measure dpkg-upgrade "dpkg --root='$droot' -i '$work/bench_1.deb'" \
    dpkg --root="$droot" -i "$work/bench_2.deb"
done
show "hotfix-installer apply ($changed files)" apply-update
show "dpkg --root DIR -i (upgrade)" dpkg-upgrade
show_ratio "ratio apply / dpkg" apply-update dpkg-upgrade 0.1
"$installer" uninstall BENCH-UPDATE --root "$root" >/dev/null

mkdir -p "$sroot"
"$installer" apply "$work/bundles/BENCH-SMALL-x64.hotfix" --root "$sroot" "${trust[@]}" >/dev/null
verify_cycle() {  # verify_cycle LABEL ROOT ID COUNT
  local label=$1 dir=$2 id=$3 count=$4
  # The files the hotfix installed, relative to the root, NUL-separated.
  sed 's|^/||' "$work/$label.list" | tr '\n' '\0' > "$work/$label.files"
  for _ in $(seq "$runs"); do
    measure "verify-$label" "" "$installer" verify "$id" --root "$dir"
    measure "openssl-$label" "" \
      bash -c "cd '$dir' && xargs -0 -s 2000000 -a '$work/$label.files' openssl dgst -sha256"
    measure "sha256sum-$label" "" \
      bash -c "cd '$dir' && xargs -0 -s 2000000 -a '$work/$label.files' sha256sum"
  done
  echo "== (c) verify $count files ($label)$([ "$cold" = 1 ] && echo ", cold cache" || echo ", warm cache")"
  show "hotfix-installer verify" "verify-$label"
  show "openssl dgst -sha256 (one process)" "openssl-$label"
  show "sha256sum (one process)" "sha256sum-$label"
  show_ratio "ratio verify / openssl" "verify-$label" "openssl-$label" 0.6
  printf '  %-44s %8s\n' "ratio verify / sha256sum" \
    "$(ratio "${WALL[verify-$label]}" "${WALL[sha256sum-$label]}")"
  printf '  %-44s %8s\n' "cores used by verify (cpu / wall)" \
    "$(ratio "${CPU[verify-$label]}" "${WALL[verify-$label]}")"
}
verify_cycle big "$root" BENCH "$big_count"
verify_cycle small "$sroot" BENCH-SMALL "$small_count"
rm -rf "$trash"
if [ -n "$old_work" ]; then rm -rf "$old_work"; fi
