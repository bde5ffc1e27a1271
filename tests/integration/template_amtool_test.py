#!/usr/bin/env python3
"""Differential test of receiver templates against Alertmanager 0.25's own rendering.

`amtool template render` executes a template over Alertmanager's fixed example data. The same
data, built as lagwatch's value tree (template_driver --am), must render to the same text for
every template below; templates amtool refuses must fail in lagwatch too. A control comparison
with a deliberately different template must disagree, so the comparison is known to be live.
"""
import json
import shutil
import subprocess
import sys
import tempfile
import os

DRIVER = sys.argv[1]
AMTOOL = shutil.which("amtool")
if not AMTOOL:
    sys.exit("amtool not found: install Debian's prometheus-alertmanager package (packaging/deps)")


def kv(d):
    """Alertmanager's template.KV with its argument-less methods."""
    keys = sorted(d)
    pairs = {"@list": [{"@struct": "template.Pair", "Name": k, "Value": d[k]} for k in keys],
             "@type": "template.Pairs",
             "@methods": {"Names": {"@list": keys, "@type": "[]string"},
                          "Values": {"@list": [d[k] for k in keys], "@type": "[]string"}}}
    out = dict(d)
    out["@type"] = "template.KV"
    out["@methods"] = {"SortedPairs": pairs,
                       "Names": {"@list": keys, "@type": "[]string"},
                       "Values": {"@list": [d[k] for k in keys], "@type": "[]string"}}
    return out


COMMON_LABELS = {"commonlabelkey1": "commonlabelvalue1", "commonlabelkey2": "commonlabelvalue2"}
COMMON_ANN = {"commonannotationkey1": "commonannotationvalue1",
              "commonannotationkey2": "commonannotationvalue2"}


def alert(labels, ann, fp):
    # StartsAt/EndsAt are time.Now()-based in amtool: left out, and no template prints them.
    return {"@struct": "template.Alert", "Status": "alertstatus", "Labels": kv(labels),
            "Annotations": kv(ann), "GeneratorURL": "https://generatorurl.com",
            "Fingerprint": fp}


ALERTS = [
    alert(dict(COMMON_LABELS, label1="value1", label2="value2", instance="foo.bar:1234"),
          dict(COMMON_ANN, annotation1="value1", annotation2="value2"), "fingerprint1"),
    alert(dict(COMMON_LABELS, foo="bar", baz="qux"), dict(COMMON_ANN, aaa="bbb", ccc="ddd"),
          "fingerprint2"),
]
EMPTY_ALERTS = {"@list": [], "@type": "template.Alerts"}
DATA = {
    "@struct": "template.Data",
    "Receiver": "receiver",
    "Status": "alertstatus",
    "Alerts": {"@list": ALERTS, "@type": "template.Alerts",
               "@methods": {"Firing": EMPTY_ALERTS, "Resolved": EMPTY_ALERTS}},
    "GroupLabels": kv({"grouplabelkey1": "grouplabelvalue1", "grouplabelkey2": "grouplabelvalue2"}),
    "CommonLabels": kv(COMMON_LABELS),
    "CommonAnnotations": kv(COMMON_ANN),
    "ExternalURL": "https://example.com",
}

TEMPLATES = {
    "title": '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }}',
    "receiver": "{{ .Receiver }} {{ .ExternalURL }} {{ len .Alerts }} {{ len .Alerts.Firing }} {{ len .Alerts.Resolved }}",
    "range_alerts": "{{ range $i, $a := .Alerts }}{{ $i }}:{{ .Fingerprint }} {{ .Labels.instance }}|{{ end }}",
    "range_pairs": "{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}",
    "names": "{{ .GroupLabels.Names }} {{ .GroupLabels.Values }} {{ .CommonLabels.SortedPairs.Names }}",
    "missing": "[{{ .CommonLabels.missing }}]{{ eq .CommonLabels.missing \"\" }}|{{ index .CommonLabels \"missing\" }}|{{ with .CommonLabels.missing }}x{{ else }}none{{ end }}",
    "labels_map": "{{ .CommonLabels }}|{{ printf \"%v\" .GroupLabels.SortedPairs }}",
    "types": '{{ printf "%T|%T|%T|%T|%T" .CommonLabels .Alerts (index .Alerts 0) .GroupLabels.SortedPairs .Receiver }}',
    "funcs": '{{ safeHtml "<b>" }} {{ title "a b-c" }} {{ match "^foo" "foobar" }} {{ reReplaceAll "e" "E" .ExternalURL }} {{ toLower "ABC" }}',
    "join": '{{ join "," (stringSlice "a" "b" "c") }}|{{ stringSlice "x" }}|{{ join ", " .CommonLabels.Names }}',
    "annotations": "{{ range .Alerts }}{{ .Annotations.annotation1 }}{{ .Annotations.aaa }};{{ end }}{{ .CommonAnnotations.commonannotationkey1 }}",
    "if_else": '{{ if gt (len .Alerts) 1 }}many{{ else }}one{{ end }} {{ if and .Alerts (not .Alerts.Firing) }}none firing{{ end }}',
    "define": '{{ define "x" }}<{{ .Name }}>{{ end }}{{ range .GroupLabels.SortedPairs }}{{ template "x" . }}{{ end }}',
    "printf": '{{ printf "%-20s|%5d|%q" .Receiver (len .Alerts) .ExternalURL }}',
    "index": '{{ (index .Alerts 1).Labels.baz }} {{ index (index .Alerts 0).Labels "label1" }} {{ (index .Alerts.Firing) }}',
    "generator": "{{ range .Alerts }}{{ .GeneratorURL }} {{ end }}",
    "trim": "{{- range .Alerts -}}\n  * {{ .Fingerprint }}\n{{ end -}}",
}

# Refused by both (at parse or at execution).
ERRORS = {
    "func": "{{ humanize 1 }}",
    "field": "{{ .Nope }}",
    "method_args": "{{ .CommonLabels.SortedPairs 1 }}",
    "range_str": "{{ range .Receiver }}{{ end }}",
}


def amtool(text, tmpdir):
    glob = os.path.join(tmpdir, "empty.tmpl")
    p = subprocess.run([AMTOOL, "template", "render", "--template.glob=" + glob,
                        "--template.text=" + text], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return None
    return p.stdout  # exactly the rendering: amtool adds nothing


def lagwatch(templates):
    p = subprocess.run([DRIVER, "--am"], input=json.dumps({"data": DATA, "templates": templates}),
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit("template_driver failed: " + p.stderr)
    return json.loads(p.stdout)


def main():
    failures = 0
    got = lagwatch(dict(TEMPLATES, **ERRORS))
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "empty.tmpl"), "w") as f:
            f.write("\n")
        for k, text in TEMPLATES.items():
            want = amtool(text, d)
            if want is None:
                print("%s: amtool refused %r" % (k, text))
                failures += 1
            elif got[k] != want:
                print("%s:\n  lagwatch:     %r\n  alertmanager: %r" % (k, got[k], want))
                failures += 1
        for k, text in ERRORS.items():
            if amtool(text, d) is not None:
                print("%s: amtool accepted %r" % (k, text))
                failures += 1
            if not got[k].startswith("error: "):
                print("%s: lagwatch rendered %r as %r" % (k, text, got[k]))
                failures += 1
        control = amtool("{{ .Receiver }}!", d)
        if control == got["receiver"]:
            print("control comparison agreed: the comparison is not live")
            failures += 1
    if failures:
        sys.exit(1)
    print("amtool agrees on %d templates and refuses the same %d" % (len(TEMPLATES), len(ERRORS)))


if __name__ == "__main__":
    main()
