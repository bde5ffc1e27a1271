#!/usr/bin/env python3
"""demo.py — lagwatch's main job end to end on this machine, in about two minutes.

The rules are the default rule pack (packaging/rules/cdc.rules.yml) with every `for` divided by
20 (5m becomes 15s), so what takes minutes in production happens while you watch.

Starts on loopback: moto_server (CloudWatch and RDS, seeded with an Aurora cluster and its
binlog metrics), the JMX exporter and Kafka Connect stand-ins serving Debezium MySQL metrics, and
a receiver that prints what Slack and PagerDuty would get. Then it runs the real `lagwatch run`
against them with short intervals, makes the Debezium lag rise past the alert threshold and fall
back, and narrates: lag rising, the alert pending then firing and delivered, then resolving. It
stops by itself, prints a short timeline and exits 0 (1 when a step did not happen).

    packaging/demo/demo.py [PATH/TO/lagwatch]
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests/standins"))
from cdc_env import Env, free_port, http  # noqa: E402

LAGWATCH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build/agent/lagwatch")
T0 = time.time()
timeline = []


def say(what, mark=None):
    line = f"[{time.time() - T0:5.1f}s] {what}"
    print(line, flush=True)
    if mark:
        timeline.append((time.time() - T0, mark))


class Tail:
    """New lines of a file since the last call."""

    def __init__(self, path):
        self.path, self.pos = path, 0

    def lines(self):
        if not os.path.exists(self.path):
            return []
        with open(self.path) as f:
            f.seek(self.pos)
            data = f.read()
            cut = data.rfind("\n") + 1
            self.pos += len(data[:cut].encode())
        return [l for l in data[:cut].splitlines() if l]


def narrate(log, recv):
    for l in log.lines():
        try:
            e = json.loads(l)
        except ValueError:
            continue
        msg = e.get("msg", "")
        if msg == "alert state":
            state = e.get("state")
            say(f"lagwatch: alert {e.get('alertname')} is {state.upper()} "
                f"(value {e.get('value')})", f"{e.get('alertname')} {state}")
        elif msg == "notification delivered":
            say(f"lagwatch: notification delivered to {e.get('receiver')} "
                f"({e.get('integration')})", f"delivered {e.get('integration')}")
        elif msg in ("source down", "source up", "failover episode") or \
                msg.startswith("ready") or e.get("level") in ("warn", "error"):
            detail = " ".join(f"{k}={v}" for k, v in e.items() if k not in ("ts", "level", "msg"))
            say(f"lagwatch: {msg} {detail}".rstrip(), msg if msg.startswith("ready") else None)
    for l in recv.lines():
        say("  receiver got -> " + l)


PACK = os.path.join(SRC, "packaging/rules/cdc.rules.yml")
SPEEDUP = 20


def demo_rules(work):
    """The default rule pack with every `for: N<unit>` divided by SPEEDUP (whole seconds)."""
    unit_s = {"s": 1, "m": 60, "h": 3600}

    def scale(m):
        secs = max(1, int(m.group(2)) * unit_s[m.group(3)] // SPEEDUP)
        return f"{m.group(1)}{secs}s"

    text = re.sub(r"^(\s+for: )(\d+)([smh])\s*$", scale, open(PACK).read(), flags=re.M)
    path = os.path.join(work, "cdc.rules.demo.yml")
    with open(path, "w") as f:
        f.write(f"# {PACK} with every `for` divided by {SPEEDUP} for the demo.\n" + text)
    return path


def main():
    work = tempfile.mkdtemp(prefix="lagwatch-demo-")
    env = Env(SRC, work)
    recv_path = os.path.join(work, "receiver.out")
    recv_out = open(recv_path, "w")
    say("starting moto_server (CloudWatch, RDS), the JMX exporter and Kafka Connect stand-ins "
        "and a Slack/PagerDuty receiver, all on 127.0.0.1")
    env.start(print_receiver=True, receiver_out=recv_out)
    agent = None
    ok = False
    try:
        env.create_cluster("orders-aurora")
        now = int(time.time())
        base = now - now % 60
        for m in range(1, 6):
            env.put_aurora("orders-aurora", base - 60 * m, lag_s=2 + m % 3, disk=1.2e9 + m * 1e6)
        say("seeded CloudWatch with AuroraBinlogReplicaLag and BinLogDiskUsage of orders-aurora")
        env.set_lag("orders", 1500)
        port = free_port()
        extra = f"""route:
  receiver: oncall
  group_by: [alertname, pipeline]
  group_wait: 2s
  group_interval: 10s
  repeat_interval: 1h
receivers:
  - name: oncall
    slack_configs:
      - api_url: http://127.0.0.1:{env.receiver_port}/slack/T000/B000/demo
        channel: "#cdc-oncall"
        send_resolved: true
    pagerduty_configs:
      - routing_key: demo-routing-key
        url: http://127.0.0.1:{env.receiver_port}/v2/enqueue
"""
        cfg = env.config(os.path.join(work, "lagwatch.yml"), state_dir=os.path.join(work, "state"),
                         listen=f"127.0.0.1:{port}", scrape="2s", evaluation="2s",
                         aurora_interval="10s",
                         rule_files=[demo_rules(work)], extra=extra)
        say(f"rules: the default pack {os.path.relpath(PACK, SRC)}, every `for` divided by "
            f"{SPEEDUP} (DebeziumHighBinlogLag: lag > 60 s for 5m -> 15s)")
        log_path = os.path.join(work, "lagwatch.log")
        say(f"running: {LAGWATCH} --log-format json run -c {cfg}")
        agent = subprocess.Popen([LAGWATCH, "--log-format", "json", "run", "-c", cfg],
                                 stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
        log, recv = Tail(log_path), Tail(recv_path)
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while time.time() < deadline and http_status(url + "/-/ready") != 200:
            narrate(log, recv)
            time.sleep(0.2)
        narrate(log, recv)
        say(f"lagwatch is ready; its metrics are at {url}/metrics")

        # Lag: healthy for a while, rising 10 s every 2 s to 120 s, holding, then recovering.
        plan = [(8, 1500)] + [(2, 10000 * k) for k in range(1, 13)] + [(30, 120000)] + \
               [(2, 60000), (2, 20000), (2, 3000)] + [(28, 1200)]
        say("Debezium lag (MilliSecondsBehindSource of pipeline orders) is 1.5 s: healthy")
        prev = 1500
        for hold_s, lag in plan:
            env.set_lag("orders", lag)
            if lag != prev:
                mark = None
                if prev == 1500:
                    mark = "lag starts rising"
                elif prev <= 60000 < lag:
                    mark = "lag above the 60 s threshold"
                elif lag < prev and prev == 120000:
                    mark = "lag recovering"
                say(f"Debezium lag is now {lag / 1000:.1f} s", mark)
            prev = lag
            end = time.time() + hold_s
            while time.time() < end:
                narrate(log, recv)
                time.sleep(0.2)
            if agent.poll() is not None:
                say(f"lagwatch exited early with {agent.returncode}")
                break
        st, body = http("GET", url + "/metrics")
        shown = [l for l in body.splitlines() if l.startswith(("aws_rds_aurora_binlog_replica_lag",
                                                               "lagwatch_notifications_sent_total",
                                                               "lagwatch_store_series"))]
        say("a few lines of lagwatch's /metrics:\n    " + "\n    ".join(shown))
    finally:
        if agent and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            try:
                rc = agent.wait(timeout=20)
                say(f"stopped lagwatch with SIGTERM (exit {rc})")
            except subprocess.TimeoutExpired:
                agent.kill()
        env.close()
    marks = [m for _, m in timeline]
    want = ["DebeziumHighBinlogLag pending", "DebeziumHighBinlogLag firing", "delivered slack:0",
            "delivered pagerduty:0", "DebeziumHighBinlogLag resolved"]
    print("\nTimeline")
    merged = []
    for t, m in timeline:  # deliveries of one notification to several integrations: one line
        if merged and m.startswith("delivered") and merged[-1][1].startswith("delivered") and \
                t - merged[-1][0] < 2:
            merged[-1] = (merged[-1][0], merged[-1][1] + ", " + m[len("delivered "):])
        else:
            merged.append((t, m))
    for t, m in merged:
        print(f"  {t:6.1f}s  {m}")
    missing = [w for w in want if w not in marks]
    ok = not missing
    print("\n" + ("The demo showed every step: lag rising, the alert pending, firing, delivered "
                  "to Slack and PagerDuty, and resolving." if ok else
                  "Missing from the run: " + ", ".join(missing)))
    print(f"(work directory with the config, lagwatch's log and state: {work})")
    return 0 if ok else 1


def http_status(url):
    try:
        return http("GET", url)[0]
    except OSError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
