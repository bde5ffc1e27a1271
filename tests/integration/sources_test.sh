#!/bin/sh
# sources_test.sh — start the JMX exporter and Kafka Connect stand-ins on loopback (port 0), run
# the sources' integration tests against them, then `lagwatch scrape URL` on the live exporter.
# Usage: sources_test.sh ITEST_BINARY
set -u
itest=${1:?itest binary}
py=${LAGWATCH_PYTHON:-python3}
here=$(dirname "$0")
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
"$py" "$here/standins/cdc_standins.py" jmx --port-file "$tmp/jmx.port" & pids="$pids $!"
"$py" "$here/standins/cdc_standins.py" connect --port-file "$tmp/connect.port" & pids="$pids $!"
# Prometheus scrapes its own exporter stand-in, so its scrapes never move the restart scenario
# or the scrape counter of the first one.
"$py" "$here/standins/cdc_standins.py" jmx --port-file "$tmp/jmx2.port" & pids="$pids $!"
i=0
while [ ! -s "$tmp/jmx.port" ] || [ ! -s "$tmp/connect.port" ] || [ ! -s "$tmp/jmx2.port" ]; do
    i=$((i + 1))
    [ "$i" -gt 100 ] && { echo "stand-ins did not start"; exit 1; }
    sleep 0.1
done
JMX_URL="http://127.0.0.1:$(cat "$tmp/jmx.port")"
CONNECT_URL="http://127.0.0.1:$(cat "$tmp/connect.port")"

# A real Prometheus (Debian's) scraping the stand-in exporter every second, for the Prometheus
# API source. Prometheus cannot report a port-0 listener, so a free port is picked first.
prom_port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/prometheus.yml" <<EOC
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: connect
    static_configs: [{targets: ["127.0.0.1:$(cat "$tmp/jmx2.port")"]}]
EOC
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=error >"$tmp/prometheus.log" 2>&1 &
pids="$pids $!"
PROM_URL="http://127.0.0.1:$prom_port"
i=0
until curl -fsS "$PROM_URL/api/v1/query?query=up" 2>/dev/null | grep -q '"value"'; do
    i=$((i + 1))
    [ "$i" -gt 300 ] && { echo "prometheus did not scrape the stand-in"; cat "$tmp/prometheus.log"; exit 1; }
    sleep 0.1
done
export JMX_URL CONNECT_URL PROM_URL
"$itest" || exit 1

fails=0
bin=${LAGWATCH_BIN:?}
"$bin" scrape "$JMX_URL/metrics" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] || ! grep -q '^debezium_metrics_MilliSecondsBehindSource{context="streaming",name="orders",plugin="mysql"} 1500$' "$tmp/out"; then
    echo "FAIL scrape URL: exit $rc: $(head -c 400 "$tmp/err")"; fails=$((fails + 1))
else echo "ok   scrape URL"; fi
"$bin" scrape --openmetrics "$JMX_URL/metrics/ruleless" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] || ! grep -q '^debezium_mysql_connector_metrics_millisecondsbehindsource{context="streaming",server="billing"} 250$' "$tmp/out"; then
    echo "FAIL scrape URL --openmetrics: exit $rc: $(head -c 400 "$tmp/err")"; fails=$((fails + 1))
else echo "ok   scrape URL --openmetrics"; fi
"$bin" scrape "$CONNECT_URL/nothing-here" >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 3 ] || ! grep -q '404' "$tmp/err"; then
    echo "FAIL scrape URL 404: exit $rc: $(cat "$tmp/err")"; fails=$((fails + 1))
else echo "ok   scrape URL 404 exits 3"; fi
[ "$fails" -eq 0 ]
