#!/usr/bin/env bash
# demo.sh — the README's first command: install dependencies, build, and run lagwatch's main
# job on local stand-ins (`lagwatch demo`). Until the demo command exists this builds lagwatch
# and prints its version.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cmake -S . -B build -DLAGWATCH_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
if build/agent/lagwatch --help | grep -q '^  demo '; then
    exec build/agent/lagwatch demo "$@"
fi
build/agent/lagwatch --version
