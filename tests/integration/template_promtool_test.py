#!/usr/bin/env python3
"""Differential test of alert templates against Prometheus 2.42's own rendering.

For every template below, lagwatch renders the annotation (template_driver, which calls
tmpl_expand_alert and, on failure, tmpl_alert_error_text). The script then writes a rule file
with those templates as annotations and a promtool unit test whose exp_annotations are
lagwatch's renderings: `promtool test rules` (the oracle) must pass. A control run with one
expectation deliberately altered must fail, so the comparison is known to be live.

Templates Prometheus refuses at load are compared the other way: `promtool check rules` must
report the same "template: __alert_NAME:LINE: message" as lagwatch's load-time check.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

DRIVER = sys.argv[1]
PROMTOOL = shutil.which("promtool")
if not PROMTOOL:
    sys.exit("promtool not found: install Debian's prometheus package (packaging/deps)")

EXT_LABELS = {"cluster": "eu-1", "env": "prod"}
EXT_URL = "http://prom.example:9090/prometheus"

# alert name -> (value, series labels, {annotation: template})
ALERTS = {
    "DebeziumLag": (1234.5678, {"job": "debezium", "instance": "connect-1:8083",
                                "connector": "inventory", "pipeline": "orders-cdc",
                                "severity": "page"}, {
        "value": "{{ $value }}",
        "humanize": "{{ humanize $value }}|{{ humanize 0.000123 }}|{{ humanize 1234567 }}|{{ humanize \"2048\" }}",
        "humanize1024": "{{ humanize1024 $value }}|{{ humanize1024 1073741824 }}|{{ humanize1024 0.5 }}",
        "duration": "{{ humanizeDuration $value }}|{{ humanizeDuration 0.0456 }}|{{ humanizeDuration 90061 }}|{{ humanizeDuration 0 }}",
        "percentage": "{{ humanizePercentage 0.12345 }}|{{ humanizePercentage $value }}",
        "timestamp": "{{ humanizeTimestamp 1435065584.128 }}|{{ humanizeTimestamp 0 }}|{{ toTime 1700000000 }}",
        "printf_float": "{{ printf \"%.2f\" $value }}|{{ printf \"%8.3f|%-10.1f|%+.0f|%e|%E|%g|%G\" $value $value $value $value $value $value $value }}",
        "printf_bad": "{{ printf \"%d\" $value }}|{{ printf \"%s\" $value }}|{{ printf \"%t\" 1 }}|{{ printf \"%d %d\" 1 }}|{{ printf \"%d\" 1 2 \"x\" }}|{{ printf \"%!\" }}|{{ printf \"%\" }}",
        "printf_int": "{{ printf \"%d|%5d|%-5d|%05d|%x|%X|%o|%b|%#x|%#o|%+d|% d|%c|%q|%U\" 42 42 42 -42 255 255 8 5 255 8 7 7 9731 65 9731 }}",
        "printf_str": "{{ printf \"%s|%10s|%-10s|%.3s|%q|%x|%X|%v|%5.2s|\" $labels.job \"ab\" \"ab\" \"abcdef\" \"a\\tb\\\"c\" \"hi\" \"hi\" \"v\" \"xyz\" }}",
        "printf_v": "{{ printf \"%v|%v|%v|%v|%v|%v|%v\" 1e6 123456.0 0.0001 0.00001 1 true nil }}|{{ printf \"%T %T %T %T\" 1 1.5 \"s\" $labels }}",
        "printf_index": "{{ printf \"%[2]s-%[1]s|%[3]d|%*d|%-*d|%.*f\" \"a\" \"b\" 7 5 42 4 1 2 3.14159 }}",
        "printf_map": "{{ printf \"%v\" $labels }}|{{ printf \"%s\" $externalLabels }}|{{ printf \"%d\" $externalLabels }}|{{ printf \"%+v\" . }}",
        "labels": "{{ $labels.job }}/{{ .Labels.instance }}/{{ $labels.missing }}/{{ index $labels \"connector\" }}/{{ index .Labels \"nope\" }}.",
        "external": "{{ $externalLabels.cluster }} {{ .ExternalLabels.env }} {{ $externalURL }} {{ .ExternalURL }}",
        "range_map": "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
        "range_dot": "{{ range $labels }}[{{ . }}]{{ else }}none{{ end }}|{{ range $externalLabels }}{{ . }}{{ end }}",
        "range_else": "{{ range (args).nothing }}x{{ else }}empty{{ end }}|{{ range $i, $e := (args 5 6).none }}{{ $i }}{{ end }}",
        "range_break": "{{ range $k, $v := $labels }}{{ if eq $k \"job\" }}{{ break }}{{ end }}{{ if eq $k \"connector\" }}{{ continue }}{{ end }}{{ $k }},{{ end }}",
        "if_chain": "{{ if gt $value 1000.0 }}high{{ else if gt $value 100.0 }}mid{{ else }}low{{ end }}|{{ if eq $labels.severity \"page\" \"critical\" }}urgent{{ end }}|{{ if not (eq $labels.job \"x\") }}notx{{ end }}",
        "if_cmp": "{{ lt 1 2 }} {{ le 2.5 2.5 }} {{ gt \"b\" \"a\" }} {{ ge 1 2 }} {{ ne $labels.job \"debezium\" }} {{ eq 1.5 $value }} {{ eq true true }}",
        "with": "{{ with $labels.connector }}connector {{ . }}{{ else }}no connector{{ end }}|{{ with $labels.missing }}{{ . }}{{ else }}no missing{{ end }}",
        "and_or": "{{ and 1 0 2 }}|{{ and 1 2 }}|{{ or 0 \"\" \"x\" }}|{{ or 0 \"\" }}|{{ and $labels.job $labels.instance }}|{{ or $labels.missing \"default\" }}|{{ not \"\" }}",
        "vars": "{{ $x := 1 }}{{ $y := \"s\" }}{{ range $labels }}{{ $x = 2 }}{{ end }}{{ $x }}{{ $y }}{{ if true }}{{ $y := \"inner\" }}{{ $y }}{{ end }}{{ $y }}|{{ $ := . }}{{ $.Value }}",
        "case": "{{ title \"debezium connector lag_seconds foo-bar\" }}|{{ toUpper $labels.pipeline }}|{{ toLower \"MiXeD Case\" }}|{{ toUpper \"héllo wörld\" }}|{{ title \"élan vital\" }}",
        "regexp": "{{ reReplaceAll \"(.*):(\\\\d+)\" \"$1 on port $2\" $labels.instance }}|{{ reReplaceAll \"o\" \"0\" \"foo boo\" }}|{{ reReplaceAll \"a*\" \"-\" \"baaac\" }}|{{ reReplaceAll \"(?P<word>\\\\w+)\" \"<${word}>\" \"hi there\" }}|{{ reReplaceAll \"(x)?y\" \"[$1]\" \"y xy\" }}|{{ reReplaceAll \"(\\\\w)(\\\\w)\" \"$2$1x$1x ${1}x $$1\" \"abcd\" }}",
        "match": "{{ match \"^connect-\\\\d+:\\\\d+$\" $labels.instance }} {{ match \"orders\" $labels.pipeline }} {{ match \"^x\" \"abc\" }} {{ if match \"cdc$\" $labels.pipeline }}cdc{{ end }}",
        "funcs": "{{ len $labels }} {{ len \"héllo\" }} {{ index \"abc\" 1 }} {{ slice \"abcdef\" 1 3 }} {{ slice \"abc\" 1 }} {{ stripPort $labels.instance }} {{ stripPort \"[::1]:80\" }} {{ stripPort \"nohost\" }} {{ parseDuration \"1h30m\" }} {{ safeHtml \"<b>\" }}",
        "links": "{{ graphLink \"rate(lag_seconds[5m]) > 0\" }}|{{ tableLink \"up{job=\\\"x\\\"}\" }}",
        "escape": "{{ html \"<a href=\\\"x\\\">&'\" }}|{{ js \"it's <b> & \\\"q\\\" = \\\\\" }}|{{ urlquery \"a b&c=d/é\" }}|{{ html 1 2 }}|{{ urlquery \"x\" 3 }}",
        "print": "{{ print 1 2 \"a\" \"b\" 3 4.5 true nil }}|{{ println \"a\" 1 }}|{{ print }}",
        "literals": "{{ 1e3 }} {{ 0x1F }} {{ 'a' }} {{ 1_000 }} {{ 0o17 }} {{ 017 }} {{ -5 }} {{ +3.5 }} {{ 1.0 }} {{ \"tab\\there\\u00e9\\x41\\101\" }} {{ `raw\\n` }} {{ true }} {{ 0x1p-2 }}",
        "trim": "a  {{- \" b \" -}}  c\n  {{- /* comment */ -}}\n d {{/* c2 */}} e\n{{- 1 }}",
        "pipes": "{{ $value | printf \"%.1f\" }}|{{ $labels.job | toUpper | printf \"%s!\" }}|{{ \"x\" | printf \"%s-%s\" \"y\" }}|{{ (index $labels \"job\") }}|{{ (args 1 2).arg1 }}",
        "define": "{{ define \"sub\" }}[{{ . }}]{{ end }}{{ template \"sub\" $labels.job }}{{ template \"sub\" }}{{ block \"blk\" $value }}<{{ . }}>{{ end }}",
        "args": "{{ with args 1 \"two\" 3.5 }}{{ .arg0 }} {{ .arg1 }} {{ .arg2 }} {{ .arg3 }}{{ end }}|{{ index (args) \"z\" }}",
        "nested": "{{ range $k, $v := $labels }}{{ if and (ne $k \"__name__\") (ne $k \"severity\") }}{{ $k | toUpper }}:{{ $v | title }} {{ end }}{{ end }}",
        "printf_more": "{{ printf \"%x|%X|%.2x|%b|%5.1e|%-8.2g|\" 255.5 0.25 1.5 1.0 12345.678 0.000123 }}{{ printf \"%#v|%#v|%#v|%#v|%#v\" \"s\" 1 1.5 true $externalLabels }}",
        "printf_width": "{{ printf \"%5s|%-5s|%.2s|%3c|%-4q|%6.2f%%|%+5d|%x\" \"h\u00e9llo\" \"\u00e9\" \"\u65e5\u672c\u8a9e\" 65 \"a\" 99.5 3 \"\u00e9\" }}",
        "printf_nil": "{{ printf \"%s|%d|%v|%t\" nil nil nil 1.5 }}|{{ printf \"%s\" (args).x }}|{{ printf \"%v %v\" (index (args) \"q\") $labels.nope }}",
        "numbers": "{{ printf \"%v %v %v %v %v\" 100000.0 1e-5 -0.0 123456789.0 1e21 }}|{{ 1e21 }}|{{ humanize 1e30 }}|{{ humanizeDuration -3661 }}|{{ humanizeDuration 0.000001 }}|{{ humanize1024 -2048 }}|{{ humanizePercentage -0.5 }}",
        "index_more": "{{ index $labels }}|{{ len .ExternalLabels }}|{{ not $labels }}|{{ eq $labels.job \"x\" \"debezium\" }}|{{ index (args \"a\" \"b\") \"arg1\" }}|{{ le \"a\" \"a\" }}|{{ lt 1.5 2.5 }}",
        "unicode": "{{ toUpper \"\u00df\u00e7\u03b1\u0444\" }}|{{ toLower \"\u00c9\u0391\u0424\" }}|{{ title \"\u00e9t\u00e9 \u03b1\u03b2 x\u00e9y\" }}|{{ len \"\u65e5\" }}",
        "quote": "{{ printf \"%q|%+q|%#q|%#q|%+q|%q|%x\" \"\u00e9\\x01\" \"\u00e9\" \"a b\" \"a`b\" \"\\U0001F600\" \"\\u00ad\\u2028\" \"\u00e9\" }}",
        "multiline": "Pipeline {{ $labels.pipeline }} lags\n{{ humanizeDuration $value }} behind.\n{{ if gt $value 300.0 -}}\n  Check the connector.\n{{- end }}",
    }),
    "SmallValue": (0.000042, {"job": "kc", "instance": "w:8083"}, {
        "value": "{{ $value }}|{{ printf \"%v %.3e %f %g\" $value $value $value $value }}",
        "humanize": "{{ humanize $value }} {{ humanizeDuration $value }} {{ humanizePercentage $value }}",
        "nolabel": "{{ $labels.connector }}|{{ with $labels.connector }}x{{ else }}none{{ end }}",
    }),
    "Errors": (7.0, {"job": "err"}, {
        "eq_types": "{{ eq $value 1 }}",
        "field": "{{ .Foo }}",
        "arg_type": "{{ toUpper $value }}",
        "arg_literal": "{{ toUpper 1 }}",
        "parse_float": "{{ humanize \"abc\" }}",
        "index_range": "{{ index $labels.job 10 }}",
        "index_end": "{{ index \"ab\" 2 }}",
        "index_type": "{{ index .Labels 1 }}",
        "len_int": "{{ len 3 }}",
        "lt_types": "{{ lt \"a\" 1 }}",
        "non_func": "{{ 1 2 }}",
        "string_field": "{{ $labels.job.x }}",
        "bad_regexp": "{{ reReplaceAll \"(\" \"x\" \"y\" }}",
        "match_regexp": "{{ match \"[a\" \"y\" }}",
        "nargs": "{{ humanize 1 2 }}",
        "bool_cmp": "{{ lt true false }}",
        "line2": "ok\n  {{ index .Labels \"job\" 3 }}",
        "to_time": "{{ toTime \"x\" }}",
        "duration": "{{ parseDuration \"5x\" }}",
        "range_str": "{{ range \"abc\" }}{{ end }}",
        "slice_bad": "{{ slice \"abc\" 2 1 }}",
        "int_field": "{{ $x := 1 }}{{ $x.foo }}",
        "and_nargs": "{{ and }}",
        "range_decl_str": "{{ range $i, $c := \"ab\" }}{{ end }}",
        "slice_map": "{{ slice $labels 1 }}",
        "index_struct": "{{ index . \"x\" }}",
        "nil_cmd": "{{ nil }}",
        "nil_field": "{{ $x := index (args) \"a\" }}{{ $x.y }}",
        "eq_map": "{{ eq $labels $labels }}",
        "lt_nil": "{{ lt (args).x 1 }}",
        "chain_nil": "{{ (args).x.y.z }}|",
    }),
}

# Templates in rule `labels` (expanded the same way, checked through exp_labels).
LABEL_TEMPLATES = {
    "DebeziumLag": {
        "tier": "{{ if gt $value 1000.0 }}high{{ else }}low{{ end }}",
        "where": "{{ $labels.instance | stripPort }}@{{ $externalLabels.cluster }}",
        "lag": "{{ humanizeDuration $value }}",
    },
    "SmallValue": {"tiny": "{{ printf \"%.1e\" $value }}"},
}

# Refused at load by both (promtool check rules and lagwatch's tmpl_check_alert).
PARSE_ERRORS = {
    "p_func": "{{ foo }}",
    "p_missing": "{{ if }}",
    "p_var": "{{ $x }}",
    "p_end": "line1\n{{ end }}",
    "p_eof": "{{ if true }}x",
    "p_else": "{{ else }}",
    "p_unclosed": "{{ 1",
    "p_paren": "{{ (1 }}",
    "p_rparen": "{{ 1) }}",
    "p_comment": "{{ /* x */ }}",
    "p_comment2": "{{/* x */ 1 }}",
    "p_quote": "{{ \"abc }}",
    "p_number": "{{ 1x }}",
    "p_pipe": "{{ 1 | 2 }}",
    "p_break": "{{ break }}",
    "p_range_decl": "{{ range $a, $b, $c := . }}{{ end }}",
    "p_char": "{{ # }}",
    "p_after": "{{ \"x\".y }}",
    "p_declare": "{{ $x : 1 }}",
    "p_empty": "{{ }}",
}


def yaml_str(s):
    return json.dumps(s, ensure_ascii=True)


def run_driver(name, value, labels, templates, check=False):
    inp = {"name": name, "value": value, "labels": labels, "external_labels": EXT_LABELS,
           "external_url": EXT_URL, "templates": templates}
    args = [DRIVER] + (["--check"] if check else [])
    p = subprocess.run(args, input=json.dumps(inp), capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit("template_driver failed: %s" % p.stderr)
    return json.loads(p.stdout)


def write_files(d, rendered, alter=None):
    rules = ["groups:", "- name: templates", "  rules:"]
    tests = ["rule_files: [rules.yml]", "evaluation_interval: 1m", "tests:", "- interval: 1m",
             "  external_labels:"]
    tests += ["    %s: %s" % (k, yaml_str(v)) for k, v in EXT_LABELS.items()]
    tests += ["  external_url: %s" % yaml_str(EXT_URL), "  input_series:"]
    for name, (value, labels, templates) in ALERTS.items():
        metric = "m_" + name.lower()
        sel = ",".join('%s="%s"' % (k, v) for k, v in sorted(labels.items()))
        tests += ["  - series: %s" % yaml_str("%s{%s}" % (metric, sel)),
                  "    values: %s" % yaml_str("%r %r %r" % (value, value, value))]
        rules += ["  - alert: %s" % name, "    expr: %s > -1" % metric]
        if name in LABEL_TEMPLATES:
            rules += ["    labels:"]
            rules += ["      %s: %s" % (k, yaml_str(v)) for k, v in LABEL_TEMPLATES[name].items()]
        rules += ["    annotations:"]
        rules += ["      %s: %s" % (k, yaml_str(v)) for k, v in templates.items()]
    tests += ["  alert_rule_test:"]
    for name, (value, labels, templates) in ALERTS.items():
        exp = dict(rendered[name])
        if alter == name:
            k = sorted(exp)[0]
            exp[k] = exp[k] + "#altered"
        tests += ["  - eval_time: 1m", "    alertname: %s" % name, "    exp_alerts:",
                  "    - exp_labels:"]
        exp_labels = dict(labels)
        exp_labels.update(rendered.get("labels:" + name, {}))
        tests += ["        %s: %s" % (k, yaml_str(v)) for k, v in sorted(exp_labels.items())]
        tests += ["      exp_annotations:"]
        tests += ["        %s: %s" % (k, yaml_str(v)) for k, v in sorted(exp.items())]
    with open(os.path.join(d, "rules.yml"), "w") as f:
        f.write("\n".join(rules) + "\n")
    with open(os.path.join(d, "test.yml"), "w") as f:
        f.write("\n".join(tests) + "\n")


def annotation_diff(output):
    """The annotations that differ between promtool's exp and got blocks, as (key, exp, got)."""
    import re
    pair = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    blocks = {"exp": {}, "got": {}}
    cur = None
    for line in output.splitlines():
        t = line.strip()
        if t.startswith("exp:"):
            cur = "exp"
        elif t.startswith("got:"):
            cur = "got"
        elif t.startswith("Annotations:") and cur:
            blocks[cur].update(pair.findall(t))
    keys = sorted(set(blocks["exp"]) | set(blocks["got"]))
    return [(k, blocks["exp"].get(k), blocks["got"].get(k)) for k in keys
            if blocks["exp"].get(k) != blocks["got"].get(k)]


def promtool_test(d):
    return subprocess.run([PROMTOOL, "test", "rules", "test.yml"], cwd=d, capture_output=True,
                          text=True, timeout=120)


def main():
    failures = 0
    rendered = {}
    for name, (value, labels, templates) in ALERTS.items():
        full = dict(labels)
        full["__name__"] = "m_" + name.lower()
        rendered[name] = run_driver(name, value, full, templates)
        if name in LABEL_TEMPLATES:
            rendered["labels:" + name] = run_driver(name, value, full, LABEL_TEMPLATES[name])
    ntemplates = sum(len(t) for _, _, t in ALERTS.values()) + sum(
        len(t) for t in LABEL_TEMPLATES.values())
    errors = sum(1 for r in rendered.values() for v in r.values()
                 if v.startswith("<error expanding template"))
    # Only the Errors alert has failing expansions (a few of its templates are Go quirks that
    # render "<no value>" instead); the others must render.
    for name, r in rendered.items():
        for k, v in r.items():
            if v.startswith("<error") and name != "Errors":
                print("unexpected failed expansion %s/%s: %s" % (name, k, v))
                failures += 1
    with tempfile.TemporaryDirectory() as d:
        write_files(d, rendered)
        p = promtool_test(d)
        if p.returncode != 0:
            print("promtool disagrees with lagwatch's rendering:")
            diffs = annotation_diff(p.stdout + p.stderr)
            for k, exp, got in diffs:
                print("  %s:\n    lagwatch:   %s\n    prometheus: %s" % (k, exp, got))
            if not diffs:
                print(p.stdout[-20000:], p.stderr[-4000:])
            failures += 1
        else:
            print("promtool agrees on %d templates (%d of them failing expansions)"
                  % (ntemplates, errors))
        write_files(d, rendered, alter="DebeziumLag")
        p = promtool_test(d)
        if p.returncode == 0:
            print("control run with an altered expectation passed: the comparison is not live")
            failures += 1

        # Parse errors: promtool check rules vs lagwatch's load-time check.
        checked = run_driver("P", 1.0, {}, PARSE_ERRORS, check=True)
        rules = ["groups:", "- name: p", "  rules:"]
        for k, v in PARSE_ERRORS.items():
            rules += ["  - alert: P", "    expr: up", "    annotations:",
                      "      %s: %s" % (k, yaml_str(v))]
        with open(os.path.join(d, "bad.yml"), "w") as f:
            f.write("\n".join(rules) + "\n")
        p = subprocess.run([PROMTOOL, "check", "rules", "bad.yml"], cwd=d, capture_output=True,
                           text=True, timeout=60)
        out = p.stdout + p.stderr
        for k in PARSE_ERRORS:
            want = None
            for line in out.splitlines():
                tag = 'annotation "%s": ' % k
                if tag in line:
                    want = line.split(tag, 1)[1]
            got = checked[k]
            if want is None:
                print("%s: promtool accepted %r" % (k, PARSE_ERRORS[k]))
                failures += 1
            elif got != want:
                print("%s: promtool says %r, lagwatch says %r" % (k, want, got))
                failures += 1
        print("parse errors compared: %d" % len(PARSE_ERRORS))
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
