#!/usr/bin/env python3
"""bench_fetch_cycle.py — one full fetch cycle of N pipelines against peers that each answer
after a fixed delay (issue 4's benchmark).

Every pipeline has an Aurora cluster (CloudWatch GetMetricData for its metrics, RDS
DescribeDBClusters and DescribeEvents for failover detection), a JMX exporter and a Kafka
Connect API. One loopback stand-in plays all of them and sleeps --delay-ms before each answer,
so a serial agent would need (N * 4 + calls) * delay; lagwatch drives every request from one
libcurl multi handle and should need little more than the slowest single call.

    tests/bench/bench_fetch_cycle.py [--lagwatch build/agent/lagwatch] [--pipelines 200]
                                     [--delay-ms 100] [--runs 3]

Prints, per run, the wall time of `lagwatch fetch` (process start to exit, so it includes
loading the config), the slowest single source as lagwatch measured it (request start to answer
parsed; with hundreds of requests at once this includes the Python stand-in's own queueing),
their ratio, the GetMetricData calls made and ceil(queries / 500); exits 1 when a source failed
or the call count is not the minimum.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {}
LOCK = threading.Lock()
DELAY = [0.1]


def count(kind):
    with LOCK:
        COUNTS[kind] = COUNTS.get(kind, 0) + 1


def metric_data(body):
    req = json.loads(body)
    end = int(req["EndTime"])
    results = []
    for q in req["MetricDataQueries"]:
        ts = [end - 60 * k for k in range(3, 0, -1)]
        results.append({"Id": q["Id"], "Label": q["MetricStat"]["Metric"]["MetricName"],
                        "Timestamps": ts, "Values": [1.0 + k for k in range(len(ts))],
                        "StatusCode": "Complete"})
    return json.dumps({"MetricDataResults": results, "Messages": []}).encode()


def clusters(form):
    cid = form.get("DBClusterIdentifier", ["c"])[0]
    members = "".join(
        f"<DBClusterMember><DBInstanceIdentifier>{cid}-{k}</DBInstanceIdentifier>"
        f"<IsClusterWriter>{'true' if k == 0 else 'false'}</IsClusterWriter></DBClusterMember>"
        for k in range(3))
    return (f'<DescribeDBClustersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
            f"<DescribeDBClustersResult><DBClusters><DBCluster>"
            f"<DBClusterIdentifier>{cid}</DBClusterIdentifier><Status>available</Status>"
            f"<Engine>aurora-mysql</Engine><DBClusterMembers>{members}</DBClusterMembers>"
            f"</DBCluster></DBClusters></DescribeDBClustersResult><ResponseMetadata>"
            f"<RequestId>bench</RequestId></ResponseMetadata></DescribeDBClustersResponse>").encode()


EVENTS = (b'<DescribeEventsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
          b"<DescribeEventsResult><Events></Events></DescribeEventsResult><ResponseMetadata>"
          b"<RequestId>bench</RequestId></ResponseMetadata></DescribeEventsResponse>")


def exporter_page(server):
    lines = []
    for attr, v in (("MilliSecondsBehindSource", "1500.0"), ("Connected", "1.0"),
                    ("MilliSecondsSinceLastEvent", "820.0"),
                    ("TotalNumberOfEventsSeen", "1.23456E5")):
        lines.append(f"# HELP debezium_metrics_{attr} debezium.mysql:type=connector-metrics")
        lines.append(f"# TYPE debezium_metrics_{attr} untyped")
        lines.append(f'debezium_metrics_{attr}{{context="streaming",name="{server}",'
                     f'plugin="mysql",}} {v}')
    return ("\n".join(lines) + "\n").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, body, ctype):
        time.sleep(DELAY[0])
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        m = re.fullmatch(r"/metrics/(\w+)", self.path)
        if m:
            count("exporter")
            return self.reply(exporter_page(m.group(1)), "text/plain; version=0.0.4")
        m = re.fullmatch(r"/connectors/([\w-]+)/status", self.path)
        if m:
            count("kafka_connect")
            return self.reply(json.dumps({
                "name": m.group(1), "type": "source",
                "connector": {"state": "RUNNING", "worker_id": "w1:8083"},
                "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "w1:8083"}]}).encode(),
                "application/json")
        self.send_error(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target") or ""
        if target.endswith(".GetMetricData"):
            count("GetMetricData")
            return self.reply(metric_data(body), "application/x-amz-json-1.0")
        form = urllib.parse.parse_qs(body.decode())
        action = form.get("Action", [""])[0]
        if action == "DescribeDBClusters":
            count(action)
            return self.reply(clusters(form), "text/xml")
        if action == "DescribeEvents":
            count(action)
            return self.reply(EVENTS, "text/xml")
        self.send_error(400)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 2048  # hundreds of connections arrive at once


def write_config(path, base, n, state_dir):
    with open(path, "w") as f:
        f.write(f"global:\n  state_dir: {state_dir}\n"
                f"aws:\n  region: us-east-1\n  access_key_id: AKIABENCH\n"
                f"  secret_access_key: bench-secret\n"
                f"  endpoints: {{cloudwatch: {base}, rds: {base}}}\npipelines:\n")
        for i in range(n):
            f.write(f"  - name: p{i}\n"
                    f"    aurora: {{cluster: cluster-{i}}}\n"
                    f"    debezium: {{exporter: {base}/metrics/srv{i}, server: srv{i}}}\n"
                    f"    kafka_connect: {{url: {base}, connector: conn-{i}}}\n")


def fetch(lagwatch, cfg):
    t0 = time.monotonic()
    p = subprocess.run([lagwatch, "fetch", "-c", cfg], capture_output=True, text=True,
                       timeout=120)
    wall = time.monotonic() - t0
    durations = [float(x) for x in re.findall(r"^# source .* duration=([0-9.]+)s", p.stdout,
                                              re.M)]
    m = re.search(r"^# cloudwatch metrics_per_cycle=(\d+) calls=(\d+)", p.stdout, re.M)
    return p, wall, durations, (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lagwatch", default="build/agent/lagwatch")
    ap.add_argument("--pipelines", type=int, default=200)
    ap.add_argument("--delay-ms", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    DELAY[0] = a.delay_ms / 1000.0
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    tmp = tempfile.mkdtemp(prefix="lw-bench-fetch-")
    single, many = os.path.join(tmp, "one.yml"), os.path.join(tmp, "many.yml")
    write_config(single, base, 1, tmp)
    write_config(many, base, a.pipelines, tmp)
    ok = True
    p, wall1, _, _ = fetch(a.lagwatch, single)
    if p.returncode != 0:
        sys.exit(f"fetch of one pipeline failed ({p.returncode}):\n{p.stderr}")
    print(f"one pipeline: {wall1:.3f}s wall for 4 sources + 1 GetMetricData call, "
          f"each answering after {a.delay_ms} ms")
    for run in range(a.runs):
        COUNTS.clear()
        p, wall, durations, (queries, calls) = fetch(a.lagwatch, many)
        slowest = max(durations) if durations else float("nan")
        want = math.ceil(queries / 500) if queries else 0
        print(f"run {run + 1}: {a.pipelines} pipelines, {len(durations)} sources, "
              f"{sum(COUNTS.values())} requests served; fetch {wall:.3f}s wall; slowest single "
              f"source {slowest:.3f}s; ratio {wall / slowest:.2f} (serially at least "
              f"{sum(COUNTS.values()) * a.delay_ms / 1000:.0f}s); GetMetricData calls {calls} "
              f"for {queries} queries (minimum ceil({queries}/500) = {want}); served {COUNTS}")
        if p.returncode != 0:
            print(f"  fetch exit {p.returncode}: {p.stderr.strip()[:2000]}")
            ok = False
        if calls != want or COUNTS.get("GetMetricData") != want:
            print("  GetMetricData calls are not the minimum")
            ok = False
    srv.shutdown()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
