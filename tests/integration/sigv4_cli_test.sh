#!/bin/sh
# sigv4_cli_test.sh — `lagwatch aws sign` over every case of the AWS SigV4 test suite: each of
# the eight artefacts must equal the suite's file followed by exactly one newline, and malformed
# inputs must fail with exit code 2 and a message naming file, line and column.
set -u
bin=${LAGWATCH_BIN:?LAGWATCH_BIN not set}
suite=${LAGWATCH_REFERENCE_DIR:?LAGWATCH_REFERENCE_DIR not set}/sigv4-testsuite
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0
for dir in "$suite"/*/; do
    case=$(basename "$dir")
    for form in header query; do
        for art in canonical-request string-to-sign signature signed-request; do
            what=$art
            [ "$form" = query ] && what=query-$art
            { cat "$dir/$form-$art.txt"; printf '\n'; } >"$tmp/want"
            if ! "$bin" aws sign --context "$dir/context.json" --request "$dir/request.txt" \
                --print "$what" >"$tmp/got" 2>"$tmp/err"; then
                echo "FAIL $case $what: exit $? $(cat "$tmp/err")"
                fails=$((fails + 1))
            elif ! cmp -s "$tmp/want" "$tmp/got"; then
                echo "FAIL $case $what: output differs"
                diff "$tmp/want" "$tmp/got" | head -10
                fails=$((fails + 1))
            else
                passes=$((passes + 1))
            fi
        done
    done
done
echo "suite artefacts: $passes passed, $fails failed"

expect() { # expect NAME WANT_RC WANT_REGEX -- ARGS...
    name=$1 want_rc=$2 want_re=$3
    shift 4
    out=$("$bin" "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        echo "FAIL $name: exit $rc, want $want_rc; output: $out"
        fails=$((fails + 1))
    elif ! printf '%s\n' "$out" | grep -Eq -- "$want_re"; then
        echo "FAIL $name: output does not match /$want_re/: $out"
        fails=$((fails + 1))
    else
        echo "ok   $name"
        passes=$((passes + 1))
    fi
}
ctx="$suite/get-vanilla/context.json"
req="$suite/get-vanilla/request.txt"
printf 'GET / HTTP/1.1\nHost:example.amazonaws.com\nBroken header\n' >"$tmp/bad-request.txt"
printf '{"credentials": {"access_key_id": "AKID", "secret_access_key": wJalrXUtnFEMI}}' \
    >"$tmp/bad-context.json"
printf '{"credentials": {"access_key_id": "AKID", "secret_access_key": "s"}, "region": "r"}' \
    >"$tmp/incomplete-context.json"
expect aws_no_subcommand 2 'no subcommand' -- aws
expect aws_help 0 'sign' -- aws --help
expect aws_unknown_subcommand 2 "unknown subcommand 'frob'" -- aws frob
expect sign_help 0 'query-signed-request' -- aws sign --help
expect sign_missing_options 2 'required' -- aws sign --context "$ctx"
expect sign_unknown_print 2 "unknown --print 'everything'" -- aws sign --context "$ctx" \
    --request "$req" --print everything
expect sign_unknown_option 2 "unknown option '--frob'" -- aws sign --frob
expect sign_missing_file 2 'nonexistent.txt: cannot open' -- aws sign --context "$ctx" \
    --request "$tmp/nonexistent.txt" --print signature
expect sign_bad_request_line 2 'bad-request.txt:3:1: expected .Name:value' -- aws sign \
    --context "$ctx" --request "$tmp/bad-request.txt" --print signature
expect sign_bad_context_json 2 'bad-context.json:1:[0-9]+: context JSON' -- aws sign \
    --context "$tmp/bad-context.json" --request "$req" --print signature
expect sign_incomplete_context 2 'missing string "service"' -- aws sign \
    --context "$tmp/incomplete-context.json" --request "$req" --print signature
if "$bin" aws sign --context "$tmp/bad-context.json" --request "$req" --print signature 2>&1 |
    grep -q wJalr; then
    echo "FAIL secret_not_echoed: the secret appears in the error"
    fails=$((fails + 1))
else
    echo "ok   secret_not_echoed"
fi
if "$bin" aws sign --context "$ctx" --request "$req" --print signed-request 2>&1 |
    grep -q 'wJalrXUtnFEMI'; then
    echo "FAIL secret_not_printed"
    fails=$((fails + 1))
else
    echo "ok   secret_not_printed"
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
