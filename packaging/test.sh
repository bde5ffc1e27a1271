#!/usr/bin/env bash
# test.sh — the README's test command: install dependencies, build with -Werror, run every test.
#   packaging/test.sh               build in build/ and run ctest
#   packaging/test.sh --sanitize    the same with ASan+UBSan, in build-asan/
# Extra arguments after -- go to ctest (e.g. -- -R sigv4).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
cmake_args=(-DLAGWATCH_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
    build=build-asan
    cmake_args+=(-DLAGWATCH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    shift
fi
[ "${1:-}" = "--" ] && shift

packaging/install-deps.sh
cmake -S . -B "$build" "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@"
