#!/usr/bin/env python3
"""`lagwatch notify-test` against the stand-in receivers (tests/standins/receiver.py): a test
notification reaches Slack, PagerDuty (trigger, then resolve under the same dedup_key) and a
webhook with its bearer token, clearly marked; a receiver's 4xx is reported with its own error
text and exit 1; a receiver that hangs past --timeout fails; an unknown receiver, a missing
option and a broken config exit 2; secrets never reach the output.

    notify_test_cli.py        (LAGWATCH_BIN and LAGWATCH_SOURCE_DIR from the environment)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.environ["LAGWATCH_BIN"]
SRC = os.environ.get("LAGWATCH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read()


def run(*args, timeout=60):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def main():
    tmp = tempfile.mkdtemp(prefix="lw-notify-test-")
    pf = os.path.join(tmp, "port")
    recv = subprocess.Popen([sys.executable, os.path.join(SRC, "tests/standins/receiver.py"),
                             "--port-file", pf])
    try:
        end = time.time() + 20
        while not os.path.exists(pf):
            if time.time() > end:
                raise SystemExit("receiver stand-in did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{open(pf).read().strip()}"
        with open(os.path.join(tmp, "slack_url"), "w") as f:
            f.write(f"{base}/slack/T0/B0/XSECRETX\n")
        cfg = os.path.join(tmp, "lagwatch.yml")
        with open(cfg, "w") as f:
            f.write(f"""global:
  external_url: http://lagwatch.test:9741
route:
  receiver: oncall
receivers:
  - name: oncall
    slack_configs: [{{api_url_file: slack_url, channel: '#cdc'}}]
    pagerduty_configs: [{{routing_key: R0UT1NGKEY, url: '{base}/v2/enqueue'}}]
    webhook_configs: [{{url: '{base}/hook', http_config: {{bearer_token: s3cretT0ken}}}}]
  - name: slack-only
    slack_configs: [{{api_url: '{base}/slack/T1/B1/Y'}}]
  - name: empty
  - name: templated
    slack_configs:
      - api_url: '{base}/slack/T2/B2/Z'
        title: '{{{{ .Status | toUpper }}}} {{{{ .CommonLabels.alertname }}}} for {{{{ .Receiver }}}}'
        text: '{{{{ range .Alerts }}}}{{{{ .Annotations.summary }}}} ({{{{ .Labels.severity }}}}){{{{ end }}}}'
    pagerduty_configs:
      - routing_key: K2
        url: '{base}/v2/enqueue'
        summary: 'PD {{{{ len .Alerts }}}} alert(s) at {{{{ .ExternalURL }}}}'
        description: '{{{{ .CommonAnnotations.summary }}}}'
""")

        # 1. delivered to every integration
        rc, out, err = run("notify-test", "-c", cfg, "--receiver", "oncall")
        check(rc == 0, f"delivered: exit 0 (got {rc}; {err.strip()})")
        check("delivered to receiver 'oncall' (1 Slack, 1 PagerDuty, 1 webhook)" in out,
              "delivered: summary line names the integrations")
        for secret in ("XSECRETX", "R0UT1NGKEY", "s3cretT0ken"):
            check(secret not in out + err, f"delivered: secret {secret} not in the output")
        reqs = json.loads(http("GET", base + "/_requests"))
        paths = [r["path"] for r in reqs]
        check(paths == ["/slack/T0/B0/XSECRETX", "/v2/enqueue", "/v2/enqueue", "/hook"],
              f"delivered: one Slack, PD trigger + resolve, one webhook request (got {paths})")
        if len(reqs) == 4:
            slack = json.loads(reqs[0]["body"])
            check(slack.get("channel") == "#cdc", "Slack: channel from the config")
            check("LagwatchTestNotification" in reqs[0]["body"]
                  and "Test notification from lagwatch" in reqs[0]["body"],
                  "Slack: message is marked as a test")
            trig, res = json.loads(reqs[1]["body"]), json.loads(reqs[2]["body"])
            check(trig.get("event_action") == "trigger" and res.get("event_action") == "resolve",
                  "PagerDuty: trigger then resolve")
            check(trig.get("routing_key") == "R0UT1NGKEY", "PagerDuty: routing key sent")
            check(trig.get("dedup_key") and trig.get("dedup_key") == res.get("dedup_key"),
                  "PagerDuty: resolve under the trigger's dedup_key")
            check("LagwatchTestNotification" in trig.get("payload", {}).get("summary", ""),
                  "PagerDuty: summary is marked as a test")
            hook = json.loads(reqs[3]["body"])
            check(hook.get("version") == "4" and hook.get("status") == "firing",
                  "webhook: version 4 payload, firing")
            check(hook.get("externalURL") == "http://lagwatch.test:9741",
                  "webhook: externalURL from the config")
            check(hook.get("alerts", [{}])[0].get("labels", {}).get("alertname")
                  == "LagwatchTestNotification", "webhook: the test alert")
            check(reqs[3]["headers"].get("Authorization") == "Bearer s3cretT0ken",
                  "webhook: bearer token from http_config")

        # 2. Slack answers 404 channel_not_found: exit 1 with the receiver's own text; the
        # other integrations are still tried.
        http("POST", base + "/_reset", {})
        http("POST", base + "/_script", {"path_prefix": "/slack", "responses": [
            {"status": 404, "body": "channel_not_found"}]})
        rc, out, err = run("notify-test", "-c", cfg, "--receiver", "oncall")
        check(rc == 1, f"slack 404: exit 1 (got {rc})")
        check("slack:0: HTTP 404: channel_not_found" in err,
              f"slack 404: receiver's error text shown ({err.strip()})")
        check("XSECRETX" not in out + err, "slack 404: webhook URL not shown")
        paths = [r["path"] for r in json.loads(http("GET", base + "/_requests"))]
        check(paths.count("/hook") == 1 and paths.count("/v2/enqueue") == 2,
              "slack 404: PagerDuty and webhook still tried")

        # 3. PagerDuty 400 invalid event: exit 1, PagerDuty's JSON error, no resolve sent
        http("POST", base + "/_reset", {})
        http("POST", base + "/_script", {"path_prefix": "/v2/enqueue", "responses": [
            {"status": 400, "headers": {"Content-Type": "application/json"},
             "body": '{"status":"invalid event","message":"Event object is invalid",'
                     '"errors":["Length of \'routing_key\' is incorrect"]}'}]})
        rc, out, err = run("notify-test", "-c", cfg, "--receiver", "oncall")
        check(rc == 1, f"pagerduty 400: exit 1 (got {rc})")
        check("pagerduty:0: HTTP 400: " in err and "invalid event" in err,
              f"pagerduty 400: PagerDuty's error shown ({err.strip()})")
        check("R0UT1NGKEY" not in out + err, "pagerduty 400: routing key not shown")
        paths = [r["path"] for r in json.loads(http("GET", base + "/_requests"))]
        check(paths.count("/v2/enqueue") == 1, "pagerduty 400: no resolve after a refused trigger")

        # 4. a receiver that hangs past --timeout
        http("POST", base + "/_reset", {})
        http("POST", base + "/_script", {"path_prefix": "/slack", "responses": [
            {"action": "hang", "seconds": 5}]})
        t0 = time.time()
        rc, out, err = run("notify-test", "-c", cfg, "--receiver", "slack-only", "--timeout", "1s")
        took = time.time() - t0
        check(rc == 1, f"hang: exit 1 (got {rc}; {err.strip()})")
        check(took < 4.5, f"hang: gave up after --timeout ({took:.1f}s)")
        check("slack:0:" in err, "hang: the integration is named")

        # 5. receiver templates render over the notification data
        http("POST", base + "/_reset", {})
        rc, out, err = run("notify-test", "-c", cfg, "--receiver", "templated")
        check(rc == 0, f"templated: exit 0 (got {rc}; {err.strip()})")
        reqs = json.loads(http("GET", base + "/_requests"))
        if len(reqs) == 3:
            slack = json.loads(reqs[0]["body"])
            check(slack.get("text") == "FIRING LagwatchTestNotification for templated",
                  f"templated: Slack title rendered ({slack.get('text')!r})")
            check("Test notification from lagwatch: delivery works, no action needed (info)"
                  in reqs[0]["body"], "templated: Slack text rendered")
            pd = json.loads(reqs[1]["body"])
            check(pd["payload"]["summary"] == "PD 1 alert(s) at http://lagwatch.test:9741",
                  f"templated: PagerDuty summary rendered ({pd['payload']['summary']!r})")
            check(pd["payload"]["custom_details"].get("description", "").startswith(
                "Test notification from lagwatch"), "templated: PagerDuty description rendered")
        else:
            check(False, f"templated: 3 requests (got {len(reqs)})")

        # 6. usage and config errors exit 2
        rc, out, err = run("notify-test", "-c", cfg, "--receiver", "nobody")
        check(rc == 2 and "no receiver named 'nobody'" in err and "'oncall'" in err,
              f"unknown receiver: exit 2 and the known ones listed ({rc}, {err.strip()})")
        rc, out, err = run("notify-test", "-c", cfg, "--receiver", "empty")
        check(rc == 2 and "no Slack, PagerDuty or webhook integration" in err,
              f"receiver without integrations: exit 2 ({rc}, {err.strip()})")
        rc, out, err = run("notify-test", "-c", cfg)
        check(rc == 2 and "--receiver NAME is required" in err, "missing --receiver: exit 2")
        rc, out, err = run("notify-test", "--receiver", "oncall")
        check(rc == 2 and "-c FILE is required" in err, "missing -c: exit 2")
        rc, out, err = run("notify-test", "-c", cfg, "--receiver", "oncall", "--timeout", "soon")
        check(rc == 2 and "--timeout" in err, "bad --timeout: exit 2")
        bad = os.path.join(tmp, "bad.yml")
        with open(bad, "w") as f:
            f.write("route: {receiver: x}\nreceivers:\n  - name: x\n"
                    "    slack_configs: [{api_urll: 'http://x'}]\n")
        rc, out, err = run("notify-test", "-c", bad, "--receiver", "x")
        check(rc == 2 and "bad.yml:4:" in err, f"broken config: exit 2 with file:line ({err.strip()})")
        rc, out, err = run("notify-test", "--help")
        check(rc == 0 and "usage: lagwatch notify-test" in out, "--help")
        rc, out, err = run("--help")
        check("notify-test" in out, "listed in lagwatch --help")
    finally:
        recv.terminate()
        recv.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
