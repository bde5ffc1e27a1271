#!/usr/bin/env python3
"""Differential test: the webhook payload (version 4) that a real Alertmanager (Debian's
prometheus-alertmanager) sends for a group of alerts must equal, field by field and in field
order, what lagwatch builds for the same alerts and route. Covers group keys, fingerprints,
alert order, common labels/annotations, timestamps and resolved alerts.

    am_webhook_test.py NOTIFY_DRIVER
"""
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

SRC = os.environ.get("LAGWATCH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def wait_file(path, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return open(path).read().strip()
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {path}")


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read()


def wait_hooks(recv, n, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        reqs = [r for r in json.loads(http("GET", recv + "/_requests")) if r["path"] == "/hook"]
        if len(reqs) >= n:
            return reqs
        time.sleep(0.1)
    raise SystemExit(f"Alertmanager sent fewer than {n} webhook(s) within {timeout}s")


def ordered(s):
    return json.loads(s, object_pairs_hook=lambda pairs: [list(p) for p in pairs])


def compare(am_body, driver, tmp, alerts, now):
    am = json.loads(am_body)
    inp = {"receiver": "hook", "group_by": ["pipeline"], "external_url": am["externalURL"],
           "now": now, "alerts": alerts}
    path = os.path.join(tmp, "in.json")
    with open(path, "w") as f:
        json.dump(inp, f)
    out = subprocess.run([driver, path], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise SystemExit(f"notify_driver failed: {out.stderr}")
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    if len(lines) != 1:
        raise SystemExit(f"lagwatch produced {len(lines)} notifications, expected 1")
    ours = lines[0]
    if ordered(ours) != ordered(am_body):
        print("Alertmanager:", json.dumps(json.loads(am_body), indent=1))
        print("lagwatch:    ", json.dumps(json.loads(ours), indent=1))
        raise SystemExit("webhook payloads differ")


def main():
    driver = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="lw-am-")
    procs = []
    try:
        port_file = os.path.join(tmp, "recv.port")
        procs.append(subprocess.Popen([sys.executable, os.path.join(SRC, "tests/standins/receiver.py"),
                                       "--port-file", port_file]))
        recv = f"http://127.0.0.1:{wait_file(port_file)}"
        p, base = alertmanager_peer.start(tmp, "am", f"""route:
  receiver: hook
  group_by: [pipeline]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {recv}/hook
        send_resolved: true
""")
        procs.append(p)
        t0 = time.time() - 600
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".250Z"
        alerts = [
            {"labels": {"alertname": "DebeziumHighBinlogLag", "pipeline": "orders",
                        "severity": "page", "context": "streaming"},
             "annotations": {"summary": "lag 93s", "runbook_url": "https://rb/lag"},
             "startsAt": iso(t0), "generatorURL": "http://lagwatch:9741/graph?g0.expr=x"},
            {"labels": {"alertname": "AuroraBinlogLagHigh", "pipeline": "orders",
                        "severity": "page", "job": "aurora"},
             "annotations": {"summary": "aurora lag \"high\" <5m>", "runbook_url": "https://rb/lag"},
             "startsAt": iso(t0 + 30), "generatorURL": "http://lagwatch:9741/graph?g0.expr=y"},
            {"labels": {"alertname": "KafkaConnectTaskFailed", "pipeline": "orders",
                        "severity": "critical", "task": "0"},
             "annotations": {"summary": "task 0 failed"},
             "startsAt": iso(t0 + 60), "generatorURL": ""},
        ]
        far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        http("POST", base + "/api/v2/alerts", [dict(a, endsAt=far) for a in alerts])
        first = wait_hooks(recv, 1)[0]["body"]
        compare(first, driver, tmp, alerts, iso(time.time()))
        # resolve one alert: Alertmanager sends the group again with it resolved
        resolved_at = iso(time.time() - 5)
        alerts[2]["endsAt"] = resolved_at
        http("POST", base + "/api/v2/alerts", [alerts[2]])
        second = wait_hooks(recv, 2)[1]["body"]
        compare(second, driver, tmp, alerts, iso(time.time()))
        print("webhook v4 payloads identical to Alertmanager's (firing, then one resolved)")
    finally:
        alertmanager_peer.stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
