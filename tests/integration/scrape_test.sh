#!/bin/sh
# scrape_test.sh — `lagwatch scrape FILE`: sorted samples in text format, parse errors as
# FILE:LINE:COL with exit 1, unreadable files exit 3, --openmetrics switches the parser.
set -u
bin=${LAGWATCH_BIN:?} fx=${LAGWATCH_FIXTURES:?}/expfmt ref=${LAGWATCH_REFERENCE_DIR:?}
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check NAME WANT_RC GOT_RC
    if [ "$2" -ne "$3" ]; then echo "FAIL $1: exit $3, want $2"; fails=$((fails + 1)); else echo "ok   $1"; fi
}
"$bin" scrape "$fx/unsorted.prom" >"$tmp/out" 2>"$tmp/err"; check sorted_exit 0 $?
if diff -u "$fx/unsorted.expected" "$tmp/out"; then echo "ok   sorted_output"; else fails=$((fails + 1)); fi

"$bin" scrape "$fx/bad-comma.prom" >"$tmp/out" 2>"$tmp/err"; check parse_error_exit 1 $?
if grep -q "bad-comma.prom:2:9: expected ',' or '}' after a label value" "$tmp/err"; then echo "ok   parse_error_position"; else echo "FAIL parse_error_position: $(cat "$tmp/err")"; fails=$((fails + 1)); fi
[ -s "$tmp/out" ] && { echo "FAIL parse_error printed samples"; fails=$((fails + 1)); }

"$bin" scrape "$tmp/missing.prom" >/dev/null 2>&1; check missing_file 3 $?
"$bin" scrape >/dev/null 2>&1; check no_file_is_usage 2 $?

"$bin" scrape --openmetrics "$ref/openmetrics-parsers/simple_histogram/metrics" >"$tmp/out" 2>&1; check openmetrics_ok 0 $?
grep -q '^a_bucket{le="+Inf"} 3$' "$tmp/out" || { echo "FAIL openmetrics output: $(cat "$tmp/out")"; fails=$((fails + 1)); }
"$bin" scrape --openmetrics "$fx/unsorted.prom" >/dev/null 2>"$tmp/err"; check openmetrics_refuses_text 1 $?
"$bin" scrape - <"$ref/exporter-samples/kafka-connect-windowforsun-jmx-exporter-0.16.1.prom" >"$tmp/out" 2>&1; check stdin 0 $?
grep -q 'source_record_active_count_avg{connector="exam-file-source",task="0"} NaN' "$tmp/out" || { echo "FAIL stdin output"; fails=$((fails + 1)); }
echo "$fails failed"
[ "$fails" -eq 0 ]
