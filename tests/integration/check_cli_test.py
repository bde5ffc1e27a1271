#!/usr/bin/env python3
"""check_cli_test.py — `lagwatch check -c FILE` against moto_server (CloudWatch, RDS) and the JMX
exporter / Kafka Connect / receiver stand-ins (tests/standins/cdc_env.py):

- Aurora lag above the threshold for the last 12 minutes of CloudWatch history: the alert with
  `for: 5m` is firing in one shot, active since before the window of `for`;
- Debezium lag (scraped once) above its threshold: pending, with the reason that its `for`
  cannot be observed; with --duration it is observed and fires;
- an inhibit rule shows in suppressed_by; the JSON has exactly the keys of issue 7;
- every exit code: 0 nothing firing, 1 firing / pending with --fail-on pending, 2 usage and
  config errors (file:line:col), 3 a source failed; firing wins over a failed source;
- --output junit parses and counts failures and errors; the CloudWatch cost estimate is printed;
- nothing reaches the receiver unless --notify, and then the firing alert does.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

SRC = os.environ.get("LAGWATCH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
sys.path.insert(0, os.path.join(SRC, "tests/standins"))
from cdc_env import Env, http  # noqa: E402

LAGWATCH = os.environ.get("LAGWATCH_BIN") or sys.argv[1]
failures = []

RULES = """groups:
  - name: aurora
    rules:
      - alert: AuroraBinlogLagHigh
        expr: aws_rds_aurora_binlog_replica_lag_maximum > 300
        for: 5m
        labels: {severity: page}
        annotations: {summary: "Aurora binlog lag of {{ $labels.pipeline }} is high"}
  - name: debezium
    rules:
      - alert: DebeziumHighBinlogLag
        expr: debezium_metrics_MilliSecondsBehindSource{context="streaming"} > 1000
        for: 3s
        labels: {severity: warning}
      - alert: NeverFires
        expr: debezium_metrics_MilliSecondsBehindSource > 1e12
"""

PENDING_ONLY = """groups:
  - name: debezium
    rules:
      - alert: DebeziumHighBinlogLag
        expr: debezium_metrics_MilliSecondsBehindSource{context="streaming"} > 1000
        for: 10m
      - alert: MetricsVanished
        expr: debezium_metrics_MilliSecondsBehindSource{server="nosuch"} > 0
        for: 1m
"""

QUIET = """groups:
  - name: quiet
    rules:
      - alert: NeverFires
        expr: debezium_metrics_MilliSecondsBehindSource > 1e12
"""


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run_check(cfg, *extra, timeout=180):
    p = subprocess.run([LAGWATCH, "check", "-c", cfg] + list(extra), capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def main():
    work = tempfile.mkdtemp(prefix="lw-check-")
    env = Env(SRC, work)
    env.start()
    try:
        run(env, work)
    finally:
        env.close()
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def run(env, work):
    env.create_cluster("orders-aurora")
    now = int(time.time())
    base = now - now % 60
    for m in range(1, 13):
        env.put_aurora("orders-aurora", base - 60 * m, lag_s=400 + m, disk=5000 + m)
    rules = write(os.path.join(work, "cdc.rules.yml"), RULES)
    recv = f"http://127.0.0.1:{env.receiver_port}"
    notify = f"""route: {{receiver: hooks, group_by: [alertname, pipeline], group_wait: 30s}}
receivers:
  - name: hooks
    webhook_configs: [{{url: '{recv}/hook'}}]
inhibit_rules:
  - source_matchers: ['alertname="AuroraBinlogLagHigh"']
    target_matchers: ['alertname="DebeziumHighBinlogLag"']
    equal: [pipeline]
"""
    state = os.path.join(work, "state")
    cfg = env.config(os.path.join(work, "check.yml"), state_dir=state, rule_files=(rules,),
                     extra=notify)

    # --- the table: firing from CloudWatch history, pending with its reason ---
    rc, out, err = run_check(cfg)
    check(rc == 1, f"firing alert: exit 1 (got {rc}; stderr {err.strip()[-400:]!r})")
    check("AuroraBinlogLagHigh" in out and "firing" in out, "table shows the firing Aurora alert")
    lines = [l for l in out.splitlines() if l.startswith("DebeziumHighBinlogLag")]
    check(any(" pending " in l and 'pipeline="orders"' in l for l in lines),
          f"Debezium alert pending in the table ({lines})")
    check("cannot be observed in one shot" in out, "pending alert says why")
    check("summary: Aurora binlog lag of orders is high" in out,
          "annotation templates expanded as in run")
    check("suppressed by inhibit:AuroraBinlogLagHigh" in out, "inhibited alert names its source")
    check("estimated $" in out and "/month" in out and "metric(s) per cycle" in out,
          "CloudWatch cost estimate printed")
    check(env.received() == [], "nothing sent without --notify")

    # --- JSON: exact keys, `for` observed over CloudWatch history ---
    rc, out, err = run_check(cfg, "--output", "json")
    check(rc == 1, f"json: exit 1 (got {rc})")
    doc = json.loads(out)
    check(set(doc) == {"alerts", "sources"}, f"json: top-level keys {sorted(doc)}")
    akeys = {"alertname", "state", "labels", "annotations", "value", "active_at", "suppressed_by",
             "reason"}
    check(all(set(a) == akeys for a in doc["alerts"]), "json: every alert has exactly the keys")
    check(all(set(s) == {"name", "pipeline", "up", "error"} for s in doc["sources"]),
          "json: every source has exactly name, pipeline, up, error")
    aur = [a for a in doc["alerts"] if a["alertname"] == "AuroraBinlogLagHigh"]
    check(len(aur) == 1 and aur[0]["state"] == "firing", "json: Aurora alert firing")
    if aur:
        a = aur[0]
        check(a["labels"].get("pipeline") == "orders" and a["labels"].get("severity") == "page"
              and a["labels"].get("dbcluster_identifier") == "orders-aurora",
              f"json: labels {a['labels']}")
        check(isinstance(a["value"], (int, float)) and a["value"] > 400, f"json: value {a['value']}")
        t = time.mktime(time.strptime(a["active_at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        check(t <= time.time() - 300, f"json: active_at {a['active_at']} is >= 5m ago (for observed)")
        check(a["suppressed_by"] == [] and a["reason"] is None, "json: firing alert not suppressed")
    deb = [a for a in doc["alerts"] if a["alertname"] == "DebeziumHighBinlogLag"
           and a["labels"].get("pipeline") == "orders"]
    check(len(deb) == 1 and deb[0]["state"] == "pending", "json: Debezium alert pending")
    if deb:
        check("cannot be observed" in (deb[0]["reason"] or ""), "json: pending reason")
        check(deb[0]["suppressed_by"] == ["inhibit:AuroraBinlogLagHigh"],
              f"json: suppressed_by {deb[0]['suppressed_by']}")
    check(not any(a["alertname"] == "NeverFires" for a in doc["alerts"]), "json: inactive omitted")
    srcs = {(s["name"], s["pipeline"]): s for s in doc["sources"]}
    check(srcs.get(("debezium", "orders"), {}).get("up") is True, "json: debezium source up")
    check(srcs.get(("cloudwatch", "orders"), {}).get("up") is True or
          any(s["name"] == "cloudwatch" and s["up"] for s in doc["sources"]),
          "json: cloudwatch source up")
    check(all(s["error"] is None for s in doc["sources"] if s["up"]), "json: up sources, no error")
    check("estimated $" in err, "json: cost estimate goes to stderr")

    # --- --duration: the Debezium `for: 3s` is observed on repeated scrapes and fires ---
    rc, out, err = run_check(cfg, "--output", "json", "--duration", "5s")
    doc = json.loads(out) if out.strip() else {"alerts": []}
    deb = [a for a in doc["alerts"] if a["alertname"] == "DebeziumHighBinlogLag"
           and a["labels"].get("pipeline") == "orders"]
    check(len(deb) == 1 and deb[0]["state"] == "firing",
          f"--duration 5s: for: 3s observed, firing ({deb})")

    # --- JUnit ---
    rc, out, err = run_check(cfg, "--output", "junit")
    check(rc == 1, f"junit: exit 1 (got {rc})")
    try:
        root = ET.fromstring(out)
        suite = root.find("testsuite")
        check(root.tag == "testsuites" and suite is not None, "junit: testsuites/testsuite")
        cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
        check(cases[("aurora", "AuroraBinlogLagHigh")].find("failure") is not None,
              "junit: firing rule is a failure")
        check(cases[("debezium", "DebeziumHighBinlogLag")].find("failure") is None,
              "junit: pending rule is not a failure without --fail-on pending")
        check(suite.get("failures") == "1", f"junit: failures={suite.get('failures')}")
    except (ET.ParseError, KeyError, AttributeError) as e:
        check(False, f"junit parses ({e}): {out[:300]}")
    rc, out, err = run_check(cfg, "--output", "junit", "--fail-on", "pending")
    root = ET.fromstring(out)
    check(root.find("testsuite").get("failures") == "2", "junit: --fail-on pending counts pending")

    # --- --notify sends the firing alert through the route ---
    rc, out, err = run_check(cfg, "--notify")
    got = env.received()
    hooks = [json.loads(r["body"]) for r in got if r["path"] == "/hook"]
    check(len(hooks) >= 1 and any(a["labels"]["alertname"] == "AuroraBinlogLagHigh"
                                  for h in hooks for a in h["alerts"]),
          f"--notify: webhook got the firing alert ({len(hooks)} request(s); {err.strip()[-300:]})")
    check(not any(a["labels"]["alertname"] == "DebeziumHighBinlogLag" for h in hooks
                  for a in h["alerts"]), "--notify: pending alerts are not sent")
    check("1 notification(s) delivered" in err, f"--notify: delivery reported ({err.strip()[-200:]})")

    # --- exit 0, --fail-on pending, exit 3 ---
    quiet = env.config(os.path.join(work, "quiet.yml"), state_dir=state,
                       rule_files=(write(os.path.join(work, "quiet.rules.yml"), QUIET),))
    rc, out, err = run_check(quiet)
    check(rc == 0, f"nothing firing: exit 0 (got {rc}; {err.strip()[-300:]})")
    check("No alert is pending or firing." in out, "table says nothing is pending or firing")
    # evaluation_interval 30s: the one-shot still evaluates after the scrape; no_data: alerting
    # does not fire on the history before the first fetch (there it means "not fetched")
    pend = env.config(os.path.join(work, "pending.yml"), state_dir=state, evaluation="30s",
                      rule_files=(write(os.path.join(work, "pending.rules.yml"), PENDING_ONLY),),
                      extra="rule_options:\n  - alert: MetricsVanished\n    no_data: alerting\n")
    rc, out, err = run_check(pend, "--output", "json")
    check(rc == 0, f"only pending: exit 0 (got {rc})")
    doc = json.loads(out)
    st = {a["alertname"]: a for a in doc["alerts"]}
    check(st.get("DebeziumHighBinlogLag", {}).get("state") == "pending",
          f"30s evaluation interval: the scraped lag is evaluated ({sorted(st)})")
    check(st.get("MetricsVanished", {}).get("state") == "pending" and
          "cannot be observed" in (st["MetricsVanished"].get("reason") or ""),
          f"no_data: alerting is pending from the fetch on, not firing on unfetched history "
          f"({st.get('MetricsVanished')})")
    rc, out, err = run_check(pend, "--fail-on", "pending")
    check(rc == 1, f"only pending with --fail-on pending: exit 1 (got {rc})")
    dead = open(pend).read().replace(f"http://127.0.0.1:{env.jmx_port}/metrics",
                                     "http://127.0.0.1:9/metrics")
    dead_cfg = write(os.path.join(work, "dead.yml"), dead)
    rc, out, err = run_check(dead_cfg, "--output", "json")
    check(rc == 3, f"a source failed, nothing firing: exit 3 (got {rc})")
    doc = json.loads(out)
    downs = [s for s in doc["sources"] if not s["up"]]
    check(any(s["name"] == "debezium" and "127.0.0.1:9" in (s["error"] or "") or
              s["name"] == "debezium" and s["error"] for s in downs),
          f"json: the dead exporter is down with its error ({downs})")
    dead_firing = write(os.path.join(work, "dead_firing.yml"),
                        open(cfg).read().replace(f"http://127.0.0.1:{env.jmx_port}/metrics",
                                                 "http://127.0.0.1:9/metrics"))
    rc, out, err = run_check(dead_firing)
    check(rc == 1, f"firing and a failed source: exit 1 (got {rc})")

    # --- exit 2 ---
    broken = write(os.path.join(work, "broken.yml"), "global:\n  scrape_intervall: 1s\n")
    rc, out, err = run_check(broken)
    check(rc == 2 and "broken.yml:2:" in err, f"bad config: exit 2 with its location ({err.strip()})")
    bad_rules = write(os.path.join(work, "bad.rules.yml"),
                      "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: rate(x[5m]\n")
    badr = env.config(os.path.join(work, "badrules.yml"), state_dir=state, rule_files=(bad_rules,))
    rc, out, err = run_check(badr)
    check(rc == 2 and "bad.rules.yml:5:" in err, f"bad rule file: exit 2 with file:line ({err.strip()})")
    rc, out, err = run_check(cfg, "--output", "yaml")
    check(rc == 2 and "--output" in err, "bad --output: exit 2")
    rc, out, err = run_check(cfg, "--lookback", "5s")
    check(rc == 2, "--lookback below 1m: exit 2")
    p = subprocess.run([LAGWATCH, "check"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and "-c FILE" in p.stderr, "no -c: exit 2")
    p = subprocess.run([LAGWATCH, "check", "--help"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "usage: lagwatch check" in p.stdout, "--help")


if __name__ == "__main__":
    main()
