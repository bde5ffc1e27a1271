#!/usr/bin/env python3
"""cdc_standins.py — loopback stand-ins for the peers the sources talk to when no real one runs
here: a Prometheus JMX exporter on a Kafka Connect worker with two Debezium MySQL connectors,
and Kafka Connect's REST API.

  cdc_standins.py jmx     --port-file F   # /metrics (debezium-examples rules), /metrics/ruleless
  cdc_standins.py connect --port-file F   # /connectors/<name>/status

Both bind 127.0.0.1 port 0 and write the chosen port to F. Control endpoints for tests:
  POST /-/restart?connector=orders   the connector's task restarts: its Debezium MBeans vanish for
                                     the next scrape, then come back with MilliSecondsBehindSource
                                     -1 (no event since the task start) until POST /-/event.
  POST /-/event?connector=orders&lag_ms=N   an event arrived: lag is N again.
  GET  /-/last-request              the headers of the last scrape, as JSON.

The exporter page is written from Debezium's MySQL MBean attributes (streaming, snapshot and
schema-history contexts) and the JMX exporter 0.x text style (HELP with the MBean, untyped,
trailing comma in label sets, Java float formatting), plus Kafka Connect worker/task metrics and
the Kafka client metrics a worker page is mostly made of. OpenMetrics is served when the Accept
header asks for it, gzip when Accept-Encoding allows it.
"""
import argparse
import gzip
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
# connector name (topic.prefix) -> state
CONNECTORS = {
    "orders": {"state": "running", "lag_ms": 1500.0, "connect_name": "orders-mysql"},
    "billing": {"state": "running", "lag_ms": 250.0, "connect_name": "billing-mysql"},
}
LAST_REQUEST = {}
SCRAPES = [0]

STREAMING = [  # attribute, value for a healthy connector
    ("Connected", 1.0), ("MilliSecondsBehindSource", None), ("MilliSecondsSinceLastEvent", 820.0),
    ("TotalNumberOfEventsSeen", 123456.0), ("TotalNumberOfCreateEventsSeen", 100000.0),
    ("TotalNumberOfUpdateEventsSeen", 20000.0), ("TotalNumberOfDeleteEventsSeen", 3456.0),
    ("NumberOfEventsFiltered", 0.0), ("NumberOfErroneousEvents", 0.0),
    ("QueueTotalCapacity", 8192.0), ("QueueRemainingCapacity", 8100.0),
    ("NumberOfCommittedTransactions", 45678.0), ("BinlogPosition", 154880012.0),
    ("IsGtidModeEnabled", 1.0), ("NumberOfSkippedEvents", 0.0), ("NumberOfDisconnects", 1.0),
    ("NumberOfLargeTransactions", 0.0), ("MaxQueueSizeInBytes", 0.0),
    ("CurrentQueueSizeInBytes", 0.0),
]
SNAPSHOT = [
    ("SnapshotRunning", 0.0), ("SnapshotCompleted", 1.0), ("SnapshotAborted", 0.0),
    ("SnapshotPaused", 0.0), ("SnapshotDurationInSeconds", 5423.0), ("TotalTableCount", 12.0),
    ("RemainingTableCount", 0.0), ("MilliSecondsSinceLastEvent", 1.2345678E7),
    ("TotalNumberOfEventsSeen", 9876543.0), ("QueueTotalCapacity", 8192.0),
    ("QueueRemainingCapacity", 8192.0),
]
SCHEMA_HISTORY = [("ChangesRecovered", 26.0), ("ChangesApplied", 39.0),
                  ("MilliSecondsSinceLastAppliedChange", 86400000.0)]


def java_float(v):
    """Java's Double.toString: 1.0, 1500.0, 1.2345678E7, NaN."""
    if v != v:
        return "NaN"
    if v == float("inf"):
        return "+Inf"
    if abs(v) >= 1e7 or (v != 0 and abs(v) < 1e-3):
        mant, exp = ("%.15E" % v).split("E")
        mant = mant.rstrip("0")
        if mant.endswith("."):
            mant += "0"
        return "%sE%d" % (mant, int(exp))
    s = repr(float(v))
    return s


def series_for(name, st):
    """The (context, attribute, value) triples a connector's MBeans show, or [] while restarting."""
    if st["state"] == "restarting":
        return []
    out = []
    for attr, v in STREAMING:
        if attr == "MilliSecondsBehindSource":
            v = -1.0 if st["state"] == "started" else st["lag_ms"]
        if attr == "MilliSecondsSinceLastEvent" and st["state"] == "started":
            v = -1.0
        out.append(("streaming", attr, v))
    out += [("snapshot", a, v) for a, v in SNAPSHOT]
    out += [("schema-history", a, v) for a, v in SCHEMA_HISTORY]
    return out


def exporter_page(ruleless, openmetrics):
    lines = []
    eol_comma = "" if openmetrics else ","
    kind = "unknown" if openmetrics else "untyped"
    with LOCK:
        snapshot = {n: dict(s) for n, s in CONNECTORS.items()}
        # a restart shows as one scrape without the MBeans, then -1 until an event
        for st in CONNECTORS.values():
            if st["state"] == "restarting":
                st["state"] = "started"
    families = {}
    for name, st in snapshot.items():
        for ctx, attr, v in series_for(name, st):
            if ruleless:
                metric = "debezium_mysql_connector_metrics_" + attr.lower()
                labels = 'context="%s",server="%s"%s' % (ctx, name, eol_comma)
                help_ = "debezium.mysql:name=null,type=connector-metrics,attribute=" + attr
            else:
                metric = "debezium_metrics_" + attr
                labels = 'context="%s",name="%s",plugin="mysql"%s' % (ctx, name, eol_comma)
                help_ = "Debezium %s (debezium.mysql<type=connector-metrics>)" % attr
            families.setdefault(metric, (help_, []))[1].append("%s{%s} %s" % (metric, labels, java_float(v)))
    for metric, (help_, samples) in families.items():
        lines.append("# HELP %s %s" % (metric, help_))
        lines.append("# TYPE %s %s" % (metric, kind))
        lines += samples
    # Kafka Connect worker and task metrics
    lines.append("# HELP kafka_connect_worker_metrics_task_count Number of tasks (kafka.connect<type=connect-worker-metrics><>task-count)")
    lines.append("# TYPE kafka_connect_worker_metrics_task_count %s" % kind)
    lines.append("kafka_connect_worker_metrics_task_count 3.0")
    lines.append("# TYPE kafka_connect_connector_task_metrics_running_ratio %s" % kind)
    for name, st in snapshot.items():
        for task in ("0", "1") if name == "orders" else ("0",):
            lines.append('kafka_connect_connector_task_metrics_running_ratio{connector="%s",task="%s"%s} %s'
                         % (st["connect_name"], task, eol_comma, "0.0" if (name, task) == ("orders", "0") else "1.0"))
    # the bulk of a real worker page: client metrics the keep filter drops
    lines.append("# TYPE kafka_producer_topic_metrics_record_send_rate %s" % kind)
    for i in range(200):
        lines.append('kafka_producer_topic_metrics_record_send_rate{client_id="connector-producer-orders-mysql-0",topic="orders.inventory.t%d"%s} %s'
                     % (i, eol_comma, java_float(i * 0.37 if i % 9 else float("nan"))))
    if openmetrics:
        lines.append("# EOF")
    return ("\n".join(lines) + "\n").encode()


KC_TRACE = ("org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.\n"
            "\tat io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:50)\n"
            "\tat io.debezium.connector.mysql.MySqlStreamingChangeEventSource$ReaderThreadLifecycleListener.onCommunicationFailure(MySqlStreamingChangeEventSource.java:1250)\n"
            "\tat com.github.shyiko.mysql.binlog.BinaryLogClient.listenForEventPackets(BinaryLogClient.java:1079)\n"
            "\tat com.github.shyiko.mysql.binlog.BinaryLogClient.connect(BinaryLogClient.java:631)\n"
            "\tat java.base/java.lang.Thread.run(Thread.java:829)\n"
            "Caused by: io.debezium.DebeziumException: Could not find first log file name in binary log index file Error code: 1236; SQLSTATE: HY000.\n")


def connect_status(name):
    if name == "orders-mysql":
        return 200, {"name": name, "connector": {"state": "RUNNING", "worker_id": "10.0.0.5:8083"},
                     "tasks": [{"id": 0, "state": "FAILED", "worker_id": "10.0.0.5:8083", "trace": KC_TRACE},
                               {"id": 1, "state": "RUNNING", "worker_id": "10.0.0.6:8083"}],
                     "type": "source"}
    if name == "billing-mysql":
        return 200, {"name": name, "connector": {"state": "RUNNING", "worker_id": "10.0.0.6:8083"},
                     "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "10.0.0.6:8083"}],
                     "type": "source"}
    return 404, {"error_code": 404, "message": "No status found for connector %s" % name}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "jmx"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def reply(self, status, body, ctype, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/-/last-request":
            with LOCK:
                body = json.dumps(dict(LAST_REQUEST, count=SCRAPES[0])).encode()
            return self.reply(200, body, "application/json")
        if self.mode == "jmx" and url.path in ("/metrics", "/metrics/ruleless"):
            accept = self.headers.get("Accept", "")
            om = "application/openmetrics-text" in accept
            gz = "gzip" in self.headers.get("Accept-Encoding", "")
            with LOCK:
                SCRAPES[0] += 1
                LAST_REQUEST.clear()
                LAST_REQUEST.update({k.lower(): v for k, v in self.headers.items()})
                LAST_REQUEST.update(openmetrics=om, gzipped=gz)
            body = exporter_page(url.path.endswith("ruleless"), om)
            ctype = ("application/openmetrics-text; version=1.0.0; charset=utf-8" if om
                     else "text/plain; version=0.0.4; charset=utf-8")
            extra = {}
            if gz:
                body = gzip.compress(body)
                extra["Content-Encoding"] = "gzip"
            return self.reply(200, body, ctype, extra)
        if self.mode == "connect" and url.path.startswith("/connectors/") and url.path.endswith("/status"):
            name = urllib.parse.unquote(url.path[len("/connectors/"):-len("/status")])
            status, doc = connect_status(name)
            return self.reply(status, json.dumps(doc).encode(), "application/json")
        self.reply(404, b"not found\n", "text/plain")

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n:
            self.rfile.read(n)
        with LOCK:
            st = CONNECTORS.get(q.get("connector", ""))
            if st is None:
                return self.reply(404, b"no such connector\n", "text/plain")
            if url.path == "/-/restart":
                st["state"] = "restarting"
            elif url.path == "/-/event":
                st["state"] = "running"
                st["lag_ms"] = float(q.get("lag_ms", "0"))
            else:
                return self.reply(404, b"not found\n", "text/plain")
        self.reply(200, b"ok\n", "text/plain")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["jmx", "connect"])
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    Handler.mode = args.mode
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
