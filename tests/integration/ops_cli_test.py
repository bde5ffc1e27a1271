#!/usr/bin/env python3
"""lagwatch health, silence and failover against a running `lagwatch run` on loopback: add, list
(text and JSON) and expire silences, a refused matcher shown with the agent's own error, start,
list and end a failover episode, and an unreachable agent — each with its exit code.

    ops_cli_test.py LAGWATCH
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "standins"))
from cdc_env import free_port  # noqa: E402  (tests/standins)

LAGWATCH = sys.argv[1]



def check(cond, what, detail=""):
    if not cond:
        raise SystemExit(f"FAILED: {what}\n{detail}")
    print("ok -", what)


def lw(*args, env=None):
    return subprocess.run([LAGWATCH] + list(args), capture_output=True, text=True, timeout=30,
                          env=env)


def main():
    tmp = tempfile.mkdtemp(prefix="lw-ops-")
    port = free_port()
    cfg = os.path.join(tmp, "lagwatch.yml")
    with open(cfg, "w") as f:
        f.write(f"global: {{state_dir: {tmp}/state, listen: '127.0.0.1:{port}'}}\n"
                "route: {receiver: r}\nreceivers: [{name: r}]\n")
    os.makedirs(f"{tmp}/state")
    agent = subprocess.Popen([LAGWATCH, "run", "-c", cfg], stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(tmp, "run.log"), "w"))
    try:
        end = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/healthy", timeout=1).read()
                break
            except Exception:
                if agent.poll() is not None or time.time() > end:
                    raise SystemExit("lagwatch run did not come up:\n" +
                                     open(os.path.join(tmp, "run.log")).read())
                time.sleep(0.1)
        p = lw("health", "-c", cfg)
        check(p.returncode == 0, "health: the running agent is healthy", p.stderr)
        end = time.time() + 20
        while lw("health", "--ready", "-c", cfg).returncode != 0 and time.time() < end:
            time.sleep(0.2)
        check(lw("health", "--ready", "-c", cfg).returncode == 0, "health --ready turns 0")
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/runbook", timeout=5).read().decode()
        check('<h2 id="debeziumhighbinloglag">' in page,
              "/runbook serves the built-in runbook the rule pack's runbook_url links point at")
        env = dict(os.environ, USER="alice")
        p = lw("silence", "add", "-c", cfg, "--comment", "deploy of orders", "--duration", "2h",
               'pipeline="orders"', 'alertname=~"Debezium.*"', env=env)
        sid = p.stdout.strip()
        check(p.returncode == 0 and len(sid) == 36, "silence add prints the new ID", p.stderr)
        p = lw("silence", "list", "-c", cfg)
        check(p.returncode == 0 and sid in p.stdout and "active" in p.stdout and
              'pipeline="orders"' in p.stdout and "alice" in p.stdout and "deploy of orders" in
              p.stdout, "silence list shows it with its matchers, author and comment", p.stdout)
        p = lw("silence", "list", "--output", "json", "--url", f"http://127.0.0.1:{port}/")
        got = json.loads(p.stdout)
        check(p.returncode == 0 and [s["id"] for s in got] == [sid],
              "--output json and --url (with a trailing slash)", p.stdout)
        p = lw("silence", "add", "-c", cfg, "--comment", "x", 'pipeline=~"("')
        check(p.returncode == 1 and "HTTP 400" in p.stderr and "missing closing parenthesis" in
              p.stderr, "a bad matcher is refused with the agent's own error text", p.stderr)
        p = lw("silence", "add", "-c", cfg, 'pipeline="x"')
        check(p.returncode == 2 and "--comment" in p.stderr, "add without --comment is a usage error")
        p = lw("silence", "expire", sid, "-c", cfg)
        check(p.returncode == 0, "silence expire", p.stderr)
        p = lw("silence", "list", "--output", "json", "-c", cfg)
        state = json.loads(p.stdout)[0]["status"]
        state = state["state"] if isinstance(state, dict) else state
        check(state == "expired", "the silence is expired", p.stdout)
        p = lw("silence", "expire", "no-such-id", "-c", cfg)
        check(p.returncode == 1 and "HTTP 404" in p.stderr, "expiring an unknown ID fails", p.stderr)
        p = lw("failover", "start", "orders-aurora", "-c", cfg, env=env)
        check(p.returncode == 0 and "held" in p.stdout, "failover start", p.stderr)
        p = lw("failover", "list", "--output", "json", "-c", cfg)
        eps = json.loads(p.stdout)
        check(p.returncode == 0 and eps[0]["cluster"] == "orders-aurora" and eps[0]["phase"] ==
              "active" and eps[0]["held"], "failover list shows the active, held episode", p.stdout)
        p = lw("failover", "end", "orders-aurora", "-c", cfg)
        p2 = lw("failover", "list", "-c", cfg)
        check(p.returncode == 0 and "hold" in p2.stdout, "failover end leaves the hold running",
              p2.stdout)
        p = lw("failover", "start", "bad/cluster", "-c", cfg)
        check(p.returncode == 2, "a cluster id that is not one is a usage error")
        p = lw("failover", "bogus", "x", "-c", cfg)
        check(p.returncode == 2, "an unknown action is a usage error")
    finally:
        agent.terminate()
        agent.wait(timeout=30)
    p = lw("silence", "list", "--url", f"http://127.0.0.1:{port}")
    check(p.returncode == 1 and "cannot reach the agent" in p.stderr,
          "an agent that is not running: exit 1 and what to check", p.stderr)
    p = lw("health", "--url", f"http://127.0.0.1:{port}")
    check(p.returncode == 1 and "cannot reach" in p.stderr, "health of a stopped agent: exit 1",
          p.stderr)
    p = lw("silence", "list", "-c", os.path.join(tmp, "missing.yml"))
    check(p.returncode == 2, "a config that cannot be read is a usage error", p.stderr)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
