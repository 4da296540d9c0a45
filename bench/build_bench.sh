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

# measure RUNS PREP CMD...: runs PREP (untimed: removes the previous output), then CMD, RUNS
# times; prints "best-wall-s best-cpu-s peak-rss-kb" (cpu = user + system of all processes).
measure() {
  local n=$1 prep=$2 wall user sys cpu rss best_wall="" best_cpu="" max_rss=0
  shift 2
  for _ in $(seq "$n"); do
    bash -c "$prep"
    sync
    /usr/bin/time -o "$work/time.txt" -f '%e %U %S %M' "$@" >/dev/null 2>&1
    read -r wall user sys rss < <(tail -n 1 "$work/time.txt")
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    if [ -z "$best_wall" ] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
      best_wall=$wall
    fi
    if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
      best_cpu=$cpu
    fi
    (( rss > max_rss )) && max_rss=$rss
  done
  echo "$best_wall $best_cpu $max_rss"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

"$packager" keygen --out "$work/key" >/dev/null

run_size() {
  local mb=$1 drop="$work/drop-$1"
  local out="$work/out-$mb" tarzst="$work/drop-$mb.tar.zst"
  echo "== drop of about $mb MB: $(make_drop "$drop" "$mb")"
  "$packager" scan "$drop" --manifest-id BENCH --arch x64 > "$work/manifest-$mb.json"
  find "$drop" -type f -exec cat {} + >/dev/null  # warm the page cache for every contender

  local build tar tar_sync sha
  build=$(measure "$runs" "rm -rf '$out'" "$packager" build "$work/manifest-$mb.json" \
            --drop x64="$drop" --key "$work/key.key" --out "$out" --threads 2)
  tar=$(measure "$runs" "rm -f '$tarzst'" \
          bash -c "tar -cf - -C '$drop' . | zstd -3 -T2 -q -f -o '$tarzst'")
  tar_sync=$(measure "$runs" "rm -f '$tarzst'" \
               bash -c "tar -cf - -C '$drop' . | zstd -3 -T2 -q -f -o '$tarzst' && sync '$tarzst'")
  sha=$(measure "$runs" "true" bash -c "find '$drop' -type f -print0 | xargs -0 sha256sum")

  local b_wall b_cpu b_rss t_wall t_cpu ts_wall ts_cpu s_wall s_cpu _
  read -r b_wall b_cpu b_rss <<<"$build"
  read -r t_wall t_cpu _ <<<"$tar"
  read -r ts_wall ts_cpu _ <<<"$tar_sync"
  read -r s_wall s_cpu _ <<<"$sha"
  local input bundle tarzst_bytes
  input=$(du -sb "$drop" | cut -f1)
  bundle=$(stat -c %s "$out/BENCH-x64.hotfix")
  tarzst_bytes=$(stat -c %s "$tarzst")
  printf '  %-40s %8s %8s\n' "best of $runs" "wall s" "cpu s"
  printf '  %-40s %8s %8s\n' "hotfix-packager build (durable)" "$b_wall" "$b_cpu"
  printf '  %-40s %8s %8s\n' "tar -cf - | zstd -3 -T2" "$t_wall" "$t_cpu"
  printf '  %-40s %8s %8s\n' "tar -cf - | zstd -3 -T2 && sync FILE" "$ts_wall" "$ts_cpu"
  printf '  %-40s %8s %8s\n' "sha256sum (one process)" "$s_wall" "$s_cpu"
  printf '  ratio build / (tar|zstd && sync)   %6s   (like for like: both durable; target <= 1.10)\n' \
    "$(ratio "$b_wall" "$ts_wall")"
  printf '  ratio build / (tar|zstd)           %6s   (tar|zstd not durable)\n' \
    "$(ratio "$b_wall" "$t_wall")"
  printf '  ratio build / sha256sum            %6s\n' "$(ratio "$b_wall" "$s_wall")"
  printf '  compression: bundle %sx, tar.zst %sx (input %s MB)\n' \
    "$(ratio "$input" "$bundle")" "$(ratio "$input" "$tarzst_bytes")" "$(( input / 1024 / 1024 ))"
  printf '  peak memory (RSS) of build          %6s MB\n' "$(( b_rss / 1024 ))"
  rm -rf "$out" "$tarzst"
}

run_size $(( target_mb / 2 ))
run_size "$target_mb"
