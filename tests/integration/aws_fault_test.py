#!/usr/bin/env python3
"""aws_fault_test.py — lagwatch's AWS clients behind the fault-injection stand-in (aws_faults.py)
in front of a real moto_server: throttling on every other call still yields complete data within
the retry budget; a hung endpoint times out without holding up the pipelines served elsewhere;
truncated and malformed JSON and XML bodies end in clear errors (exit 3), never a crash."""
import datetime
import json
import os
import socket
import subprocess
import sys
import time

import boto3
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "standins"))
from cdc_env import free_port  # noqa: E402  (tests/standins)

PROBE = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
CLUSTERS = ["c1", "c2", "c3", "c4"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)



def wait_port(port, proc):
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit("moto_server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("moto_server did not start")


def probe(endpoint, *args, attempts="5", timeout_ms="5000"):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDFAULTS", AWS_SECRET_ACCESS_KEY="secret",
               PROBE_MAX_ATTEMPTS=attempts, PROBE_TIMEOUT_MS=timeout_ms)
    p = subprocess.run([PROBE, args[0], endpoint, REGION] + list(args[1:]), env=env,
                       capture_output=True, text=True, timeout=120)
    sys.stdout.write("".join("    | " + l + "\n" for l in p.stdout.splitlines()[-40:]))
    if p.stderr:
        sys.stdout.write("".join("    ! " + l + "\n" for l in p.stderr.splitlines()))
    check(p.returncode >= 0, f"probe {args[0]} was not killed by a signal ({p.returncode})")
    return p.returncode, p.stdout


def samples(out):
    got = {}
    for line in out.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        series, value, ts = line.rsplit(" ", 2)
        got[(series, int(ts))] = float(value)
    return got


def main():
    port = free_port()
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    faults = None
    try:
        wait_port(port, moto)
        faults = subprocess.Popen([sys.executable, os.path.join(HERE, "aws_faults.py"),
                                   "--upstream", f"127.0.0.1:{port}"], stdout=subprocess.PIPE,
                                  text=True)
        ports = json.loads(faults.stdout.readline())
        run(f"http://127.0.0.1:{port}", {m: f"http://127.0.0.1:{p}" for m, p in ports.items()})
    finally:
        if faults:
            faults.kill()
            faults.wait()
        moto.terminate()
        moto.wait(timeout=20)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


def run(moto, ep):
    kw = dict(endpoint_url=moto, region_name=REGION, aws_access_key_id="AKIDFAULTS",
              aws_secret_access_key="secret")
    cw = boto3.client("cloudwatch", **kw)
    rds = boto3.client("rds", **kw)
    now = int(time.time())
    base = now - now % 60
    for ci, c in enumerate(CLUSTERS):
        for m in range(1, 4):
            cw.put_metric_data(Namespace="AWS/RDS", MetricData=[
                {"MetricName": "AuroraBinlogReplicaLag", "Value": float(ci * 10 + m),
                 "Timestamp": datetime.datetime.fromtimestamp(base - 60 * m, datetime.timezone.utc),
                 "Dimensions": [{"Name": "DBClusterIdentifier", "Value": c},
                                {"Name": "Role", "Value": "WRITER"}]}])
        rds.create_db_cluster(DBClusterIdentifier=c, Engine="aurora-mysql",
                              MasterUsername="admin", MasterUserPassword="password123")
        for i in range(2):
            rds.create_db_instance(DBInstanceIdentifier=f"{c}-{i}", DBClusterIdentifier=c,
                                   Engine="aurora-mysql", DBInstanceClass="db.r6g.large")

    rc, direct = probe(moto, "cw", str(now), *CLUSTERS)
    want = samples(direct)
    check(rc == 0 and len(want) == 12, "direct fetch from moto: 12 samples")

    # Throttling on every other call: complete data within the retry budget.
    for round_ in range(3):
        rc, out = probe(ep["throttle-half"], "cw", str(now), *CLUSTERS)
        check(rc == 0 and samples(out) == want,
              f"throttled every other call (round {round_ + 1}): the same 12 samples")
        check("throttled=0 " not in out, "…and throttling did happen and was retried")
    rc, out = probe(ep["throttle-half"], "clusters", *CLUSTERS)
    check(rc == 0 and all(f"cluster {c} status=available writer={c}-0" in out for c in CLUSTERS),
          "DescribeDBClusters for 4 clusters through throttling: every writer")

    # A hung endpoint: its pipeline times out; the one served by moto is not held up.
    t0 = time.monotonic()
    rc, out = probe(moto, "cw", str(now), "c1", "c2@" + ep["hang"], attempts="2",
                    timeout_ms="1000")
    took = time.monotonic() - t0
    done = {}
    for line in out.splitlines():
        if line.startswith("# fetcher ") and "done_after_s=" in line:
            name, v = line[len("# fetcher "):].split(" done_after_s=")
            done[name] = float(v)
    check(rc == 3, "the hung endpoint's pipeline is reported failed (exit 3)")
    check(done.get(moto, 99) < 0.9, f"the healthy pipeline finished in {done.get(moto)} s, "
          "not held up by the hung one")
    check(done.get(ep["hang"], 0) >= 1.9, f"the hung one gave up after two 1 s attempts "
          f"({done.get(ep['hang'])} s)")
    check("timed out" in out, "the hang is reported as a timeout")
    check(sum(1 for k in samples(out) if 'dbcluster_identifier="c1"' in k[0]) == 3,
          "the healthy pipeline's samples were all delivered")
    check(took < 30, "the whole run stayed bounded")

    # Truncated and malformed bodies: errors, never crashes.
    rc, out = probe(ep["truncated"], "cw", str(now), "c1", attempts="2")
    check(rc == 3 and "# error:" in out, "truncated JSON: a clear error, exit 3")
    rc, out = probe(ep["malformed"], "cw", str(now), "c1")
    check(rc == 3 and "not JSON" in out, "malformed JSON: 'not JSON' with the position, exit 3")
    rc, out = probe(ep["truncated"], "clusters", "c1", attempts="2")
    check(rc == 3 and "# error:" in out, "truncated XML: a clear error, exit 3")
    rc, out = probe(ep["malformed"], "clusters", "c1")
    check(rc == 3 and "not well-formed XML" in out, "malformed XML: 'not well-formed XML', exit 3")


if __name__ == "__main__":
    main()
