#!/usr/bin/env python3
"""agent_run_test.py — `lagwatch run` end to end against moto_server (CloudWatch, RDS), the JMX
exporter and Kafka Connect stand-ins and the Slack/PagerDuty receiver stand-in, all on loopback:

  - /-/healthy, /-/ready and /metrics over HTTP (own metrics, CloudWatch series, ALERTS);
  - an alert goes pending at the first evaluation that sees the lag, fires `for` later (at an
    evaluation, never earlier), is delivered to Slack and PagerDuty, and resolves;
  - an Aurora alert from CloudWatch data fires;
  - SIGHUP with a good config (new threshold applies, running alerts carry over) and with a
    broken one (logged, the old config keeps running);
  - kill -9 while an alert is pending, restart: it fires at its original activeAt + for; kill -9
    while it fires, restart: it is firing at the first evaluation and is not paged again;
  - a corrupt state file is reported, moved aside, and the agent starts;
  - SIGTERM: exit 0, state flushed.
Logs are JSON lines (--log-format json), which the test parses.
"""
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("LAGWATCH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
sys.path.insert(0, os.path.join(SRC, "tests/standins"))
from cdc_env import Env, free_port, http  # noqa: E402

LAGWATCH = os.environ.get("LAGWATCH_BIN") or sys.argv[1]
RULES = os.path.join(SRC, "tests/fixtures/agent/rules.yml")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


class Agent:
    def __init__(self, cfg, logpath):
        self.cfg, self.logpath = cfg, logpath
        self.log = open(logpath, "a")
        self.p = subprocess.Popen([LAGWATCH, "--log-format", "json", "run", "-c", cfg],
                                  stdout=self.log, stderr=self.log)

    def lines(self):
        out = []
        for l in open(self.logpath):
            try:
                out.append(json.loads(l))
            except ValueError:
                pass
        return out

    def wait_log(self, pred, timeout=30, after=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ls = self.lines()
            for l in ls[after:]:
                if pred(l):
                    return l
            if self.p.poll() is not None:
                return None
            time.sleep(0.1)
        return None

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


def ts(line):
    # ts=2026-12-06T18:12:28.146Z
    t = line["ts"]
    return time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + \
        float("0." + t[20:23])


def alert_line(name, state):
    return lambda l: l.get("msg") == "alert state" and l.get("alertname") == name and \
        l.get("state") == state


def wait_http(url, want=200, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            st, body = http("GET", url)
            if st == want:
                return body
        except OSError:
            pass
        time.sleep(0.1)
    return None


def main():
    work = tempfile.mkdtemp(prefix="lw-run-")
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


def make_config(env, work, port, rules=RULES, name="agent.yml"):
    extra = f"""route:
  receiver: oncall
  group_by: [alertname, pipeline]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: oncall
    slack_configs:
      - api_url: http://127.0.0.1:{env.receiver_port}/slack/T000/B000/XXX
        channel: "#cdc"
        send_resolved: true
    pagerduty_configs:
      - routing_key: test-routing-key
        url: http://127.0.0.1:{env.receiver_port}/v2/enqueue
"""
    return env.config(os.path.join(work, name), state_dir=os.path.join(work, "state"),
                      listen=f"127.0.0.1:{port}", rule_files=[rules], extra=extra)


def slack_texts(env):
    return [json.loads(r["body"]).get("text", "") for r in env.received()
            if r["path"].startswith("/slack")]


def run(env, work):
    env.create_cluster("orders-aurora")
    now = int(time.time())
    base = now - now % 60
    for m in range(1, 4):
        env.put_aurora("orders-aurora", base - 60 * m, lag_s=150 if m == 1 else 5, disk=1000)
    env.set_lag("orders", 1000)
    port = free_port()
    rules = os.path.join(work, "rules.yml")  # a copy the test edits for the reload
    open(rules, "w").write(open(RULES).read())
    cfg = make_config(env, work, port, rules=rules)
    url = f"http://127.0.0.1:{port}"
    log = os.path.join(work, "agent.log")
    a = Agent(cfg, log)

    check(wait_http(url + "/-/healthy") is not None, "/-/healthy answers 200")
    check(wait_http(url + "/-/ready", timeout=30) is not None,
          "/-/ready turns 200 after the first complete evaluation")
    ready = a.wait_log(lambda l: l.get("msg", "").startswith("ready"))
    started = a.wait_log(lambda l: l.get("msg") == "lagwatch started")
    check(ready is not None and started is not None and ts(ready) >= ts(started),
          "ready is logged after start")

    # Aurora lag from CloudWatch fires.
    fired = a.wait_log(alert_line("AuroraBinlogLagHigh", "firing"), timeout=30)
    check(fired is not None and 'dbcluster_identifier=\\"orders-aurora\\"' in json.dumps(fired),
          "AuroraBinlogLagHigh fires from CloudWatch data")

    # Debezium lag: pending at the first evaluation seeing it, firing `for` (3s) later.
    n0 = len(a.lines())
    env.set_lag("orders", 9000)
    pend = a.wait_log(alert_line("DebeziumHighBinlogLag", "pending"), after=n0)
    fire = a.wait_log(alert_line("DebeziumHighBinlogLag", "firing"), after=n0)
    check(pend is not None and fire is not None, "DebeziumHighBinlogLag pending then firing")
    if pend and fire:
        dt = ts(fire) - ts(pend)
        check(2.9 <= dt <= 5.0, f"fires for=3s after pending, at an evaluation (took {dt:.2f}s)")
    deadline = time.time() + 20
    while time.time() < deadline and not any("[FIRING:1] DebeziumHighBinlogLag" in t
                                             for t in slack_texts(env)):
        time.sleep(0.2)
    check(any("[FIRING:1] DebeziumHighBinlogLag" in t for t in slack_texts(env)),
          "Slack got the firing notification")
    pd = [json.loads(r["body"]) for r in env.received() if r["path"] == "/v2/enqueue"]
    check(any(p.get("event_action") == "trigger" and "DebeziumHighBinlogLag" in
              p["payload"]["summary"] for p in pd), "PagerDuty got a trigger")

    body = wait_http(url + "/metrics") or ""
    check('ALERTS{alertname="DebeziumHighBinlogLag",alertstate="firing"' in body,
          "/metrics shows ALERTS for the firing alert")
    check(re.search(r'^aws_rds_aurora_binlog_replica_lag_maximum\{.*\} 150 \d+$', body, re.M)
          is not None, "/metrics has the fetched CloudWatch series with its timestamp")
    for m in ("lagwatch_store_series", "lagwatch_store_samples", "lagwatch_store_bytes",
              "process_resident_memory_bytes", "lagwatch_cloudwatch_metrics_requested_total",
              "lagwatch_notifications_sent_total", 'lagwatch_source_up{source="debezium"',
              "lagwatch_rule_group_last_duration_seconds"):
        check(m in body, f"/metrics has {m}")
    check("test-routing-key" not in body and "T000/B000" not in body,
          "/metrics shows no secret")
    st, body = http("GET", url + "/api/v1/alerts")
    doc = json.loads(body) if st == 200 else {}
    check(any(a["labels"].get("alertname") == "DebeziumHighBinlogLag" and a["state"] == "firing"
              for a in doc.get("data", {}).get("alerts", [])),
          "/api/v1/alerts lists the firing alert in Prometheus's shape")
    st, body = http("GET", url + "/api/v1/rules")
    doc = json.loads(body) if st == 200 else {}
    check(any(r.get("name") == "DebeziumLagCritical" for g in doc.get("data", {}).get("groups", [])
              for r in g.get("rules", [])), "/api/v1/rules lists the rules")
    st, _ = http("GET", url + "/api/v1/rules?type=bogus")
    check(st == 400, "/api/v1/rules?type=bogus is a 400 as in Prometheus")
    st, body = http("GET", url + "/")
    check(st == 200 and "orders" in body and "DebeziumHighBinlogLag" in body and "<html" in body,
          "the status page shows the pipeline and the alert")

    # Resolve.
    n0 = len(a.lines())
    env.set_lag("orders", 100)
    res = a.wait_log(alert_line("DebeziumHighBinlogLag", "resolved"), after=n0)
    check(res is not None, "DebeziumHighBinlogLag resolves when the lag drops")
    deadline = time.time() + 20
    while time.time() < deadline and not any("[RESOLVED] DebeziumHighBinlogLag" in t
                                             for t in slack_texts(env)):
        time.sleep(0.2)
    check(any("[RESOLVED] DebeziumHighBinlogLag" in t for t in slack_texts(env)),
          "Slack got the resolve")

    # SIGHUP with a good config: a lower threshold applies; AuroraBinlogLagHigh stays firing
    # (carried over: no new pending/firing line for it).
    open(rules, "w").write(open(RULES).read().replace("> 5000", "> 50"))
    n0 = len(a.lines())
    a.p.send_signal(signal.SIGHUP)
    check(a.wait_log(lambda l: l.get("msg") == "configuration reloaded", after=n0) is not None,
          "SIGHUP with a good config reloads")
    check(a.wait_log(alert_line("DebeziumHighBinlogLag", "pending"), after=n0) is not None,
          "the reloaded rule (threshold 50) applies")
    time.sleep(2)
    check(not any(alert_line("AuroraBinlogLagHigh", s)(l) for l in a.lines()[n0:]
                  for s in ("pending", "firing")),
          "an unchanged firing rule carries over without going pending again")

    # SIGHUP with a broken config: logged, old config keeps running.
    open(cfg, "a").write("pipelines_typo: []\n")
    n0 = len(a.lines())
    a.p.send_signal(signal.SIGHUP)
    bad = a.wait_log(lambda l: l.get("msg", "").startswith("reload failed"), after=n0)
    check(bad is not None and "pipelines_typo" in json.dumps(bad),
          "SIGHUP with a broken config is refused with the reason")
    time.sleep(1.5)
    check(a.p.poll() is None and wait_http(url + "/-/ready") is not None,
          "the agent keeps running on the old config")
    open(rules, "w").write(open(RULES).read())  # back to threshold 5000
    make_config(env, work, port, rules=rules)
    a.p.send_signal(signal.SIGHUP)
    a.wait_log(lambda l: l.get("msg") == "configuration reloaded", after=n0)

    # kill -9 while DebeziumLagCritical (for 8s) is pending; restart keeps its activeAt.
    n0 = len(a.lines())
    env.set_lag("orders", 30000)
    pend = a.wait_log(alert_line("DebeziumLagCritical", "pending"), after=n0)
    check(pend is not None, "DebeziumLagCritical pending")
    time.sleep(3)
    a.stop(signal.SIGKILL)
    a = Agent(cfg, log)
    n_restart = len(a.lines())
    fire = a.wait_log(alert_line("DebeziumLagCritical", "firing"), after=n0, timeout=30)
    check(fire is not None, "after kill -9 and restart the pending alert fires")
    if pend and fire:
        dt = ts(fire) - ts(pend)
        check(7.9 <= dt <= 11.0, f"at its original activeAt + for (8s): {dt:.2f}s after pending")
    time.sleep(3)  # let the firing notification go out and the nflog be written
    sent_before = len([t for t in slack_texts(env) if "DebeziumLagCritical" in t])
    a.stop(signal.SIGKILL)
    a = Agent(cfg, log)
    time.sleep(5)
    lines = a.lines()
    check(not any(alert_line("DebeziumLagCritical", "pending")(l) for l in lines[n_restart:]
                  if ts(l) > ts(fire)) if fire else False,
          "after kill -9 while firing, the alert is still firing (no new pending)")
    body = wait_http(url + "/metrics") or ""
    check('ALERTS{alertname="DebeziumLagCritical",alertstate="firing"' in body,
          "ALERTS shows it firing after the restart")
    sent_after = len([t for t in slack_texts(env) if "DebeziumLagCritical" in t])
    check(sent_after == sent_before, f"no second page after the restart ({sent_before} -> "
          f"{sent_after} Slack messages)")

    # A reload that removes a rule with a firing alert: receivers hear it resolved.
    text = open(RULES).read()
    open(rules, "w").write(text[:text.index("      - alert: AuroraBinlogLagHigh")])
    n0 = len(a.lines())
    a.p.send_signal(signal.SIGHUP)
    gone = a.wait_log(lambda l: l.get("alertname") == "AuroraBinlogLagHigh" and
                      "rule removed" in l.get("state", ""), after=n0)
    check(gone is not None, "a firing alert whose rule a reload removed is resolved")
    deadline = time.time() + 20
    while time.time() < deadline and not any("[RESOLVED] AuroraBinlogLagHigh" in t
                                             for t in slack_texts(env)):
        time.sleep(0.2)
    check(any("[RESOLVED] AuroraBinlogLagHigh" in t for t in slack_texts(env)),
          "and Slack gets its resolve")
    open(rules, "w").write(text)

    # Corrupt state: the agent reports it, moves it aside and starts.
    check(a.stop() == 0, "SIGTERM: exit 0")
    state = os.path.join(work, "state")
    open(os.path.join(state, "alerts.json"), "w").write("lagwatch-state 1 alerts 1 99 beef\n{gar")
    n0 = len(open(log).readlines())
    a = Agent(cfg, log)
    warn = a.wait_log(lambda l: "corrupt" in l.get("msg", ""), after=n0)
    check(warn is not None, "a corrupt state file is reported")
    check(glob.glob(os.path.join(state, "alerts.json.corrupt-*")) != [], "and moved aside")
    check(wait_http(url + "/-/ready", timeout=30) is not None, "the agent starts anyway")
    check(a.stop() == 0, "SIGTERM after that: exit 0")
    check(os.path.exists(os.path.join(state, "alerts.json")), "alert state flushed at SIGTERM")

    # A source that hangs: /-/ready stays 503 until it has run (timed out) once, and rule
    # groups keep being evaluated meanwhile: a slow source never delays evaluation.
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(16)  # never accepted: requests sit unanswered until lagwatch's timeout
    port2 = free_port()
    cfg2 = env.config(os.path.join(work, "hang.yml"), state_dir=os.path.join(work, "state2"),
                      listen=f"127.0.0.1:{port2}", scrape="5s", rule_files=[rules],
                      failover=False)
    text = open(cfg2).read().replace(f"http://127.0.0.1:{env.jmx_port}/metrics",
                                     f"http://127.0.0.1:{hang.getsockname()[1]}/metrics")
    open(cfg2, "w").write(text)
    a = Agent(cfg2, os.path.join(work, "hang.log"))
    url2 = f"http://127.0.0.1:{port2}"
    check(wait_http(url2 + "/-/healthy", timeout=10) is not None, "hanging source: healthy")
    st, _ = http("GET", url2 + "/-/ready")
    check(st == 503, f"/-/ready is 503 before every source ran (got {st})")
    time.sleep(2.5)
    body = wait_http(url2 + "/metrics") or ""
    m = re.search(r"^lagwatch_rule_evaluations_total (\d+)", body, re.M)
    st, _ = http("GET", url2 + "/-/ready")
    check(st == 503 and m is not None and int(m.group(1)) >= 2,
          f"rule groups are evaluated while the exporter hangs ({m.group(1) if m else '?'} "
          f"evaluations, ready {st})")
    check(wait_http(url2 + "/-/ready", timeout=15) is not None,
          "/-/ready turns 200 once the hanging scrape timed out")
    body = wait_http(url2 + "/metrics") or ""
    check(re.search(r'^lagwatch_source_up\{source="debezium",.*\} 0$', body, re.M) is not None,
          "and the hanging exporter is down")
    check(a.stop() == 0, "SIGTERM with a scrape in flight: exit 0")
    hang.close()

    # A bad config at start: exit 2.
    bad_cfg = os.path.join(work, "bad.yml")
    open(bad_cfg, "w").write("global:\n  listen: [oops\n")
    p = subprocess.run([LAGWATCH, "run", "-c", bad_cfg], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 2 and "bad.yml:" in p.stderr, "bad config at start: exit 2 with place")


if __name__ == "__main__":
    main()
