#!/usr/bin/env bash
# Benchmark: `hotfix-packager build` against `tar -cf - DIR | zstd -3 -T2` and `sha256sum` over
# the same drop of real binaries (about 300 MB copied from /usr/lib), all in one run, warm
# page cache, best of N. Prints times, ratios, compression ratios and peak memory at two drop
# sizes (to show that memory does not grow with the drop).
#   bench/build_bench.sh [MEGABYTES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."

target_mb=${1:-300}
runs=${2:-3}

scripts/setup.sh
if ! command -v /usr/bin/time >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DHOTFIX_TESTS=OFF >/dev/null
cmake --build build-release --target hotfix-packager >/dev/null
packager=$PWD/build-release/packager/hotfix-packager

work=$PWD/build-release/bench-build
rm -rf "$work"
mkdir -p "$work"

# make_drop DIR MEGABYTES: real ELF binaries and libraries, as a build drop would hold.
make_drop() {
  local dir=$1 limit=$(( $2 * 1024 * 1024 )) total=0 count=0 size f rel
  mkdir -p "$dir"
  while IFS= read -r f; do
    size=$(stat -c %s "$f")
    (( total + size > limit )) && continue
    rel=${f#/}
    mkdir -p "$dir/$(dirname "$rel")"
    cp --preserve=timestamps "$f" "$dir/$rel"
    total=$(( total + size ))
    count=$(( count + 1 ))
    (( total >= limit - 65536 )) && break
  done < <(find /usr/lib/x86_64-linux-gnu /usr/lib/gcc /usr/libexec /usr/bin /usr/sbin \
             -xdev -type f -size +8k 2>/dev/null | sort)
  echo "$count files, $(( total / 1024 / 1024 )) MB"
}

# best_of RUNS CMD...: prints the best wall time in seconds.
best_of() {
  local n=$1 best="" start end t
  shift
  for _ in $(seq "$n"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    t=$(( end - start ))
    if [ -z "$best" ] || (( t < best )); then best=$t; fi
  done
  awk -v ns="$best" 'BEGIN { printf "%.3f", ns / 1e9 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

"$packager" keygen --out "$work/key" >/dev/null

run_size() {
  local mb=$1 drop="$work/drop-$1"
  echo "== drop of about $mb MB: $(make_drop "$drop" "$mb")"
  "$packager" scan "$drop" --manifest-id BENCH --arch x64 > "$work/manifest-$mb.json"
  find "$drop" -type f -exec cat {} + >/dev/null  # warm the page cache for every contender

  local t_hotfix t_tar t_sha rss
  t_hotfix=$(best_of "$runs" "$packager" build "$work/manifest-$mb.json" --drop x64="$drop" \
               --key "$work/key.key" --out "$work/out-$mb" --threads 2)
  t_tar=$(best_of "$runs" bash -c "tar -cf - -C '$drop' . | zstd -3 -T2 -q -f -o '$work/drop-$mb.tar.zst'")
  t_sha=$(best_of "$runs" bash -c "find '$drop' -type f -print0 | xargs -0 sha256sum")
  rss=$( { /usr/bin/time -f %M "$packager" build "$work/manifest-$mb.json" --drop x64="$drop" \
             --key "$work/key.key" --out "$work/out-$mb" --threads 2 >/dev/null; } 2>&1 | tail -n 1)

  local input bundle tarzst
  input=$(du -sb "$drop" | cut -f1)
  bundle=$(stat -c %s "$work/out-$mb/BENCH-x64.hotfix")
  tarzst=$(stat -c %s "$work/drop-$mb.tar.zst")
  printf '  hotfix-packager build      %7ss\n' "$t_hotfix"
  printf '  tar -cf - | zstd -3 -T2    %7ss\n' "$t_tar"
  printf '  sha256sum (one process)    %7ss\n' "$t_sha"
  printf '  ratio build / (tar|zstd)   %7s   (target <= 1.10)\n' "$(ratio "$t_hotfix" "$t_tar")"
  printf '  ratio build / sha256sum    %7s\n' "$(ratio "$t_hotfix" "$t_sha")"
  printf '  compression: bundle %sx, tar.zst %sx (input %s MB)\n' \
    "$(ratio "$input" "$bundle")" "$(ratio "$input" "$tarzst")" "$(( input / 1024 / 1024 ))"
  printf '  peak memory of build       %7s MB\n' "$(( rss / 1024 ))"
  rm -rf "$work/out-$mb" "$work/drop-$mb.tar.zst"
}

run_size $(( target_mb / 2 ))
run_size "$target_mb"
