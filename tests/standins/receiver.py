#!/usr/bin/env python3
"""receiver.py — stand-in for Slack incoming webhooks, PagerDuty Events API v2 and generic webhook
receivers, for lagwatch's tests and demo. No real peer exists for these on a machine without the
internet, so this one answers as they do and can be told to misbehave.

Paths: /slack/..., /pagerduty/... (or /v2/enqueue), anything else is a generic webhook.
Every request is recorded; GET /_requests returns them as JSON (method, path, headers, body).
POST /_script with {"path_prefix": "/slack", "responses": [...]} queues responses for that prefix;
each response is {"status": 429, "headers": {"Retry-After": "1"}, "body": "rate_limited"} or
{"action": "hang", "seconds": 30} or {"action": "close"} (drop the connection mid-response).
When a prefix's queue is empty the service's normal success answer is given.

    receiver.py --port-file FILE [--print] [--port N]

prints nothing unless --print (then one readable line per notification, for the demo).
"""
import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
REQUESTS = []
SCRIPTS = {}  # prefix -> list of responses
PRINT = False


def default_response(path):
    if path.startswith("/slack"):
        return 200, {"Content-Type": "text/plain"}, "ok"
    if path.startswith("/pagerduty") or path.startswith("/v2/enqueue"):
        return 202, {"Content-Type": "application/json"}, json.dumps(
            {"status": "success", "message": "Event processed"})
    return 200, {"Content-Type": "text/plain"}, "ok"


def describe(path, body):
    try:
        doc = json.loads(body)
    except ValueError:
        return f"{path}: {len(body)} bytes (not JSON)"
    if path.startswith("/slack"):
        return f"Slack     {doc.get('text', '')}"
    if path.startswith("/pagerduty") or path.startswith("/v2/enqueue"):
        p = doc.get("payload", {})
        return (f"PagerDuty {doc.get('event_action')} dedup_key={str(doc.get('dedup_key'))[:12]}… "
                f"severity={p.get('severity')} {p.get('summary')}")
    return f"webhook   {doc.get('status')} {len(doc.get('alerts', []))} alert(s) {doc.get('groupKey')}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode("utf-8", "replace") if n else ""

    def _send(self, status, headers, body):
        data = body.encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_requests":
            with LOCK:
                body = json.dumps(REQUESTS)
            self._send(200, {"Content-Type": "application/json"}, body)
        elif self.path == "/_health":
            self._send(200, {}, "ok")
        else:
            self._send(404, {}, "not found")

    def do_POST(self):
        body = self._body()
        if self.path == "/_script":
            req = json.loads(body)
            with LOCK:
                SCRIPTS.setdefault(req["path_prefix"], []).extend(req["responses"])
            self._send(200, {}, "ok")
            return
        if self.path == "/_reset":
            with LOCK:
                REQUESTS.clear()
                SCRIPTS.clear()
            self._send(200, {}, "ok")
            return
        with LOCK:
            REQUESTS.append({"method": "POST", "path": self.path, "time": time.time(),
                             "headers": dict(self.headers.items()), "body": body})
            resp = None
            for prefix, queue in SCRIPTS.items():
                if self.path.startswith(prefix) and queue:
                    resp = queue.pop(0)
                    break
        if resp is None:
            if PRINT:
                print(describe(self.path, body), flush=True)
            self._send(*default_response(self.path))
            return
        action = resp.get("action")
        if action == "hang":
            time.sleep(resp.get("seconds", 30))
            self._send(*default_response(self.path))
        elif action == "close":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"partial")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        else:
            self._send(resp.get("status", 200), resp.get("headers", {}), resp.get("body", ""))


def main():
    global PRINT
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args()
    PRINT = args.print
    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):  # clients that hang up are expected
            pass

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
