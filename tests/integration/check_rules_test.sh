#!/bin/sh
# check_rules_test.sh — `lagwatch check-rules` as users run it: the shipped rule pack is clean
# even with --lint-fatal; Debezium attributes that do not exist are errors (exit 1) with the
# name to use and file:line:col; rule-less exporter names are errors; missing severity/summary,
# short `for` and metrics no source produces are warnings; load errors exit 1; usage exits 2.
# validate applies the same lint to a config's rule files. Also test-rules' own contract: exit 2
# for files that cannot be run, a warning for rule_files patterns that match nothing, usage.
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

expect pack_clean 0 'SUCCESS: 14 rules found$' -- check-rules --lint-fatal "$src/packaging/rules/cdc.rules.yml"

cat >"$tmp/old.yml" <<'YAML'
groups:
  - name: g
    rules:
      - alert: OldLag
        expr: debezium_metrics_SecondsBehindMaster > 1000
        labels: {severity: page}
        annotations: {summary: lag}
YAML
expect old_attribute 1 "old.yml:5:15: error: alert OldLag: 'debezium_metrics_SecondsBehindMaster': Debezium has no attribute 'SecondsBehindMaster' \(did you mean 'debezium_metrics_MilliSecondsBehindSource'\?\)" -- check-rules "$tmp/old.yml"

cat >"$tmp/skipped.yml" <<'YAML'
groups:
  - name: g
    rules:
      - record: skipped:rate
        expr: |
          rate(
            debezium_metrics_NumberOfEventsSkipped[5m])
YAML
expect skipped_attribute 1 "skipped.yml:7:13: error: .*did you mean 'debezium_metrics_NumberOfSkippedEvents'" -- check-rules "$tmp/skipped.yml"

cat >"$tmp/since.yml" <<'YAML'
groups:
  - name: g
    rules:
      - alert: Quiet
        expr: debezium_metrics_SecondsSinceLastEvent > 600
        labels: {severity: page}
        annotations: {summary: quiet}
YAML
expect since_attribute 1 "did you mean 'debezium_metrics_MilliSecondsSinceLastEvent'" -- check-rules "$tmp/since.yml"

cat >"$tmp/ruleless.yml" <<'YAML'
groups:
  - name: g
    rules:
      - alert: Lag
        expr: debezium_mysql_connector_metrics_millisecondsbehindsource > 60000
        labels: {severity: page}
        annotations: {summary: lag}
YAML
expect ruleless_name 1 "select 'debezium_metrics_MilliSecondsBehindSource'" -- check-rules "$tmp/ruleless.yml"

cat >"$tmp/warn.yml" <<'YAML'
groups:
  - name: g
    interval: 1m
    rules:
      - alert: NoLabels
        expr: node_load1 > 4
        for: 30s
YAML
expect warnings_pass 0 "warn.yml:5: warning: alert NoLabels: has no 'severity' label" -- check-rules "$tmp/warn.yml"
expect warning_summary 0 "has no 'summary' annotation" -- check-rules "$tmp/warn.yml"
expect warning_for 0 "'for: 30s' is shorter than the group's evaluation interval 1m" -- check-rules "$tmp/warn.yml"
expect warning_source 0 "warn.yml:6:15: warning: .*no lagwatch source produces 'node_load1'" -- check-rules "$tmp/warn.yml"
expect lint_fatal 1 'FAILED: 1 rules found, 0 lint error\(s\), 4 warning\(s\)' -- check-rules --lint-fatal "$tmp/warn.yml"

printf 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n' >"$tmp/broken.yml"
expect load_error 1 'broken.yml:5:20: expr: ' -- check-rules "$tmp/broken.yml"
expect missing_file 1 'none.yml: cannot open' -- check-rules "$tmp/none.yml"
expect no_files 2 'no rule files given' -- check-rules
expect bad_option 2 'unknown option --frob' -- check-rules --frob x
expect help 0 'usage: lagwatch check-rules' -- check-rules --help

mkdir -p "$tmp/cfg/rules"
cp "$tmp/old.yml" "$tmp/cfg/rules/old.yml"
printf 'rule_files: [rules/*.yml]\n' >"$tmp/cfg/lagwatch.yml"
expect validate_lints 1 "old.yml:5:15: error: alert OldLag: .*SecondsBehindMaster" -- validate -c "$tmp/cfg/lagwatch.yml"

# test-rules: exit codes and messages of its own (its verdicts are compared with promtool's in
# rules_vs_promtool)
cp "$src/packaging/rules/cdc.rules.yml" "$tmp/cdc.rules.yml"
printf 'rule_files: [cdc.rules.yml, nothing-*.yml]\ntests:\n  - interval: 1m\n    promql_expr_test:\n      - {expr: "1", eval_time: 0m, exp_samples: [{labels: "{}", value: 1}]}\n' >"$tmp/pass.test.yml"
expect tr_pass 0 'SUCCESS' -- test-rules "$tmp/pass.test.yml"
expect tr_nomatch_warning 0 'WARNING: no file match pattern nothing-\*.yml' -- test-rules "$tmp/pass.test.yml"
printf 'rule_files: [cdc.rules.yml]\ntests:\n  - interval: 1m\n    promql_expr_test:\n      - {expr: "1", eval_time: 0m, exp_samples: [{labels: "{}", value: 2}]}\n' >"$tmp/fail.test.yml"
expect tr_fail 1 'exp: \{\} 2E\+00' -- test-rules "$tmp/fail.test.yml"
expect tr_fail_and_pass 1 'Unit Testing:  .*pass.test.yml' -- test-rules "$tmp/fail.test.yml" "$tmp/pass.test.yml"
printf 'rule_files: [cdc.rules.yml]\ntestz: []\n' >"$tmp/bad.test.yml"
expect tr_malformed 2 "bad.test.yml:2:1: unknown key 'testz' \\(did you mean 'tests'\\?\\)" -- test-rules "$tmp/bad.test.yml"
printf 'rule_files: [broken.yml]\ntests:\n  - interval: 1m\n' >"$tmp/brokenrules.test.yml"
expect tr_rules_do_not_load 2 'broken.yml:5:20: expr: ' -- test-rules "$tmp/brokenrules.test.yml"
expect tr_missing 2 'none.test.yml: cannot open' -- test-rules "$tmp/none.test.yml"
expect tr_no_files 2 'no test files given' -- test-rules
expect tr_help 0 'usage: lagwatch test-rules' -- test-rules --help

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
