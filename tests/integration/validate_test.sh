#!/bin/sh
# validate_test.sh — `lagwatch validate -c FILE [--print]` as users run it: the example config in
# packaging/ is valid, --print shows defaults and never a secret, a broken config exits 2 with
# file:line:col, a broken rule file exits 1, usage errors exit 2.
set -u
bin=${LAGWATCH_BIN:?LAGWATCH_BIN not set}
src=${LAGWATCH_SOURCE_DIR:?LAGWATCH_SOURCE_DIR not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
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
refuse() { # refuse NAME REGEX: the last output must not match
    if printf '%s\n' "$out" | grep -Eq "$2"; then
        echo "FAIL $1: output shows /$2/"
        fails=$((fails + 1))
    fi
}

expect example_valid 0 'config valid: 2 pipeline' -- validate -c "$src/packaging/lagwatch.example.yml"
PD_ROUTING_KEY=pd-very-secret SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T/B/sekrit \
    expect example_print 0 'evaluation_interval: 30s' -- validate -c "$src/packaging/lagwatch.example.yml" --print
refuse example_print_pd 'pd-very-secret'
refuse example_print_slack 'sekrit'

printf 'global:\n  scrape_intervall: 15s\n' >"$tmp/typo.yml"
expect typo 2 "typo.yml:2:3: unknown key 'scrape_intervall' \(did you mean 'scrape_interval'\?\)" -- validate -c "$tmp/typo.yml"

printf 'pipelines:\n  - name: a\n    aurora: {cluster: c, interval: 5x}\n' >"$tmp/dur.yml"
expect bad_duration 2 'dur.yml:3:.*invalid duration' -- validate -c "$tmp/dur.yml"

mkdir -p "$tmp/rules"
printf 'groups:\n  - name: g\n    rules: [\n' >"$tmp/rules/bad.yml"
printf 'rule_files: [rules/*.yml]\n' >"$tmp/withrules.yml"
expect bad_rule_file 1 'bad.yml:4:1: YAML syntax' -- validate -c "$tmp/withrules.yml"
printf 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: histogram_quantile(0.9, x)\n' >"$tmp/rules/bad.yml"
expect rule_outside_subset 1 'bad.yml:5:15: expr: unsupported: function: histogram_quantile' -- validate -c "$tmp/withrules.yml"
printf 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        fro: 5m\n' >"$tmp/rules/bad.yml"
expect rule_unknown_key 1 "bad.yml:6:9: unknown key 'fro' \\(did you mean 'for'\\?\\)" -- validate -c "$tmp/withrules.yml"
printf 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5m\n' >"$tmp/rules/good.yml"
rm "$tmp/rules/bad.yml"
expect rule_file_valid 0 'config valid: .*1 group\(s\), 1 rule\(s\)' -- validate -c "$tmp/withrules.yml"

expect missing_file 2 'cannot read config' -- validate -c "$tmp/none.yml"
expect no_config_flag 2 'c FILE is required' -- validate
expect bad_arg 2 "unexpected argument '--frob'" -- validate --frob
expect help 0 'usage: lagwatch validate' -- validate --help

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
