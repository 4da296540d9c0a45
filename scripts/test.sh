#!/usr/bin/env bash
# Sets everything up, builds with warnings as errors, and runs every test through CTest.
#   scripts/test.sh              regular build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
flags=(-DHOTFIX_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  flags=(-DHOTFIX_WERROR=ON -DHOTFIX_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # Under the sanitizers the exhaustive fault injection takes minutes: one operation in five
  # here; the regular run covers every one.
  export HOTFIX_FAULT_STRIDE=${HOTFIX_FAULT_STRIDE:-5}
fi

scripts/setup.sh
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir"
ctest --test-dir "$dir" --output-on-failure -j2
