#!/usr/bin/env python3
"""expfmt_vs_prometheus.py — differential test of the 0.0.4 parser against Prometheus itself.

Serves each page (the real exporter captures and lagwatch's edge-case fixture) on loopback, lets
Debian's prometheus scrape them, reads back through /api/v1/query what Prometheus stored for each
target, and compares it series by series and value by value with what `lagwatch scrape FILE`
printed for the same file. Prometheus is the oracle: every series it keeps, lagwatch must produce
with the same labels and the same float value (NaN equal to NaN), and nothing else.

Usage: expfmt_vs_prometheus.py LAGWATCH_BIN PAGE...
"""
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGES = {}


class Pages(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        body = PAGES.get(self.path.lstrip("/"))
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def key_of(metric):
    name = metric.pop("__name__")
    if not metric:
        return name
    return name + "{" + ",".join('%s="%s"' % (k, escape(metric[k])) for k in sorted(metric)) + "}"


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)( -?[0-9]+)?$')


def lagwatch_series(binary, path):
    out = subprocess.run([binary, "scrape", path], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit("lagwatch scrape %s failed: %s" % (path, out.stderr))
    series = {}
    for line in out.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            raise SystemExit("unexpected line from lagwatch: %r" % line)
        series[m.group(1)] = float(m.group(2))  # float() reads NaN, +Inf, -Inf
    return series


def same(a, b):
    """Equal floats, NaN equal to NaN, and -0 distinct from 0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def query(prom, q):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)["data"]["result"]


def main():
    binary, pages = sys.argv[1], sys.argv[2:]
    for i, p in enumerate(pages):
        with open(p, "rb") as f:
            PAGES["p%d" % i] = f.read()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp()
    prom_port = free_port()
    prom = "http://127.0.0.1:%d" % prom_port
    jobs = "\n".join(
        "  - job_name: p%d\n    metrics_path: /p%d\n    static_configs: [{targets: ['127.0.0.1:%d']}]"
        % (i, i, srv.server_address[1]) for i in range(len(pages)))
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global: {scrape_interval: 1s}\nscrape_configs:\n" + jobs + "\n")
    proc = subprocess.Popen(["prometheus", "--config.file=" + os.path.join(tmp, "prometheus.yml"),
                             "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                             "--web.listen-address=127.0.0.1:%d" % prom_port, "--log.level=error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = 0
    try:
        deadline = time.time() + 60
        while True:
            try:
                ups = query(prom, "up")
                if len(ups) == len(pages):
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise SystemExit("prometheus did not scrape every page in time")
            time.sleep(0.2)
        for i, p in enumerate(pages):
            job = "p%d" % i
            up = query(prom, 'up{job="%s"}' % job)
            if not up or up[0]["value"][1] != "1":
                print("FAIL %s: Prometheus could not scrape it (up=0)" % p)
                failures += 1
                continue
            theirs = {}
            # every series of the target, including stale-free ones with NaN values
            for s in query(prom, '{job="%s",__name__!~"up|scrape_.*"}' % job):
                m = dict(s["metric"])
                m.pop("job", None)
                m.pop("instance", None)
                theirs[key_of(m)] = float(s["value"][1])
            ours = lagwatch_series(binary, p)
            missing = sorted(set(theirs) - set(ours))
            extra = sorted(set(ours) - set(theirs))
            differ = sorted(k for k in set(theirs) & set(ours) if not same(theirs[k], ours[k]))
            if missing or extra or differ:
                failures += 1
                print("FAIL %s: missing %s extra %s differ %s" % (
                    p, missing[:5], extra[:5], [(k, theirs[k], ours[k]) for k in differ[:5]]))
            else:
                print("ok   %s: %d series identical to Prometheus's" % (os.path.basename(p), len(ours)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
