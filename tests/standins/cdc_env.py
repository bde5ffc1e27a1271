"""cdc_env.py — the loopback world lagwatch's agent tests and the demo run against: a real
moto_server (CloudWatch and RDS), the JMX exporter and Kafka Connect stand-ins
(tests/integration/standins/cdc_standins.py) and the Slack/PagerDuty receiver stand-in
(tests/standins/receiver.py). Every process binds 127.0.0.1 on a free port and is stopped by
Env.close(). Nothing here talks to the internet.

    env = Env(src_dir, workdir)
    env.start(print_receiver=False)
    env.seed_aurora("orders-aurora", lag_s=[...])     # put_metric_data, one point a minute
    env.set_lag("orders", 4000)                         # Debezium MilliSecondsBehindSource
    env.config(...)                                     # a lagwatch config file for this world
    env.close()
"""
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

REGION = "us-east-1"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, what, timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start on port {port}")


def wait_file(path, proc, what, timeout_s=30):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early ({proc.returncode})")
        if os.path.exists(path):
            return int(open(path).read().strip())
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not write {path}")


def http(method, url, body=None, timeout=5):
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Env:
    def __init__(self, src_dir, workdir):
        self.src = src_dir
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.procs = []
        self.moto_port = self.jmx_port = self.connect_port = self.receiver_port = None

    # ---- processes ----
    def _spawn(self, args, **kw):
        p = subprocess.Popen(args, stdout=kw.pop("stdout", subprocess.DEVNULL),
                             stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)
        self.procs.append(p)
        return p

    def start(self, print_receiver=False, receiver_out=None):
        self.moto_port = free_port()
        # moto_server's script when it is on PATH, else the same through this interpreter (a
        # pip --user install puts the script where PATH may not look).
        exe = ["moto_server"] if shutil.which("moto_server") else [sys.executable, "-m",
                                                                  "moto.server"]
        moto = self._spawn(exe + ["-H", "127.0.0.1", "-p", str(self.moto_port)])
        standins = os.path.join(self.src, "tests/integration/standins/cdc_standins.py")
        pf_jmx = os.path.join(self.dir, "jmx.port")
        pf_con = os.path.join(self.dir, "connect.port")
        pf_rec = os.path.join(self.dir, "receiver.port")
        for f in (pf_jmx, pf_con, pf_rec):
            if os.path.exists(f):
                os.unlink(f)
        jmx = self._spawn([sys.executable, standins, "jmx", "--port-file", pf_jmx])
        con = self._spawn([sys.executable, standins, "connect", "--port-file", pf_con])
        rargs = [sys.executable, os.path.join(self.src, "tests/standins/receiver.py"),
                 "--port-file", pf_rec]
        if print_receiver:
            rargs.append("--print")
        rec = self._spawn(rargs, stdout=receiver_out or subprocess.DEVNULL)
        self.jmx_port = wait_file(pf_jmx, jmx, "JMX exporter stand-in")
        self.connect_port = wait_file(pf_con, con, "Kafka Connect stand-in")
        self.receiver_port = wait_file(pf_rec, rec, "receiver stand-in")
        wait_port(self.moto_port, moto, "moto_server", timeout_s=60)
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDLAGWATCHTEST")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "lagwatch-test-secret")

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    # ---- AWS ----
    @property
    def aws_endpoint(self):
        return f"http://127.0.0.1:{self.moto_port}"

    def boto(self, service):
        import boto3
        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name=REGION,
                            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])

    def create_cluster(self, cluster, instances=2):
        rds = self.boto("rds")
        rds.create_db_cluster(DBClusterIdentifier=cluster, Engine="aurora-mysql",
                              MasterUsername="admin", MasterUserPassword="password123")
        for i in range(instances):
            rds.create_db_instance(DBInstanceIdentifier=f"{cluster}-{i}",
                                   DBClusterIdentifier=cluster, Engine="aurora-mysql",
                                   DBInstanceClass="db.r6g.large")

    def put_aurora(self, cluster, t_s, lag_s=None, disk=None):
        """One datapoint at t_s (Unix seconds) for AuroraBinlogReplicaLag (Role=WRITER) and/or
        BinLogDiskUsage."""
        cw = self.boto("cloudwatch")
        ts = datetime.datetime.fromtimestamp(t_s, datetime.timezone.utc)
        data = []
        if lag_s is not None:
            data.append({"MetricName": "AuroraBinlogReplicaLag", "Value": float(lag_s),
                         "Timestamp": ts, "Unit": "Seconds",
                         "Dimensions": [{"Name": "DBClusterIdentifier", "Value": cluster},
                                        {"Name": "Role", "Value": "WRITER"}]})
        if disk is not None:
            data.append({"MetricName": "BinLogDiskUsage", "Value": float(disk), "Timestamp": ts,
                         "Unit": "Bytes",
                         "Dimensions": [{"Name": "DBClusterIdentifier", "Value": cluster}]})
        if data:
            cw.put_metric_data(Namespace="AWS/RDS", MetricData=data)

    # ---- Debezium / Kafka Connect ----
    def set_lag(self, connector, lag_ms):
        return http("POST", f"http://127.0.0.1:{self.jmx_port}/-/event?connector={connector}"
                    f"&lag_ms={lag_ms}", b"")

    def restart_task(self, connector):
        return http("POST", f"http://127.0.0.1:{self.jmx_port}/-/restart?connector={connector}",
                    b"")

    # ---- receiver ----
    def received(self):
        st, body = http("GET", f"http://127.0.0.1:{self.receiver_port}/_requests")
        return json.loads(body) if st == 200 else []

    # ---- config ----
    def config(self, path, *, state_dir, listen="127.0.0.1:0", rule_files=(), scrape="1s",
               evaluation="1s", aurora_interval="2s", failover=True, pipelines=("orders",),
               extra=""):
        """A config with one pipeline per name: orders -> orders-aurora, connector orders-mysql
        on the stand-ins (billing -> billing-aurora / billing-mysql)."""
        lines = [
            "global:",
            f"  scrape_interval: {scrape}",
            f"  evaluation_interval: {evaluation}",
            f"  state_dir: {state_dir}",
            f"  listen: {listen}",
            "aws:",
            f"  region: {REGION}",
            "  endpoints:",
            f"    cloudwatch: {self.aws_endpoint}",
            f"    rds: {self.aws_endpoint}",
            f"    sts: {self.aws_endpoint}",
            "pipelines:",
        ]
        for name in pipelines:
            lines += [
                f"  - name: {name}",
                "    labels: {team: data-platform}",
                "    aurora:",
                f"      cluster: {name}-aurora",
                f"      interval: {aurora_interval}",
                "      metrics: [AuroraBinlogReplicaLag, BinLogDiskUsage]",
                f"      failover_detection: {'true' if failover else 'false'}",
                "    debezium:",
                f"      exporter: http://127.0.0.1:{self.jmx_port}/metrics",
                f"      server: {name}",
                "    kafka_connect:",
                f"      url: http://127.0.0.1:{self.connect_port}",
                f"      connector: {name}-mysql",
            ]
        if rule_files:
            lines.append("rule_files: [" + ", ".join(rule_files) + "]")
        text = "\n".join(lines) + "\n" + extra
        with open(path, "w") as f:
            f.write(text)
        return path
