#!/bin/sh
# promql_test_cli.sh — `lagwatch promql-test`'s contract: the summary line, exit 1 on a failing
# case or a malformed script (reported as FILE:LINE:COL), exit 2 on usage errors, skips counted
# by kind with --verbose and never counted as passes.
set -u
bin=${LAGWATCH_BIN:?LAGWATCH_BIN not set}
fx=${LAGWATCH_FIXTURES:?LAGWATCH_FIXTURES not set}/promqltest
fails=0 passes=0
expect() { # expect NAME WANT_RC WANT_REGEX -- ARGS...
    name=$1 want_rc=$2 want_re=$3
    shift 4
    out=$("$bin" "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        echo "FAIL $name: exit $rc, want $want_rc; output: $out"
        fails=$((fails + 1))
    elif ! printf '%s\n' "$out" | grep -Eq "$want_re"; then
        echo "FAIL $name: output does not match /$want_re/: $out"
        fails=$((fails + 1))
    else
        echo "ok   $name"
        passes=$((passes + 1))
    fi
}
expect no_files 2 'no test files given' -- promql-test
expect bad_option 2 'unknown option --frob' -- promql-test --frob x.test
expect missing_file 1 'nope.test: No such file' -- promql-test "$fx/nope.test"
expect malformed 1 'malformed.test:3:14: expected a number, got "oops"' -- promql-test "$fx/malformed.test"
expect wrong_value 1 '^0 passed, 1 failed, 0 skipped$' -- promql-test "$fx/wrong_value.test"
expect wrong_value_line 1 'wrong_value.test:5: FAIL eval instant metric' -- promql-test "$fx/wrong_value.test"
expect skips 0 '^0 passed, 0 failed, 2 skipped$' -- promql-test "$fx/skips.test"
expect skips_by_kind 0 'annotations +1' -- promql-test --verbose "$fx/skips.test"
expect skips_hist 0 'native histogram +1' -- promql-test --verbose "$fx/skips.test"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
