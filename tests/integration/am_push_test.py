#!/usr/bin/env python3
"""alertmanager_configs against real Alertmanagers (Debian's prometheus-alertmanager): lagwatch
pushes its active alerts to every member of a two-member cluster with POST /api/v2/alerts, and
each member then shows them in its own API with lagwatch's labels, annotations, startsAt,
generatorURL and an endsAt in the future (so Alertmanager resolves them if lagwatch goes
silent); a second push with one alert resolved makes it disappear from the active alerts.

    am_push_test.py NOTIFY_DELIVER_DRIVER
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import alertmanager_peer  # noqa: E402

def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read() or b"null")


def check(cond, what, detail=""):
    if not cond:
        raise SystemExit(f"FAILED: {what}\n{detail}")
    print("ok -", what)


def parse_time(s):
    s = s.replace("Z", "+00:00")
    if "." in s:  # Go prints up to 9 fractional digits; Python takes 6
        head, rest = s.split(".", 1)
        frac, tz = rest[:rest.index("+")], rest[rest.index("+"):]
        s = f"{head}.{frac[:6].ljust(6, '0')}{tz}"
    return datetime.datetime.fromisoformat(s).timestamp()


def start_am(tmp, name):
    return alertmanager_peer.start(tmp, name,
                                   "route: {receiver: devnull}\nreceivers: [{name: devnull}]\n")


def push(driver, tmp, cfg, alerts):
    path = os.path.join(tmp, "alerts.json")
    with open(path, "w") as f:
        json.dump(alerts, f)
    out = subprocess.run([driver, cfg, path, "10000", "", "2000", "am-push"], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit(f"driver failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def active(base):
    return {a["labels"]["alertname"]: a for a in get(base + "/api/v2/alerts")}


def main():
    driver = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="lw-ampush-")
    procs = []
    try:
        p1, am1 = start_am(tmp, "am1")
        procs.append(p1)
        p2, am2 = start_am(tmp, "am2")
        procs.append(p2)
        cfg = os.path.join(tmp, "lagwatch.yml")
        with open(cfg, "w") as f:
            f.write(f"""route:
  receiver: other
  routes:
    - matchers: ['severity=~"page|critical"']
      receiver: am
receivers:
  - name: am
    alertmanager_configs: [{{urls: ['{am1}', '{am2}/']}}]
  - name: other
""")
        alerts = [
            {"labels": {"alertname": "DebeziumHighBinlogLag", "pipeline": "orders",
                        "severity": "page"},
             "annotations": {"summary": "lag 93s", "runbook_url": "https://rb/lag"}},
            {"labels": {"alertname": "KafkaConnectTaskFailed", "pipeline": "orders",
                        "severity": "critical", "task": "0"},
             "annotations": {"summary": "task 0 failed"}},
            {"labels": {"alertname": "NotRoutedToAm", "pipeline": "orders", "severity": "info"},
             "annotations": {}},
        ]
        before = time.time()
        res, log = push(driver, tmp, cfg, alerts)
        check(res["sent"] == 2 and res["failed"] == 0,
              "one push to each member of the cluster, both accepted", json.dumps(res) + log)
        for base in (am1, am2):
            got = active(base)
            check(set(got) == {"DebeziumHighBinlogLag", "KafkaConnectTaskFailed"},
                  f"{base} shows exactly the alerts routed to the Alertmanager receiver",
                  json.dumps(got, indent=1))
            a = got["DebeziumHighBinlogLag"]
            check(a["labels"] == alerts[0]["labels"] and a["annotations"] == alerts[0]["annotations"],
                  f"{base}: labels and annotations as lagwatch holds them", json.dumps(a, indent=1))
            check(a["status"]["state"] == "active", f"{base}: the alert is active")
            ends = parse_time(a["endsAt"])
            check(before + 60 < ends < time.time() + 3600,
                  f"{base}: endsAt lies minutes ahead, so a silent lagwatch's alerts resolve",
                  a["endsAt"])
            check(abs(parse_time(a["startsAt"]) - (before - 3600)) < 30,
                  f"{base}: startsAt is when the alert started firing", a["startsAt"])
            check(a["generatorURL"] == "http://lagwatch.test:9741/graph",
                  f"{base}: generatorURL kept", a["generatorURL"])
        # the task recovers: lagwatch pushes it resolved (endsAt in the past)
        alerts[1]["resolved"] = True
        res, log = push(driver, tmp, cfg, alerts)
        check(res["sent"] == 2, "the resolve is pushed to both members", json.dumps(res) + log)
        for base in (am1, am2):
            got = active(base)
            check(set(got) == {"DebeziumHighBinlogLag"},
                  f"{base}: the resolved alert is no longer active", json.dumps(got, indent=1))
        # a member that is down does not stop the push to the other
        p2.terminate()
        p2.wait(timeout=10)
        alerts[1]["resolved"] = False
        res, log = push(driver, tmp, cfg, alerts)
        check(res["sent"] == 1 and res["failed"] == 1,
              "with one member down the other still gets the push", json.dumps(res) + log)
        check("KafkaConnectTaskFailed" in active(am1), "the live member shows the re-fired alert")
    finally:
        alertmanager_peer.stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
