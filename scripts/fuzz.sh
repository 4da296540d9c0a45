#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz/: clang, ASan + UBSan) and runs each one for
# SECONDS (default 60) over a scratch copy of its seed corpus in fuzz/corpus/. Prints the
# executions and executions per second of each; fails on any crash, leak, timeout or
# sanitizer report, leaving the input that caused it in build-fuzz/fuzz-run/<target>/.
#   scripts/fuzz.sh [SECONDS]
#   FUZZ_TARGETS="manifest_fuzzer" scripts/fuzz.sh 600     one target only
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
targets=(${FUZZ_TARGETS:-manifest_fuzzer file_identity_fuzzer bundle_reader_fuzzer journal_fuzzer
  state_rows_fuzzer system_facts_fuzzer repo_metadata_fuzzer})

scripts/setup.sh
cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DHOTFIX_FUZZ=ON -DHOTFIX_TESTS=OFF -DHOTFIX_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target "${targets[@]}"

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

failed=()
for target in "${targets[@]}"; do
  corpus_name=${target%_fuzzer}
  run=build-fuzz/fuzz-run/$target
  rm -rf "$run"
  mkdir -p "$run/corpus"
  cp fuzz/corpus/"$corpus_name"/* "$run/corpus/"
  extra=()
  case $target in
    manifest_fuzzer) extra=(-dict=fuzz/manifest.dict) ;;
    bundle_reader_fuzzer) extra=(-max_len=32768) ;;
    state_rows_fuzzer) extra=(-dict=fuzz/state_rows.dict -max_len=4096) ;;
    repo_metadata_fuzzer) extra=(-dict=fuzz/repo_metadata.dict -max_len=16384) ;;
  esac
  status=0
  # -rss_limit_mb and -timeout are libFuzzer's usual limits, written out: a reader that needs
  # more memory or time on one input is a finding.
  "build-fuzz/fuzz/$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$run/" "${extra[@]}" "$run/corpus" \
    >"$run/log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$run/log")
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $target FAILED (exit $status) after ${execs:-?} executions; log: $run/log" >&2
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written|uncaught exception|==[0-9]+==' "$run/log" | head -20 >&2 || true
    failed+=("$target")
  else
    echo "fuzz: $target: ${execs:-?} executions in ${seconds}s, ${rate:-?} exec/s, peak RSS ${rss:-?} MB, corpus $(ls "$run/corpus" | wc -l) inputs"
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: failures in ${failed[*]}" >&2
  exit 1
fi
