#!/usr/bin/env python3
"""aws_moto_test.py — lagwatch's AWS clients against a real moto_server on loopback.

moto_server runs with INITIAL_NO_AUTH_ACTION_COUNT=3, so after the first three calls (which create
an admin user and its key) it verifies the signature of every request and checks IAM policies.
The admin seeds Aurora metrics with boto3 put_metric_data and creates clusters with several
instances; aws_probe (lagwatch's CloudWatch fetcher and RDS client) then runs as:
  - a user holding exactly packaging/iam/lagwatch-policy.json (so the tests show it is enough),
  - a user with no policy (AccessDenied naming the missing IAM action),
  - the right key id with a wrong secret (SignatureDoesNotMatch).
Two things moto cannot check and this test says so instead of pretending: moto authorises every
non-S3 action against the resource "*" (so a Resource list of cluster ARNs cannot be evaluated;
the test checks that list's shape and grants the same actions on "*" to moto), and moto checks
CloudWatch actions under the "monitoring:" prefix where AWS uses "cloudwatch:" (both are granted).
"""
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
POLICY = os.path.join(os.environ.get("LAGWATCH_SOURCE_DIR", "."), "packaging/iam/lagwatch-policy.json")
REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTERS = ["orders-aurora", "payments-aurora", "users-aurora"]
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


def probe(endpoint, key, secret, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               PROBE_MAX_ATTEMPTS="2")
    env.pop("AWS_SESSION_TOKEN", None)
    p = subprocess.run([PROBE, args[0], endpoint, REGION] + list(args[1:]), env=env,
                       capture_output=True, text=True, timeout=120)
    sys.stdout.write("".join("    | " + l + "\n" for l in p.stdout.splitlines()))
    if p.stderr:
        sys.stdout.write("".join("    ! " + l + "\n" for l in p.stderr.splitlines()))
    return p.returncode, p.stdout


def policy_for_moto():
    """The shipped policy with its placeholders filled, plus what moto needs to evaluate it."""
    doc = json.load(open(POLICY))
    actions = sorted(a for st in doc["Statement"] for a in st["Action"])
    check(actions == ["cloudwatch:GetMetricData", "rds:DescribeDBClusters", "rds:DescribeEvents"],
          "the shipped policy grants exactly GetMetricData, DescribeDBClusters, DescribeEvents")
    for st in doc["Statement"]:
        if "rds:DescribeDBClusters" in st["Action"]:
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            check(all(r.startswith("arn:aws:rds:") and ":cluster:" in r for r in res),
                  "rds:DescribeDBClusters is limited to cluster ARNs")
            st["Resource"] = "*"  # moto evaluates against "*": see the module docstring
        for a in list(st["Action"]):
            if a.startswith("cloudwatch:"):
                st["Action"].append("monitoring:" + a.split(":", 1)[1])
    return json.dumps(doc)


def start_moto():
    """moto_server on a free port; another test may take the port between free_port() and
    moto's bind (ctest runs them in parallel), so an early exit is retried on a new port."""
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    for attempt in range(3):
        port = free_port()
        moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, moto)
            return moto, f"http://127.0.0.1:{port}"
        except SystemExit:
            moto.kill()
            moto.wait()
            if attempt == 2:
                raise


def main():
    moto, endpoint = start_moto()
    try:
        run(endpoint)
    finally:
        moto.terminate()
        moto.wait(timeout=20)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all checks passed")


def run(endpoint):
    boot = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="AKIDBOOTSTRAP",
                aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **boot)
    iam.create_user(UserName="admin")                                            # 1
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))   # 2
    k = iam.create_access_key(UserName="admin")["AccessKey"]                     # 3
    admin = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=k["AccessKeyId"],
                 aws_secret_access_key=k["SecretAccessKey"])
    iam = boto3.client("iam", **admin)

    iam.create_user(UserName="lagwatch")
    iam.put_user_policy(UserName="lagwatch", PolicyName="lagwatch", PolicyDocument=policy_for_moto())
    lw = iam.create_access_key(UserName="lagwatch")["AccessKey"]
    iam.create_user(UserName="nobody")
    nobody = iam.create_access_key(UserName="nobody")["AccessKey"]

    # Seed: each cluster gets 5 minutes of AuroraBinlogReplicaLag (writer) and BinLogDiskUsage.
    cw = boto3.client("cloudwatch", **admin)
    now = int(time.time())
    base = now - now % 60
    expected = {}
    for ci, c in enumerate(CLUSTERS):
        for m in range(1, 6):
            t = base - 60 * m
            lag = float(ci * 100 + m)
            disk = float(1_000_000 * (ci + 1) + m)
            cw.put_metric_data(Namespace="AWS/RDS", MetricData=[
                {"MetricName": "AuroraBinlogReplicaLag", "Value": lag,
                 "Timestamp": datetime.datetime.fromtimestamp(t, datetime.timezone.utc),
                 "Dimensions": [{"Name": "DBClusterIdentifier", "Value": c},
                                {"Name": "Role", "Value": "WRITER"}]},
                {"MetricName": "BinLogDiskUsage", "Value": disk,
                 "Timestamp": datetime.datetime.fromtimestamp(t, datetime.timezone.utc),
                 "Dimensions": [{"Name": "DBClusterIdentifier", "Value": c}]}])
            expected[("aws_rds_aurora_binlog_replica_lag_maximum", c, t * 1000)] = lag
            expected[("aws_rds_bin_log_disk_usage_maximum", c, t * 1000)] = disk
    rds = boto3.client("rds", **admin)
    for c in CLUSTERS:
        rds.create_db_cluster(DBClusterIdentifier=c, Engine="aurora-mysql",
                              MasterUsername="admin", MasterUserPassword="password123")
        for i in range(3):
            rds.create_db_instance(DBInstanceIdentifier=f"{c}-{i}", DBClusterIdentifier=c,
                                   Engine="aurora-mysql", DBInstanceClass="db.r6g.large")

    # 1. Every metric of three clusters in one GetMetricData call, right values, right times.
    rc, out = probe(endpoint, lw["AccessKeyId"], lw["SecretAccessKey"], "cw", str(now), *CLUSTERS)
    got = {}
    for line in out.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        series, value, ts = line.rsplit(" ", 2)
        name = series.split("{", 1)[0]
        cluster = series.split('dbcluster_identifier="', 1)[1].split('"', 1)[0]
        got[(name, cluster, int(ts))] = float(value)
    check(rc == 0, "fetch succeeded with the shipped policy")
    check("# calls=1 " in out, "nine queries for three clusters went out in one GetMetricData call")
    check("metrics_requested=9" in out, "metrics requested per cycle is counted (9)")
    check(got == expected, f"every seeded sample came back with its value and timestamp "
          f"({len(got)} of {len(expected)})")
    check("no datapoints for SumBinaryLogSize Maximum (is it published for this engine?)" in out,
          "a metric without datapoints is reported, not silent")
    check("state=3" not in out, "no query failed")

    # 2. Writers, then FailoverDBCluster moves the writer.
    rc, out = probe(endpoint, lw["AccessKeyId"], lw["SecretAccessKey"], "clusters", *CLUSTERS)
    check(rc == 0, "DescribeDBClusters succeeded for every cluster with the shipped policy")
    for c in CLUSTERS:
        check(f"cluster {c} status=available writer={c}-0 members={c}-0,{c}-1,{c}-2" in out,
              f"{c}: writer {c}-0 among three members")
    rds.failover_db_cluster(DBClusterIdentifier="orders-aurora",
                            TargetDBInstanceIdentifier="orders-aurora-2")
    rc, out = probe(endpoint, lw["AccessKeyId"], lw["SecretAccessKey"], "clusters",
                    "orders-aurora")
    check(rc == 0 and "cluster orders-aurora status=available writer=orders-aurora-2 " in out,
          "after FailoverDBCluster the writer is orders-aurora-2")

    # 3. DescribeEvents (failover category) is allowed and answers (moto records no failover
    #    events, so the list content is not checked here; the parser is unit-tested).
    rc, out = probe(endpoint, lw["AccessKeyId"], lw["SecretAccessKey"], "events", str(now - 3600))
    check(rc == 0, "DescribeEvents succeeded with the shipped policy")

    # 4. A wrong secret: SignatureDoesNotMatch, said in operator terms, not retried away.
    rc, out = probe(endpoint, lw["AccessKeyId"], "wrong" + lw["SecretAccessKey"][5:], "cw",
                    str(now), CLUSTERS[0])
    check(rc == 3 and "SignatureDoesNotMatch" in out and "secret access key does not match" in out,
          "a wrong secret fails clearly with SignatureDoesNotMatch")
    rc, out = probe(endpoint, lw["AccessKeyId"], "wrong" + lw["SecretAccessKey"][5:], "clusters",
                    CLUSTERS[0])
    check(rc == 3 and "SignatureDoesNotMatch" in out, "…also on the RDS Query protocol")

    # 5. A user without permission: AccessDenied naming the IAM action to add.
    rc, out = probe(endpoint, nobody["AccessKeyId"], nobody["SecretAccessKey"], "cw", str(now),
                    CLUSTERS[0])
    check(rc == 3 and "not allowed cloudwatch:GetMetricData" in out,
          "no permission: the message names cloudwatch:GetMetricData")
    rc, out = probe(endpoint, nobody["AccessKeyId"], nobody["SecretAccessKey"], "clusters",
                    CLUSTERS[0])
    check(rc == 3 and "not allowed rds:DescribeDBClusters" in out,
          "no permission: the message names rds:DescribeDBClusters")
    rc, out = probe(endpoint, nobody["AccessKeyId"], nobody["SecretAccessKey"], "events",
                    str(now - 3600))
    check(rc == 3 and "not allowed rds:DescribeEvents" in out,
          "no permission: the message names rds:DescribeEvents")


if __name__ == "__main__":
    main()
