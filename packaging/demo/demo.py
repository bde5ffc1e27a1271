#!/usr/bin/env python3
"""demo.py — lagwatch's main job end to end on this machine, in about two minutes.

The rules are the default rule pack (packaging/rules/cdc.rules.yml) with every `for` divided by
20 (5m becomes 15s), so what takes minutes in production happens while you watch.

Starts on loopback: moto_server (CloudWatch and RDS, seeded with an Aurora cluster and its
binlog metrics), the JMX exporter and Kafka Connect stand-ins serving Debezium MySQL metrics, and
a receiver that prints what Slack and PagerDuty would get. Then it runs the real `lagwatch run`
against them with short intervals, makes the Debezium lag of pipeline orders rise past the alert
threshold and fall back, and narrates: lag rising, the alert pending then firing and delivered,
then resolving. Meanwhile the Aurora cluster of pipeline billing fails over (moto's
FailoverDBCluster moves the writer) and its binlog lag jumps: lagwatch sees the failover, its
Aurora alert fires but is held back until the failover hold is over, then goes out with a note.
It stops by itself, prints a short timeline and exits 0 (1 when a step did not happen).

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
            m = re.search(r'pipeline="([^"]*)"', e.get("labels", ""))
            who = f"{e.get('alertname')}{{pipeline={m.group(1)}}}" if m else e.get("alertname")
            say(f"lagwatch: alert {who} is {state.upper()} (value {e.get('value')})",
                f"{who} {state}")
        elif msg.startswith("failover hold over"):
            say(f"lagwatch: {msg}", "failover hold over")
        elif msg == "notification delivered":
            say(f"lagwatch: notification delivered to {e.get('receiver')} "
                f"({e.get('integration')})", f"delivered {e.get('integration')}")
        elif msg in ("source down", "source up", "failover episode") or \
                msg.startswith("ready") or e.get("level") in ("warn", "error"):
            detail = " ".join(f"{k}={v}" for k, v in e.items() if k not in ("ts", "level", "msg"))
            mark = msg if msg.startswith("ready") else None
            if msg == "failover episode":
                mark = f"failover episode {e.get('cluster')}: {e.get('phase')}"
            say(f"lagwatch: {msg} {detail}".rstrip(), mark)
    for l in recv.lines():
        m = re.search(r"\[(FIRING|RESOLVED)[^\]]*\] (\w+)", l)
        say("  receiver got -> " + l,
            f"received {m.group(2)} {m.group(1).lower()}" if m and l.startswith("Slack") else None)


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


HOLD_S = 45


def failover(env):
    """Fail billing-aurora over in moto and make its binlog lag jump in CloudWatch."""
    env.boto("rds").failover_db_cluster(DBClusterIdentifier="billing-aurora",
                                        TargetDBInstanceIdentifier="billing-aurora-1")
    now = int(time.time())
    env.put_aurora("billing-aurora", now - now % 60 - 60, lag_s=420)
    say("FailoverDBCluster on billing-aurora: the writer moves to billing-aurora-1, and its "
        f"AuroraBinlogReplicaLag jumps to 420 s (lagwatch holds its alerts for {HOLD_S}s after "
        "the failover)", "failover of billing-aurora")


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
        env.create_cluster("orders-aurora", instances=2)
        env.create_cluster("billing-aurora", instances=2)
        now = int(time.time())
        base = now - now % 60
        for m in range(1, 6):
            env.put_aurora("orders-aurora", base - 60 * m, lag_s=2 + m % 3, disk=1.2e9 + m * 1e6)
            if m >= 2:  # billing's newest minute stays empty: the failover fills it
                env.put_aurora("billing-aurora", base - 60 * m, lag_s=1 + m % 2, disk=8e8)
        say("seeded CloudWatch with AuroraBinlogReplicaLag and BinLogDiskUsage of orders-aurora "
            "and billing-aurora; RDS has both clusters with two instances each")
        env.set_lag("orders", 1500)
        port = free_port()
        extra = f"""suppression:
  failover: {{hold: {HOLD_S}s}}
route:
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
                         aurora_interval="5s", pipelines=("orders", "billing"),
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
        for step, (hold_s, lag) in enumerate(plan):
            if step == 4:
                failover(env)
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
    lag = "DebeziumHighBinlogLag{pipeline=orders}"
    aurora = "AuroraBinlogLagHigh{pipeline=billing}"
    want = [f"{lag} pending", f"{lag} firing", "delivered slack:0", "delivered pagerduty:0",
            f"{lag} resolved", "failover episode billing-aurora: hold", f"{aurora} firing",
            "failover hold over"]
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
    # The billing alert fired during the hold and reached the receiver only after it.
    t_fire = next((t for t, m in timeline if m == f"{aurora} firing"), None)
    t_over = next((t for t, m in timeline if m == "failover hold over"), None)
    t_recv = next((t for t, m in timeline if m.startswith("received") and
                   "AuroraBinlogLagHigh" in m), None)
    if t_fire is not None and t_over is not None:
        if not t_fire < t_over:
            missing.append("billing's alert firing while the failover hold lasted")
        if t_recv is None or t_recv < t_over:
            missing.append("billing's alert delivered only after the hold")
    ok = not missing
    print("\n" + ("The demo showed every step: lag rising, the alert pending, firing, delivered "
                  "to Slack and PagerDuty, and resolving; and billing's Aurora alert held back "
                  "during the failover hold, sent when it ended." if ok else
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
