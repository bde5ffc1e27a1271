#!/usr/bin/env python3
"""agent_fetch_test.py — `lagwatch fetch -c FILE` against moto_server (CloudWatch, RDS) and the
JMX exporter / Kafka Connect stand-ins: every source's series in sorted text format, CloudWatch's
own timestamps, two pipelines sharing one exporter scraped once, the trailing health summary,
exit 3 with the error on stderr when a source fails, exit 2 on a bad config.
"""
import os
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("LAGWATCH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
sys.path.insert(0, os.path.join(SRC, "tests/standins"))
from cdc_env import Env, http  # noqa: E402

LAGWATCH = os.environ.get("LAGWATCH_BIN") or sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def fetch(cfg, *extra):
    p = subprocess.run([LAGWATCH, "fetch", "-c", cfg] + list(extra), capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    work = tempfile.mkdtemp(prefix="lw-fetch-")
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


def run(env, work):
    for c in ("orders-aurora", "billing-aurora"):
        env.create_cluster(c)
    now = int(time.time())
    base = now - now % 60
    for m in range(1, 6):
        env.put_aurora("orders-aurora", base - 60 * m, lag_s=10 * m, disk=5000 + m)
        env.put_aurora("billing-aurora", base - 60 * m, lag_s=m, disk=7000 + m)
    cfg = env.config(os.path.join(work, "ok.yml"), state_dir=os.path.join(work, "state"),
                     pipelines=("orders", "billing"))
    scrapes_before = int(__import__("json").loads(
        http("GET", f"http://127.0.0.1:{env.jmx_port}/-/last-request")[1]).get("count", 0))
    rc, out, err = fetch(cfg)
    check(rc == 0, f"fetch exits 0 when every source answers (got {rc}; stderr {err.strip()!r})")
    series = [l for l in out.splitlines() if l and not l.startswith("#")]
    check(series == sorted(series), "series are printed sorted")
    check(len(series) == len(set(series)), "no series printed twice")
    lag = [l for l in series if l.startswith("aws_rds_aurora_binlog_replica_lag_maximum{")]
    want_t = str((base - 60) * 1000)
    check(any('dbcluster_identifier="orders-aurora"' in l and 'pipeline="orders"' in l
              and 'role="WRITER"' in l and l.endswith(" 10 " + want_t) for l in lag),
          "orders' Aurora lag: newest CloudWatch point with CloudWatch's timestamp")
    check(any('dbcluster_identifier="billing-aurora"' in l and l.endswith(" 1 " + want_t)
              for l in lag), "billing's Aurora lag fetched in the same cycle")
    check(any(l.startswith("aws_rds_bin_log_disk_usage_maximum{") and
              'dbcluster_identifier="orders-aurora"' in l for l in series), "BinLogDiskUsage")
    check(any(l.startswith("aws_rds_cluster_writer_info{") and 'cluster="orders-aurora"' in l
              and 'writer="orders-aurora-' in l for l in series), "writer from DescribeDBClusters")
    check(any(l.startswith("lagwatch_failover_in_progress{") and l.split(" ")[1] == "0"
              for l in series), "no failover in progress")
    check(any(l.startswith("debezium_metrics_MilliSecondsBehindSource{") and
              'pipeline="orders"' in l and 'context="streaming"' in l for l in series),
          "Debezium lag of orders")
    check(any(l.startswith("debezium_metrics_MilliSecondsBehindSource{") and
              'pipeline="billing"' in l for l in series), "Debezium lag of billing")
    check(any(l.startswith('kafka_connect_task_state{connector="orders-mysql"') and
              'state="FAILED"' in l for l in series), "Kafka Connect FAILED task")
    check(not any("kafka_producer" in l for l in series), "client metrics dropped by keep")
    for src in ("debezium", "kafka_connect", "cloudwatch", "rds"):
        check(any(l.startswith("up{") and f'source="{src}"' in l and l.split(" ")[1] == "1"
                  for l in series), f"up=1 for {src}")
    scrapes = int(__import__("json").loads(
        http("GET", f"http://127.0.0.1:{env.jmx_port}/-/last-request")[1])["count"])
    check(scrapes - scrapes_before == 1,
          f"two pipelines on one exporter: one scrape per cycle (got {scrapes - scrapes_before})")
    check("# sources: 8, failed: 0" in out, "summary counts 8 sources, none failed")
    check("# cloudwatch metrics_per_cycle=4 calls=1" in out,
          "4 CloudWatch metrics in one GetMetricData call")

    # A dead exporter and an unknown connector: exit 3, the errors on stderr and in the summary.
    bad = open(cfg).read().replace(f"http://127.0.0.1:{env.jmx_port}/metrics",
                                   "http://127.0.0.1:9/metrics", 1)
    bad = bad.replace("connector: billing-mysql", "connector: nosuch-mysql")
    bad_cfg = os.path.join(work, "bad.yml")
    open(bad_cfg, "w").write(bad)
    rc, out, err = fetch(bad_cfg)
    check(rc == 3, f"a failed source exits 3 (got {rc})")
    check("source debezium of pipeline orders" in err and "127.0.0.1:9" in err,
          "the dead exporter is named on stderr")
    check("nosuch-mysql" in err and "404" in err, "the unknown connector is named with its 404")
    check(any(l.startswith("up{") and 'source="debezium"' in l and 'pipeline="orders"' in l and
              l.split(" ")[1] == "0" for l in out.splitlines()), "up=0 for the dead exporter")
    check(any(l.startswith("aws_rds_aurora_binlog_replica_lag_maximum{") for l in
              out.splitlines()), "the other sources still print their series")

    # Config errors exit 2 with file:line:col.
    broken = os.path.join(work, "broken.yml")
    open(broken, "w").write("global:\n  scrape_intervall: 1s\n")
    rc, out, err = fetch(broken)
    check(rc == 2 and "broken.yml:2:" in err, f"bad config: exit 2 with its location ({err.strip()})")
    rc, out, err = fetch(cfg, "--lookback", "bogus")
    check(rc == 2, "bad --lookback is a usage error")


if __name__ == "__main__":
    main()
