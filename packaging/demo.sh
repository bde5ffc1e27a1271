#!/usr/bin/env bash
# demo.sh — the README's first command: install dependencies, build, and run lagwatch's main
# job on local stand-ins (packaging/demo/demo.py): moto_server seeded with Aurora metrics, the
# JMX exporter and Kafka Connect stand-ins with rising Debezium lag, a receiver printing what
# Slack and PagerDuty get, and the real `lagwatch run`. About two minutes; exits 0 when every
# step (pending, firing, delivered, resolved) happened.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cmake -S . -B build -DLAGWATCH_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
exec "${LAGWATCH_PYTHON:-python3}" packaging/demo/demo.py build/agent/lagwatch "$@"
