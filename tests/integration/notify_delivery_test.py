#!/usr/bin/env python3
"""Delivery against stand-in Slack, PagerDuty and webhook receivers that answer 200/202, 400,
404, 429 with Retry-After, 500, hang past the timeout, and close the connection mid-response;
a receiver down for a while then back; and kill -9 at random points while notifications are in
flight, restarting from the persisted outbox each time.

    notify_delivery_test.py NOTIFY_DELIVER_DRIVER [CRASH_LOOPS]
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.environ.get("LAGWATCH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read()


class Env:
    def __init__(self, driver):
        self.driver = driver
        self.tmp = tempfile.mkdtemp(prefix="lw-deliver-")
        pf = os.path.join(self.tmp, "port")
        self.recv = subprocess.Popen([sys.executable, os.path.join(SRC, "tests/standins/receiver.py"),
                                      "--port-file", pf])
        end = time.time() + 20
        while not os.path.exists(pf):
            if time.time() > end:
                raise SystemExit("receiver stand-in did not start")
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{open(pf).read().strip()}"
        self.cfg = os.path.join(self.tmp, "lagwatch.yml")
        with open(self.cfg, "w") as f:
            f.write(f"""route:
  receiver: oncall
  group_by: [alertname, pipeline]
  group_wait: 0s
receivers:
  - name: oncall
    slack_configs: [{{api_url: '{self.base}/slack/T0/B0', channel: '#cdc'}}]
    pagerduty_configs: [{{routing_key: R0UT1NGKEY, url: '{self.base}/v2/enqueue'}}]
    webhook_configs: [{{url: '{self.base}/hook', http_config: {{bearer_token: s3cret}}}}]
""")

    def alerts(self, n=1, resolved=False):
        path = os.path.join(self.tmp, "alerts.json")
        with open(path, "w") as f:
            json.dump([{"labels": {"alertname": f"A{i}", "pipeline": "orders", "severity": "page"},
                        "annotations": {"summary": f"alert {i}"}, "resolved": resolved}
                       for i in range(n)], f)
        return path

    def reset(self, scripts=()):
        http("POST", self.base + "/_reset", {})
        for prefix, responses in scripts:
            http("POST", self.base + "/_script", {"path_prefix": prefix, "responses": responses})

    def requests(self, prefix=""):
        return [r for r in json.loads(http("GET", self.base + "/_requests"))
                if r["path"].startswith(prefix)]

    def run(self, alerts, deadline_ms=15000, state="", timeout_ms=1500):
        out = subprocess.run([self.driver, self.cfg, alerts, str(deadline_ms), state,
                              str(timeout_ms)], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise SystemExit(f"driver failed ({out.returncode}): {out.stderr}")
        return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr

    def close(self):
        self.recv.terminate()
        self.recv.wait(timeout=5)
        shutil.rmtree(self.tmp, ignore_errors=True)


def check(cond, what, detail=""):
    if not cond:
        raise SystemExit("FAILED: " + what + (f" ({detail})" if detail else ""))
    print("ok -", what)


def main():
    env = Env(sys.argv[1])
    loops = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    try:
        a = env.alerts()
        env.reset()
        res, log = env.run(a)
        check(res["sent"] == 3 and res["queued"] == 0, "all three integrations answer 2xx: 3 sent")
        pd = json.loads(env.requests("/v2/enqueue")[0]["body"])
        check(pd["routing_key"] == "R0UT1NGKEY" and pd["event_action"] == "trigger",
              "PagerDuty event carries the routing key (added at send time) and trigger")
        hook = env.requests("/hook")[0]
        check(hook["headers"].get("Authorization") == "Bearer s3cret", "webhook bearer token sent")
        check("R0UT1NGKEY" not in log and "s3cret" not in log and "/slack/T0/B0" not in log,
              "no secret in the logs")

        env.reset([("/slack", [{"status": 400, "body": "invalid_payload"}]),
                   ("/v2/enqueue", [{"status": 404, "body": "{\"status\":\"unknown routing key\"}"}])])
        res, log = env.run(a)
        check(len(env.requests("/slack")) == 1 and len(env.requests("/v2/enqueue")) == 1,
              "400 and 404 are not retried")
        check("invalid_payload" in log and "unknown routing key" in log,
              "the receiver's own error text is reported")
        check(res["failed"] == 2 and res["sent"] == 1, "counted as failed, the webhook still delivered")

        env.reset([("/slack", [{"status": 429, "headers": {"Retry-After": "1"}, "body": "rate_limited"}])])
        t0 = time.time()
        res, _ = env.run(a)
        slack = env.requests("/slack")
        check(len(slack) == 2 and slack[1]["time"] - slack[0]["time"] >= 0.95,
              "429 with Retry-After: 1 is retried after at least a second")

        env.reset([("/v2/enqueue", [{"status": 500, "body": "oops"}, {"status": 503, "body": "busy"}])])
        res, _ = env.run(a)
        check(len(env.requests("/v2/enqueue")) == 3 and res["sent"] == 3, "500 and 503 are retried until 2xx")

        env.reset([("/hook", [{"action": "hang", "seconds": 4}])])
        res, log = env.run(a, timeout_ms=800)
        check(len(env.requests("/hook")) >= 2 and res["sent"] == 3 and "timed out" in log,
              f"a receiver hanging past the timeout is retried ({res}, {log[-300:]})")

        env.reset([("/slack", [{"action": "close"}])])
        res, _ = env.run(a)
        check(len(env.requests("/slack")) == 2 and res["sent"] == 3,
              "a connection closed mid-response is retried")

        # receiver down for a while, then back: everything queued arrives, in order
        env.reset([("/hook", [{"status": 503, "body": "down"}] * 6)])
        state = os.path.join(env.tmp, "state-down")
        os.makedirs(state)
        res, _ = env.run(env.alerts(3), deadline_ms=60000, state=state)
        hooks = env.requests("/hook")
        delivered = [json.loads(h["body"]) for h in hooks[6:]]
        check(res["queued"] == 0 and len(delivered) >= 1 and not os.listdir(state),
              "after the receiver comes back the queue drains and the outbox directory is empty")

        # crash safety: kill -9 at random points, restart from the outbox each time
        rng = random.Random(7)
        state = os.path.join(env.tmp, "state-crash")
        os.makedirs(state)
        env.reset([("/slack", [{"action": "hang", "seconds": 0.3}] * 1000)])
        first = subprocess.Popen([env.driver, env.cfg, env.alerts(5), "60000", state, "2000"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Kill it once every group is emitted: the driver keeps no dispatcher state, so the
        # first run is the only one that can create notifications. Each group's items are all
        # persisted before any is sent, so PagerDuty having answered all five groups means all
        # fifteen items existed; the Slack ones (1 s apart, each answered after 0.3 s) are mostly
        # still queued then.
        def slack_items():
            n = 0
            for f in os.listdir(state):
                try:
                    with open(os.path.join(state, f)) as fh:
                        n += f.endswith(".json") and '"slack:0"' in fh.read()
                except FileNotFoundError:  # delivered and removed meanwhile
                    pass
            return n

        end = time.time() + 30
        while time.time() < end and len(env.requests("/v2/enqueue")) < 5:
            time.sleep(0.01)
        n_slack = slack_items()
        check(len(env.requests("/v2/enqueue")) >= 5 and n_slack >= 3,
              "every group emitted and the Slack notifications still queued at the first kill",
              f"{n_slack} Slack items persisted, {len(env.requests('/v2/enqueue'))} PagerDuty "
              f"requests")
        first.send_signal(signal.SIGKILL)
        first.wait()
        kills = 1
        empty = env.alerts(0)
        for i in range(loops):
            p = subprocess.Popen([env.driver, env.cfg, empty, "60000", state, "2000"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.01, 0.25))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
        http("POST", env.base + "/_script", {"path_prefix": "/none", "responses": []})
        scripted = env.requests()
        # stop the scripted hangs: whatever is left must now be delivered
        http("POST", env.base + "/_reset", {})
        res, _ = env.run(empty, deadline_ms=30000, state=state)
        after = env.requests()
        pd_keys = {json.loads(r["body"])["dedup_key"] for r in scripted + after
                   if r["path"].startswith("/v2/enqueue")}
        check(len(pd_keys) == 5, f"PagerDuty saw one dedup_key per group across all restarts ({len(pd_keys)})")
        slack_bodies = [r["body"] for r in scripted + after if r["path"].startswith("/slack")]
        worst = max(slack_bodies.count(b) for b in set(slack_bodies)) if slack_bodies else 0
        check(worst <= kills + 1, f"no Slack message repeated more than once per crash (worst {worst})")
        check(res["queued"] == 0 and not [f for f in os.listdir(state) if f.endswith(".json")],
              f"after {kills} kill -9s every queued notification was delivered")
        print(f"crash loop: {loops} restarts, {kills} kills")
    finally:
        env.close()


if __name__ == "__main__":
    main()
