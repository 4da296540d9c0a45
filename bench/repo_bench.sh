#!/usr/bin/env bash
# Benchmark: the signed repository, served by a real nginx on 127.0.0.1, against what apt
# downloads and against curl, all in one run:
#   (1) the metadata a new server downloads from a repository of HOTFIXES hotfixes  vs  apt's
#       index of as many packages with the same fields (a Debian Packages file made from the
#       repository's own entries: xz -9 as Packages.xz; gzip -9 and zstd -19 for reference);
#   (2) the first sync of a new server  vs  curl of timestamp.json and Packages.xz;
#   (3) a sync with nothing new  vs  a conditional GET of timestamp.json with curl (what
#       `apt-get update` does with InRelease);
#   (4) a sync that finds one new hotfix  vs  curl of timestamp.json and the new Packages.xz;
#   (5) `fetch` of a MEGABYTES bundle  vs  `curl -o FILE && sync FILE`, and fetch's peak memory
#       at MEGABYTES and at SMALL_MB (it should not grow with the bundle).
# Best of RUNS, warm page cache; bytes from nginx's access log. Prints bytes, times, ratios.
#   bench/repo_bench.sh [HOTFIXES] [MEGABYTES] [RUNS]   # default: 10000 hotfixes, 300 MB, best of 3
#   environment: SMALL_MB (MEGABYTES / 10), BUILD_DIR (the build with the two programs;
#   default build), BENCH_DIR (where the work directory is made; default $TMPDIR or /tmp),
#   JOBS (parallel bundle builds; default nproc), KEEP=1 (keep the work directory)
set -euo pipefail
cd "$(dirname "$0")/.."

hotfixes=${1:-10000}
bundle_mb=${2:-300}
runs=${3:-3}
small_mb=${SMALL_MB:-$(( bundle_mb / 10 > 0 ? bundle_mb / 10 : 1 ))}
jobs=${JOBS:-$(nproc)}
nginx=/usr/sbin/nginx
for n in "$hotfixes" "$bundle_mb" "$runs" "$small_mb" "$jobs"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "repo_bench: expected a positive number, found \"$n\"" >&2; exit 2; }
done

scripts/setup.sh
for tool in "$nginx" curl xz gzip zstd python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || {
    echo "repo_bench: $tool is needed (scripts/setup.sh installs it)" >&2
    exit 1
  }
done
build_dir=$(cd "${BUILD_DIR:-build}" && pwd)
packager=$build_dir/packager/hotfix-packager
installer=$build_dir/installer/hotfix-installer
for p in "$packager" "$installer"; do
  if [ ! -x "$p" ]; then
    echo "repo_bench: $p is missing (ninja -C $build_dir hotfix-packager hotfix-installer)" >&2
    exit 1
  fi
done

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/repo-bench.XXXXXX")
nginx_pid=""
stop_nginx() {
  [ -n "$nginx_pid" ] || return 0
  kill -TERM "$nginx_pid" 2>/dev/null || true
  for _ in $(seq 50); do  # at most 5 s
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=""
}
cleanup() {
  stop_nginx
  if [ "${KEEP:-0}" = 1 ]; then
    echo "work directory kept: $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

fail() {
  echo "repo_bench: $*" >&2
  exit 1
}

# ---- nginx: its own prefix, config, logs and pid under the work directory; port picked at
# random and tried again when taken. The log gives every request's connection, status, body
# bytes, response bytes (with headers) and request bytes.
www=$work/www
prefix=$work/nginx
log=$prefix/access.log
port=""
write_nginx_conf() {
  local user=""
  if [ "$(id -u)" = 0 ]; then user="user root;"; fi  # "nobody" could not read the work dir
  cat > "$prefix/nginx.conf" <<EOF
$user
worker_processes 1;
pid "$prefix/nginx.pid";
lock_file "$prefix/nginx.lock";
error_log "$prefix/error.log" info;
events { worker_connections 64; }
http {
  log_format bench '\$connection \$status \$body_bytes_sent \$bytes_sent \$request_length "\$request"';
  access_log "$log" bench;
  client_body_temp_path "$prefix/client_body_temp";
  proxy_temp_path "$prefix/proxy_temp";
  fastcgi_temp_path "$prefix/fastcgi_temp";
  uwsgi_temp_path "$prefix/uwsgi_temp";
  scgi_temp_path "$prefix/scgi_temp";
  default_type application/octet-stream;
  types { application/json json; }
  sendfile on;
  etag on;
  # As docs/repository-format.md advises: metadata travels gzip-compressed (the installer asks
  # for it); bundles, already zstd, do not.
  gzip on;
  gzip_comp_level 6;
  gzip_types application/json;
  server {
    listen 127.0.0.1:$port;
    root "$www";
  }
}
EOF
}

start_nginx() {
  mkdir -p "$prefix" "$www"
  for _ in 1 2 3 4 5; do
    port=$(( 20000 + RANDOM % 40000 ))
    write_nginx_conf
    rm -f "$prefix/nginx.pid" "$prefix/error.log"
    "$nginx" -p "$prefix/" -c "$prefix/nginx.conf" -g 'daemon off;' 2>"$prefix/stderr" &
    nginx_pid=$!
    for _ in $(seq 100); do  # at most 10 s
      kill -0 "$nginx_pid" 2>/dev/null || break
      if [ "$(cat "$prefix/nginx.pid" 2>/dev/null)" = "$nginx_pid" ] &&
        curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        return 0
      fi
      sleep 0.1
    done
    if kill -0 "$nginx_pid" 2>/dev/null; then
      stop_nginx
      fail "nginx accepted no connection in 10 s: $(cat "$prefix/error.log" 2>/dev/null)"
    fi
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=""
    if ! grep -q "Address already in use" "$prefix/error.log" "$prefix/stderr" 2>/dev/null; then
      fail "nginx exited: $(cat "$prefix/error.log" "$prefix/stderr" 2>/dev/null)"
    fi
  done
  fail "nginx found no free port in 5 tries"
}

# A request nginx logs after every request before it (one worker, events in order): waited
# for, so that a measurement's requests are all in the log.
marks=0
settle() {
  marks=$(( marks + 1 ))
  curl -s -o /dev/null "http://127.0.0.1:$port/bench-mark-$marks"
  for _ in $(seq 100); do  # at most 2 s
    grep -q "GET /bench-mark-$marks HTTP" "$log" && return 0
    sleep 0.02
  done
  fail "nginx did not log a request in 2 s"
}
log_size() { stat -c %s "$log"; }
# traffic OFFSET: "requests connections body-bytes wire-bytes statuses" of the requests logged
# after byte OFFSET of the log (wire: responses with their headers, plus the requests).
traffic() {
  tail -c +"$(( $1 + 1 ))" "$log" | awk '
    / "GET \/bench-mark-/ { next }
    {
      n++; body += $3; wire += $4 + $5
      if (!($1 in seen)) { seen[$1] = 1; conns++ }
      statuses = statuses (statuses == "" ? "" : ",") $2
    }
    END { printf "%d %d %d %d %s\n", n, conns, body, wire, (statuses == "" ? "-" : statuses) }'
}

# ---- timing. measure NAME PREPARE CMD...: runs PREPARE (untimed, a shell string, may be
# empty), then CMD once; keeps the best wall time, the least CPU time (user + system) and the
# largest peak RSS so far in WALL[NAME], CPU[NAME], RSS[NAME] (seconds, KB), and the last
# run's traffic in NET[NAME]. The contenders of a comparison take turns, run by run.
declare -A WALL CPU RSS NET
measure() {
  local name=$1 prepare=$2
  shift 2
  local start end t cpu rss before rc=0
  if [ -n "$prepare" ] && ! bash -c "$prepare" >"$work/out" 2>&1; then
    tail -n 20 "$work/out" >&2
    fail "preparing $name failed: $prepare"
  fi
  sync  # no run pays for flushing another's writes
  before=$(log_size)
  start=$(date +%s%N)
  /usr/bin/time -f '%U %S %M' -o "$work/time" "$@" >"$work/out" 2>&1 || rc=$?
  end=$(date +%s%N)
  if [ "$rc" != 0 ]; then
    tail -n 20 "$work/out" >&2
    fail "$name failed (exit $rc): $*"
  fi
  settle
  NET[$name]=$(traffic "$before")
  t=$(awk -v ns="$(( end - start ))" 'BEGIN { printf "%.3f", ns / 1e9 }')
  read -r cpu rss < <(awk 'END { printf "%.2f %d\n", $1 + $2, $3 }' "$work/time")
  if [ -z "${WALL[$name]:-}" ] || awk -v a="$t" -v b="${WALL[$name]}" 'BEGIN { exit !(a < b) }'; then
    WALL[$name]=$t
  fi
  if [ -z "${CPU[$name]:-}" ] || awk -v a="$cpu" -v b="${CPU[$name]}" 'BEGIN { exit !(a < b) }'; then
    CPU[$name]=$cpu
  fi
  if [ "$rss" -gt "${RSS[$name]:-0}" ]; then RSS[$name]=$rss; fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
net_field() { awk -v f="$2" '{ print $f }' <<<"${NET[$1]}"; }  # 1 requests, 2 connections,
wire() { net_field "$1" 4; }                                    # 3 body, 4 wire, 5 statuses
show_time() { printf '  %-46s %8ss  cpu %6ss\n' "$1" "${WALL[$2]}" "${CPU[$2]}"; }
show_net() {
  printf '  %-46s %10s on the wire (%s body), %s request(s) on %s connection(s): %s\n' "$1" \
    "$(kb "$(wire "$2")")" "$(kb "$(net_field "$2" 3)")" "$(net_field "$2" 1)" \
    "$(net_field "$2" 2)" "$(net_field "$2" 5)"
}
summary=()
add_summary() { summary+=("$(printf '  %-44s %14s %14s %8s' "$@")"); }

# ---- preparing (not timed)
echo "== preparing (not timed): $hotfixes hotfixes, bundles of $bundle_mb and $small_mb MB, best of $runs"
echo "  work directory $work; $(nproc) cores; programs from $build_dir"
for k in root targets online; do "$packager" keygen --out "$work/$k" >/dev/null; done
keys=(--targets-key "$work/targets.key" --online-key "$work/online.key")

# One tiny drop (one 4 KB library) and HOTFIXES + 1 manifests that differ in id and title:
# tiny bundles, but each a real signed one that repo add verifies.
mkdir -p "$work/drop/usr/lib/hotfix"
head -c 4096 /dev/urandom > "$work/drop/usr/lib/hotfix/libfix.so"
"$packager" scan "$work/drop" --manifest-id KBTEMPLATE --arch x64 > "$work/template.json"
mkdir -p "$work/manifests" "$work/bundles"
awk -v n="$(( hotfixes + 1 ))" -v dir="$work/manifests" '
  { line[NR] = $0 }
  END {
    split("Fixes a crash in|Fixes a memory leak in|Security update for|Fixes a hang in|Improves the start-up time of|Fixes wrong results from", verb, "|")
    split("the print spooler|the TLS library|the storage driver|the web server module|the backup agent|the time service|the package cache|the directory client", what, "|")
    for (i = 1; i <= n; i++) {
      id = sprintf("KB%07d", i)
      title = sprintf("%s %s when component %d is reloaded", verb[i % 6 + 1], what[int(i / 6) % 8 + 1], i % 997)
      file = dir "/" id ".json"
      for (l = 1; l <= NR; l++) {
        s = line[l]
        if (s ~ /"title": "KBTEMPLATE"/) sub(/"KBTEMPLATE"/, "\"" title "\"", s)
        else sub(/KBTEMPLATE/, id, s)
        print s > file
      }
      close(file)
    }
  }' "$work/template.json"
extra_id=$(printf 'KB%07d' $(( hotfixes + 1 )))

start=$(date +%s%N)
for i in $(seq "$(( hotfixes + 1 ))"); do printf 'KB%07d\n' "$i"; done |
  xargs -P "$jobs" -I '{}' "$packager" build "$work/manifests/{}.json" --drop x64="$work/drop" \
    --key "$work/targets.key" --out "$work/bundles" --threads 1 -q >/dev/null
build_s=$(awk -v ns="$(( $(date +%s%N) - start ))" 'BEGIN { printf "%.1f", ns / 1e9 }')
mkdir -p "$work/extra"
mv "$work/bundles/$extra_id-x64.hotfix" "$work/extra/"
tiny_bytes=$(stat -c %s "$work/extra/$extra_id-x64.hotfix")
echo "  $(( hotfixes + 1 )) bundles built in ${build_s}s ($jobs at a time), $tiny_bytes bytes each"

repo=$www/repo
"$packager" repo init "$repo" --root-key "$work/root.key" "${keys[@]}" >/dev/null
# As few repo add calls as the command line allows (each publishes a generation).
arg_space=$(( $(getconf ARG_MAX) / 2 ))
start=$(date +%s%N)
find "$work/bundles" -name '*.hotfix' -print0 | sort -z |
  xargs -0 -s "$arg_space" "$packager" repo add "$repo" "${keys[@]}" > "$work/add.out"
add_s=$(awk -v ns="$(( $(date +%s%N) - start ))" 'BEGIN { printf "%.1f", ns / 1e9 }')
generations=$(grep -c '^targets version' "$work/add.out")
rm -rf "$work/bundles"  # the repository has its own copies
echo "  repo add of $hotfixes bundles: ${add_s}s in $generations call(s)"

# apt's index of the same entries: a Packages stanza per published bundle, with its id,
# revision, title, length and SHA-256.
make_packages() {  # make_packages OUT
  "$packager" repo status "$repo" --json | python3 -c '
import json, sys
out = open(sys.argv[1], "w")
for b in json.load(sys.stdin)["data"]["bundles"]:
    name = "hotfix-" + b["id"].lower()
    out.write(f"""Package: {name}
Version: {b["revision"]}
Architecture: amd64
Maintainer: Example Corp Release Engineering <release@example.com>
Installed-Size: 4
Depends: libc6 (>= 2.36)
Filename: pool/main/h/{name}/{name}_{b["revision"]}_amd64.deb
Size: {b["length"]}
SHA256: {b["sha256"]}
Description: {b["title"]}

""")' "$1"
  xz -9 -k -f "$1"
}
mkdir -p "$www/apt"
make_packages "$www/apt/Packages"
gzip -9 -k -f "$www/apt/Packages"
zstd -19 -q -k -f "$www/apt/Packages"

# A server's root: Linux x64, the source added with root version 1.
make_root() {  # make_root DIR NAME URL REPO
  mkdir -p "$1/etc/hotfix"
  printf '%s\n' '{"family": "linux", "product": "Debian GNU/Linux 12 (bookworm)", "version": "12", "architecture": "x64"}' \
    > "$1/etc/hotfix/system.json"
  "$installer" source add "$2" "$3" --root "$1" --root-metadata "$4/metadata/1.root.json" >/dev/null
}

start_nginx
url=http://127.0.0.1:$port
echo "  nginx $("$nginx" -v 2>&1 | sed 's|.*/||') on $url (pid $nginx_pid)"
# Validators of a file changed in the second of the answer are not used by the installer: the
# timestamp is made older, as if published a while ago.
touch -d '-10 seconds' "$repo/metadata/timestamp.json"
make_root "$work/root-new" corp "$url/repo" "$repo"
settle

# ---- (1) sizes
echo "== (1) metadata of a repository of $hotfixes hotfixes, against apt's index of as many packages"
file_size() { stat -c %s "$repo/metadata/$1"; }
ts_version=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$repo/metadata/timestamp.json")
sn_version=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["meta"]["snapshot.json"]["version"])' "$repo/metadata/timestamp.json")
tg_version=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["meta"]["targets.json"]["version"])' "$repo/metadata/$sn_version.snapshot.json")
targets_file=$repo/metadata/$tg_version.targets.json
root_b=$(( $(file_size 1.root.json) + $(file_size 1.root.json.sig) ))
ts_b=$(( $(file_size timestamp.json) + $(file_size "$ts_version.timestamp.json.sig") ))
sn_b=$(( $(file_size "$sn_version.snapshot.json") + $(file_size "$sn_version.snapshot.json.sig") ))
tg_b=$(file_size "$tg_version.targets.json")
tg_sig_b=$(file_size "$tg_version.targets.json.sig")
meta_b=$(( root_b + ts_b + sn_b + tg_b + tg_sig_b ))
xz -9 -k -c "$targets_file" > "$work/targets.json.xz"
gzip -9 -c "$targets_file" > "$work/targets.json.gz"
zstd -19 -q -c "$targets_file" > "$work/targets.json.zst"
pk=$(stat -c %s "$www/apt/Packages")
pk_xz=$(stat -c %s "$www/apt/Packages.xz")
pk_gz=$(stat -c %s "$www/apt/Packages.gz")
pk_zst=$(stat -c %s "$www/apt/Packages.zst")
tg_xz=$(stat -c %s "$work/targets.json.xz")
tg_gz=$(stat -c %s "$work/targets.json.gz")
tg_zst=$(stat -c %s "$work/targets.json.zst")
row() { printf '  %-46s %12s  %s\n' "$1" "$(kb "$2")" "${3:-}"; }
row "root.json + .sig (handed over by source add)" "$root_b"
row "timestamp.json + .sig" "$ts_b"
row "snapshot.json + .sig" "$sn_b"
row "targets.json (uncompressed JSON) + .sig" "$(( tg_b + tg_sig_b ))" \
  "$(( tg_b / hotfixes )) bytes a hotfix"
row "hotfix metadata of a new server, total" "$meta_b"
row "Packages (uncompressed)" "$pk" "$(( pk / hotfixes )) bytes a package"
row "Packages.xz (xz -9, what apt downloads)" "$pk_xz"
row "Packages.gz (gzip -9)" "$pk_gz"
row "Packages.zst (zstd -19)" "$pk_zst"
row "targets.json if it were xz -9 / gzip -9" "$tg_xz" "/ $(kb "$tg_gz"), zstd -19 $(kb "$tg_zst")"
printf '  %-46s %12s\n' "ratio hotfix metadata / Packages.xz" "$(ratio "$meta_b" "$pk_xz")"
printf '  %-46s %12s\n' "ratio targets.json / Packages (both plain)" "$(ratio "$tg_b" "$pk")"
printf '  %-46s %12s\n' "ratio targets.json.xz / Packages.xz" "$(ratio "$tg_xz" "$pk_xz")"
add_summary "metadata of a new server (bytes)" "$meta_b" "$pk_xz" "$(ratio "$meta_b" "$pk_xz")"
add_summary "targets.json.xz / Packages.xz (bytes)" "$tg_xz" "$pk_xz" "$(ratio "$tg_xz" "$pk_xz")"

# ---- (2) the first sync of a new server
echo "== (2) first sync of a new server ($hotfixes hotfixes)"
cp -a "$work/root-new" "$work/root-fresh"
for _ in $(seq "$runs"); do
  measure first-sync "rm -rf '$work/root-run' && cp -a '$work/root-fresh' '$work/root-run'" \
    "$installer" sync --root "$work/root-run"
  measure curl-first "" curl -s -o /dev/null "$url/repo/metadata/timestamp.json" \
    -o /dev/null "$url/apt/Packages.xz"
done
show_time "hotfix-installer sync (new server)" first-sync
show_time "curl timestamp.json + Packages.xz" curl-first
show_net "  sync" first-sync
show_net "  curl" curl-first
printf '  %-46s %8s   bytes %6s\n' "ratio sync / curl" "$(ratio "${WALL[first-sync]}" "${WALL[curl-first]}")" \
  "$(ratio "$(wire first-sync)" "$(wire curl-first)")"
printf '  %-46s %8s MB\n' "peak memory (RSS) of sync" "$(( RSS[first-sync] / 1024 ))"
add_summary "first sync, bytes on the wire" "$(wire first-sync)" "$(wire curl-first)" \
  "$(ratio "$(wire first-sync)" "$(wire curl-first)")"
add_summary "first sync, wall s" "${WALL[first-sync]}" "${WALL[curl-first]}" \
  "$(ratio "${WALL[first-sync]}" "${WALL[curl-first]}")"

# ---- (3) nothing new
echo "== (3) sync with nothing new ($hotfixes hotfixes)"
synced=$work/root-synced
mv "$work/root-run" "$synced"
"$installer" sync --root "$synced" >/dev/null  # the validators of the aged timestamp
curl -s -o /dev/null --etag-save "$work/etag" "$url/repo/metadata/timestamp.json"
for _ in $(seq "$runs"); do
  measure sync-noop "" "$installer" sync --root "$synced"
  measure curl-noop "" curl -s -o /dev/null --etag-compare "$work/etag" \
    -z "$repo/metadata/timestamp.json" "$url/repo/metadata/timestamp.json"
done
[[ $(net_field sync-noop 5) == *304* ]] || echo "  warning: sync's timestamp was not a 304: $(net_field sync-noop 5)"
[[ $(net_field curl-noop 5) == 304 ]] || echo "  warning: curl's conditional GET was not a 304: $(net_field curl-noop 5)"
show_time "hotfix-installer sync (nothing new)" sync-noop
show_time "curl conditional GET of timestamp.json" curl-noop
show_net "  sync" sync-noop
show_net "  curl" curl-noop
printf '  %-46s %8s   bytes %6s\n' "ratio sync / curl" "$(ratio "${WALL[sync-noop]}" "${WALL[curl-noop]}")" \
  "$(ratio "$(wire sync-noop)" "$(wire curl-noop)")"
printf '  %-46s %8s MB\n' "peak memory (RSS) of sync" "$(( RSS[sync-noop] / 1024 ))"
add_summary "nothing new, bytes on the wire" "$(wire sync-noop)" "$(wire curl-noop)" \
  "$(ratio "$(wire sync-noop)" "$(wire curl-noop)")"
add_summary "nothing new, wall s" "${WALL[sync-noop]}" "${WALL[curl-noop]}" \
  "$(ratio "${WALL[sync-noop]}" "${WALL[curl-noop]}")"

# ---- (4) one new hotfix
echo "== (4) sync that finds one new hotfix ($hotfixes + 1)"
cp -a "$synced" "$work/root-at-n"
"$packager" repo add "$repo" "${keys[@]}" "$work/extra/$extra_id-x64.hotfix" >/dev/null
make_packages "$www/apt/Packages"  # apt's index with the new package: downloaded whole
for _ in $(seq "$runs"); do
  measure sync-one "rm -rf '$work/root-run' && cp -a '$work/root-at-n' '$work/root-run'" \
    "$installer" sync --root "$work/root-run"
  measure curl-one "" curl -s -o /dev/null "$url/repo/metadata/timestamp.json" \
    -o /dev/null "$url/apt/Packages.xz"
done
show_time "hotfix-installer sync (one new)" sync-one
show_time "curl timestamp.json + new Packages.xz" curl-one
show_net "  sync" sync-one
show_net "  curl" curl-one
printf '  %-46s %8s   bytes %6s\n' "ratio sync / curl" "$(ratio "${WALL[sync-one]}" "${WALL[curl-one]}")" \
  "$(ratio "$(wire sync-one)" "$(wire curl-one)")"
add_summary "one new hotfix, bytes on the wire" "$(wire sync-one)" "$(wire curl-one)" \
  "$(ratio "$(wire sync-one)" "$(wire curl-one)")"
add_summary "one new hotfix, wall s" "${WALL[sync-one]}" "${WALL[curl-one]}" \
  "$(ratio "${WALL[sync-one]}" "${WALL[curl-one]}")"

# ---- (5) downloading a large bundle: a repository of its own, so that the figures are the
# download's (fetch syncs first: a 404 for the next root and a 304 for the timestamp).
big=$www/big
"$packager" repo init "$big" --root-key "$work/root.key" "${keys[@]}" >/dev/null
sizes=("$small_mb")
if [ "$bundle_mb" != "$small_mb" ]; then sizes+=("$bundle_mb"); fi
for mb in "${sizes[@]}"; do
  drop=$work/drop-$mb
  mkdir -p "$drop/opt/app/lib"
  for f in 1 2 3 4; do  # incompressible: the bundle is as large as the drop
    head -c "$(( mb * 1024 * 1024 / 4 ))" /dev/urandom > "$drop/opt/app/lib/part$f.bin"
  done
  "$packager" scan "$drop" --manifest-id "BENCH-${mb}MB" --arch x64 > "$work/big-$mb.json"
  "$packager" build "$work/big-$mb.json" --drop x64="$drop" --key "$work/targets.key" \
    --out "$work/big-bundles" -q >/dev/null
  rm -rf "$drop"
done
"$packager" repo add "$big" "${keys[@]}" "$work/big-bundles"/*.hotfix >/dev/null
rm -rf "$work/big-bundles"
touch -d '-10 seconds' "$big/metadata/timestamp.json"
make_root "$work/root-big" big "$url/big" "$big"
"$installer" sync --root "$work/root-big" >/dev/null
cache=$work/root-big/var/cache/hotfix
for mb in "${sizes[@]}"; do
  served=$(find "$big/targets" -name "*.BENCH-${mb}MB-x64.hotfix")
  bytes=$(stat -c %s "$served")
  cat "$served" >/dev/null  # warm: both read the page cache, not the disk
  for _ in $(seq "$runs"); do
    measure "fetch-$mb" "rm -rf '$cache'" "$installer" fetch "BENCH-${mb}MB" --root "$work/root-big"
    measure "curl-$mb" "rm -f '$work/curl.out'" \
      bash -c "curl -s -o '$work/curl.out' '$url/big/${served#"$big"/}' && sync '$work/curl.out'"
    measure sync-big "" "$installer" sync --root "$work/root-big"  # what fetch does first
  done
  rm -f "$work/curl.out"
  [ "$(net_field "fetch-$mb" 3)" -ge "$bytes" ] || echo "  warning: fetch did not download the bundle"
  echo "== (5) download of a $(( bytes / 1024 / 1024 )) MB bundle over 127.0.0.1, durable"
  show_time "hotfix-installer fetch" "fetch-$mb"
  show_time "curl -o FILE && sync FILE" "curl-$mb"
  show_time "hotfix-installer sync (fetch does it first)" sync-big
  show_net "  fetch" "fetch-$mb"
  printf '  %-46s %8s   cpu %6s   (target <= 1.05)\n' "ratio fetch / curl" \
    "$(ratio "${WALL[fetch-$mb]}" "${WALL[curl-$mb]}")" "$(ratio "${CPU[fetch-$mb]}" "${CPU[curl-$mb]}")"
  printf '  %-46s %8s        (fetch less a sync with nothing new: the download alone)\n' \
    "ratio (fetch - sync) / curl" "$(awk -v f="${WALL[fetch-$mb]}" -v s="${WALL[sync-big]}" \
      -v c="${WALL[curl-$mb]}" 'BEGIN { printf "%.2f", (f - s) / c }')"
  printf '  %-46s %8s MB/s\n' "fetch throughput" \
    "$(awk -v b="$bytes" -v t="${WALL[fetch-$mb]}" 'BEGIN { printf "%.0f", b / 1048576 / t }')"
  printf '  %-46s %8s MB\n' "peak memory (RSS) of fetch" "$(( RSS[fetch-$mb] / 1024 ))"
  add_summary "fetch ${mb} MB, wall s" "${WALL[fetch-$mb]}" "${WALL[curl-$mb]}" \
    "$(ratio "${WALL[fetch-$mb]}" "${WALL[curl-$mb]}")"
  add_summary "fetch ${mb} MB, peak RSS MB" "$(( RSS[fetch-$mb] / 1024 ))" "-" "-"
done

echo "== summary: $hotfixes hotfixes, best of $runs (other: Packages.xz, curl)"
printf '  %-44s %14s %14s %8s\n' "" "hotfix" "other" "ratio"
printf '%s\n' "${summary[@]}"
