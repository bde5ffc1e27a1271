#!/bin/sh
# rules_diff_test.sh — lagwatch test-rules against Debian's promtool (2.42) on the same files:
# every tests/rules/*.test.yml and packaging/rules/*.test.yml must pass under both tools; every
# tests/rules/must-fail/*.test.yml must fail under both with the same report on stderr; every
# rule file must pass `promtool check rules`. Without promtool the test fails: the comparison is
# the point, it is never skipped.
set -u
bin=${LAGWATCH_BIN:?LAGWATCH_BIN not set}
src=${LAGWATCH_SOURCE_DIR:?LAGWATCH_SOURCE_DIR not set}
if ! command -v promtool >/dev/null 2>&1; then
    echo "FAIL: promtool not found; install Debian's 'prometheus' package (apt-get install prometheus)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; passes=$((passes + 1)); }

for f in "$src"/tests/rules/*.test.yml "$src"/packaging/rules/*.test.yml; do
    [ -e "$f" ] || continue
    name=${f#"$src"/}
    "$bin" test-rules "$f" >"$tmp/lw.out" 2>"$tmp/lw.err"
    lw=$?
    promtool test rules "$f" >"$tmp/pt.out" 2>"$tmp/pt.err"
    pt=$?
    if [ "$lw" -ne 0 ] || [ "$pt" -ne 0 ]; then
        fail "$name: lagwatch exit $lw, promtool exit $pt (both must pass)"
        cat "$tmp/lw.err" "$tmp/pt.err"
    else
        ok "$name"
    fi
done

for f in "$src"/tests/rules/must-fail/*.test.yml; do
    name=${f#"$src"/}
    "$bin" test-rules "$f" >"$tmp/lw.out" 2>"$tmp/lw.err"
    lw=$?
    promtool test rules "$f" >"$tmp/pt.out" 2>"$tmp/pt.err"
    pt=$?
    if [ "$lw" -ne 1 ] || [ "$pt" -ne 1 ]; then
        fail "$name: lagwatch exit $lw, promtool exit $pt (both must fail with 1)"
    elif ! diff -u "$tmp/pt.err" "$tmp/lw.err"; then
        fail "$name: the failure reports differ (promtool first)"
    else
        ok "$name (same failure report)"
    fi
done

for f in "$src"/tests/rules/*.rules.yml "$src"/packaging/rules/*.rules.yml; do
    [ -e "$f" ] || continue
    name=${f#"$src"/}
    if promtool check rules "$f" >"$tmp/pt.out" 2>&1; then
        ok "promtool check rules $name"
    else
        fail "promtool check rules $name"
        cat "$tmp/pt.out"
    fi
done

# The differential suite must stay substantial: at least 60 test cases.
n=$(cat "$src"/tests/rules/*.test.yml | grep -c 'eval_time:')
if [ "$n" -ge 60 ]; then ok "$n test cases in tests/rules"; else fail "only $n test cases in tests/rules"; fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
