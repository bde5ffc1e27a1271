#!/bin/sh
# cli_test.sh — the command line's contract: --help and --version succeed and say what they
# should; an unknown command or option fails with a usage message and exit code 2.
set -u
bin=${LAGWATCH_BIN:?LAGWATCH_BIN not set}
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
expect help 0 '^usage: lagwatch' -- --help
expect help_short 0 'Commands:' -- -h
expect version 0 '^lagwatch [0-9]+\.[0-9]+\.[0-9]+$' -- --version
expect no_command 2 'no command given' --
expect unknown_command 2 "unknown command 'frobnicate'" -- frobnicate
expect unknown_option 2 "unknown option '--frob'" -- --frob
expect bad_log_level 2 'log-level takes' -- --log-level loud --version
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
