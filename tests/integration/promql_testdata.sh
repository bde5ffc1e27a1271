#!/bin/sh
# promql_testdata.sh — every script of Prometheus's own PromQL test data
# (reference/promql-testdata) through `lagwatch promql-test`: any failed case fails the test;
# skipped cases (outside the subset, annotations, native histograms) do not, and their share is
# printed. A run in which nothing passed fails too, so a broken runner cannot look green.
set -u
bin=${LAGWATCH_BIN:?LAGWATCH_BIN not set}
dir=${LAGWATCH_REFERENCE_DIR:?LAGWATCH_REFERENCE_DIR not set}/promql-testdata
out=$("$bin" promql-test --verbose "$dir"/*.test 2>&1)
rc=$?
printf '%s\n' "$out" | grep -v '^.*: SKIP ' # failures, skip counts and the summary
summary=$(printf '%s\n' "$out" | tail -n 1)
case $summary in
*" passed, 0 failed, "*" skipped") ;;
*) echo "FAIL: cases failed (exit $rc)"; exit 1 ;;
esac
if [ "$rc" -ne 0 ]; then
    echo "FAIL: exit $rc"
    exit 1
fi
case $summary in
"0 passed,"*) echo "FAIL: nothing passed"; exit 1 ;;
esac
exit 0
