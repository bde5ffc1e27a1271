#!/usr/bin/env python3
"""bench_agent.py — `lagwatch run` with many pipelines on accelerated intervals (issue 7's
benchmark): peak RSS and CPU seconds per evaluation cycle.

Every pipeline has an Aurora cluster (CloudWatch, RDS), a JMX exporter and a Kafka Connect API,
all played by bench_fetch_cycle.py's loopback stand-in (answering at once, or after --delay-ms).
The agent runs the default rule pack (packaging/rules/cdc.rules.yml) with scrapes and rule
evaluation every --interval and Aurora polls every 5 intervals, for --duration seconds. Figures
come from /proc (VmHWM, utime+stime of the lagwatch process) and from lagwatch's own /metrics.

    tests/bench/bench_agent.py [--lagwatch build/agent/lagwatch] [--pipelines 100]
                               [--duration 120] [--interval 1] [--delay-ms 0]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import bench_fetch_cycle as standin  # noqa: E402  (the all-in-one loopback stand-in)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "standins"))
from cdc_env import free_port  # noqa: E402  (tests/standins)



def write_config(path, base, n, state_dir, port, interval_s):
    pack = os.path.join(SRC, "packaging/rules/cdc.rules.yml")
    with open(path, "w") as f:
        f.write(f"global:\n  state_dir: {state_dir}\n  listen: 127.0.0.1:{port}\n"
                f"  scrape_interval: {interval_s}s\n  scrape_timeout: {interval_s}s\n"
                f"  evaluation_interval: {interval_s}s\n"
                f"aws:\n  region: us-east-1\n  access_key_id: AKIABENCH\n"
                f"  secret_access_key: bench-secret\n"
                f"  endpoints: {{cloudwatch: {base}, rds: {base}}}\n"
                f"rule_files: [{pack}]\npipelines:\n")
        for i in range(n):
            f.write(f"  - name: p{i}\n"
                    f"    aurora: {{cluster: cluster-{i}, interval: {5 * interval_s}s}}\n"
                    f"    debezium: {{exporter: {base}/metrics/srv{i}, server: srv{i}}}\n"
                    f"    kafka_connect: {{url: {base}, connector: conn-{i}}}\n")


def proc_stats(pid):
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    hwm = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return hwm, rss, cpu


def metric(body, name):
    m = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", body, re.M)
    return float(m.group(1)) if m else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lagwatch", default="build/agent/lagwatch")
    ap.add_argument("--pipelines", type=int, default=100)
    ap.add_argument("--duration", type=int, default=120)
    ap.add_argument("--interval", type=int, default=1)
    ap.add_argument("--delay-ms", type=int, default=0)
    a = ap.parse_args()
    standin.DELAY[0] = a.delay_ms / 1000.0
    srv = standin.Server(("127.0.0.1", 0), standin.Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    tmp = tempfile.mkdtemp(prefix="lw-bench-agent-")
    port = free_port()
    cfg = os.path.join(tmp, "agent.yml")
    write_config(cfg, base, a.pipelines, os.path.join(tmp, "state"), port, a.interval)
    log = open(os.path.join(tmp, "agent.log"), "w")
    p = subprocess.Popen([a.lagwatch, "--log-level", "warn", "run", "-c", cfg], stdout=log,
                         stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/-/ready", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        p.kill()
        sys.exit("lagwatch did not become ready in 60 s; see " + log.name)
    body0 = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
    _, _, cpu0 = proc_stats(p.pid)
    ev0 = metric(body0, "lagwatch_rule_evaluations_total")
    t0 = time.time()
    time.sleep(a.duration)
    body = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
    hwm, rss, cpu1 = proc_stats(p.pid)
    elapsed = time.time() - t0
    ev = metric(body, "lagwatch_rule_evaluations_total") - ev0
    groups = len(re.findall(r"^lagwatch_rule_group_last_duration_seconds\{", body, re.M))
    cycles = ev / groups if groups else float("nan")
    fails = sum(float(x) for x in re.findall(r'^lagwatch_source_failures_total\{.*\} (\S+)$',
                                             body, re.M))
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=30)
    srv.shutdown()
    cpu = cpu1 - cpu0
    print(f"{a.pipelines} pipelines, scrape/evaluation every {a.interval}s, Aurora every "
          f"{5 * a.interval}s, default rule pack ({groups} groups), {elapsed:.0f}s measured")
    print(f"  peak RSS {hwm / 1048576:.1f} MiB (RSS at the end {rss / 1048576:.1f} MiB)")
    print(f"  CPU {cpu:.2f}s over {cycles:.0f} evaluation cycles: "
          f"{cpu / cycles * 1000:.1f} ms CPU per cycle (scrapes, CloudWatch, RDS, rules, "
          f"everything the process did); {cpu / elapsed * 100:.1f}% of one core")
    print(f"  store: {metric(body, 'lagwatch_store_series'):.0f} series, "
          f"{metric(body, 'lagwatch_store_samples'):.0f} samples, "
          f"{metric(body, 'lagwatch_store_bytes') / 1048576:.1f} MiB; "
          f"CloudWatch metrics per cycle {metric(body, 'lagwatch_cloudwatch_metrics_per_cycle'):.0f}"
          f"; source failures {fails:.0f}; requests served {sum(standin.COUNTS.values())}; "
          f"exit {rc}")
    sys.exit(0 if rc == 0 and fails == 0 else 1)


if __name__ == "__main__":
    main()
