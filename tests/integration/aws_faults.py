#!/usr/bin/env python3
"""aws_faults.py — a fault-injection stand-in in front of an AWS endpoint (moto_server), one
loopback port per fault, for aws_fault_test.py and the cycle benchmark.

  throttle-half  every other request answered with Throttling (JSON 1.0 or Query/XML, matching
                 the request), the others forwarded untouched to the upstream (signatures stay
                 valid because the Host header is forwarded as received)
  hang           reads the request and never answers
  truncated      200 whose Content-Length promises more than is sent, then closes
  malformed      200 with a complete but malformed body (JSON or XML, matching the request)
  slow           forwards after a fixed delay (--delay-ms)

Prints {"mode": port, ...} as one JSON line on stdout once listening; runs until killed.
"""
import argparse
import http.client
import json
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_handler(mode, upstream, delay_ms, counter):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def is_json(self):
            return "json" in (self.headers.get("Content-Type") or "")

        def reply(self, status, body, ctype, content_length=None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if content_length is None else content_length))
            self.send_header("x-amzn-RequestId", "fault-%d" % counter[0])
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def forward(self, body):
            host, port = upstream.split(":")
            c = http.client.HTTPConnection(host, int(port), timeout=30)
            headers = {k: v for k, v in self.headers.items()}
            c.request(self.command, self.path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            c.close()

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n)
            with lock:
                counter[0] += 1
                k = counter[0]
            if mode == "hang":
                time.sleep(3600)
                return
            if mode == "throttle-half" and k % 2 == 1:
                if self.is_json():
                    self.reply(400, b'{"__type":"com.amazon.coral.availability#ThrottlingException",'
                                    b'"message":"Rate exceeded"}', "application/x-amz-json-1.0")
                else:
                    self.reply(400, b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                                    b"<Message>Rate exceeded</Message></Error><RequestId>x</RequestId>"
                                    b"</ErrorResponse>", "text/xml")
                return
            if mode == "truncated":
                data = b'{"MetricDataResults":[{"Id":"q0","Timestamps":[17' if self.is_json() else \
                    b"<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters><DBCl"
                self.reply(200, data, "application/x-amz-json-1.0" if self.is_json() else "text/xml",
                           content_length=len(data) + 500)
                self.close_connection = True
                return
            if mode == "malformed":
                data = b'{"MetricDataResults":[{"Id":"q0","Timestamps":[1],"Values":[1]},]}' \
                    if self.is_json() else \
                    b"<DescribeDBClustersResponse><DescribeDBClustersResult></DBClusters>" \
                    b"</DescribeDBClustersResult></DescribeDBClustersResponse>"
                self.reply(200, data, "application/x-amz-json-1.0" if self.is_json() else "text/xml")
                return
            if mode == "slow":
                time.sleep(delay_ms / 1000.0)
            self.forward(body)

    return H


lock = threading.Lock()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True, help="host:port of the real endpoint")
    ap.add_argument("--modes", default="throttle-half,hang,truncated,malformed,slow")
    ap.add_argument("--delay-ms", type=int, default=100)
    a = ap.parse_args()
    ports = {}
    for mode in a.modes.split(","):
        srv = Server(("127.0.0.1", 0), make_handler(mode, a.upstream, a.delay_ms, [0]))
        ports[mode] = srv.server_address[1]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(json.dumps(ports), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
