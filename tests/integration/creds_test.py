#!/usr/bin/env python3
"""creds_test.py — the credential providers against local peers: stand-ins for EC2 IMDS and
the ECS credentials endpoint (no real peer exists off AWS) and a real moto STS for
AssumeRoleWithWebIdentity, plus an STS stand-in for broken answers. Drives `lagwatch aws whoami`
and creds_driver (the default provider at chosen clock offsets), covering the failure cases of
issue 3: IMDS 401 on an expired token, 404 with no role, 500, slow answers past the timeout,
malformed JSON and XML, already-expired credentials, credentials that rotate mid-run and a
refresh that fails while the old credentials are valid. Every secret the peers hand out is
then searched for in everything lagwatch printed (stdout, stderr, logs): none may appear.

usage: creds_test.py LAGWATCH_BIN CREDS_DRIVER
"""
import datetime
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

LAGWATCH, DRIVER = sys.argv[1], sys.argv[2]
SECRETS = set()
CAPTURED = []
FAILURES = []


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Peer:
    """IMDS + ECS + STS stand-in on one loopback port; behaviour set by .mode."""

    def __init__(self):
        self.mode = "ok"
        self.tokens = set()
        self.creds_fetches = 0
        self.token_puts = 0
        self.ecs_token = "ecs-auth-token-S3CRET"
        SECRETS.add(self.ecs_token)
        peer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def send(self, status, body, ctype="text/plain"):
                b = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

            def do_PUT(self):
                peer.handle(self, "PUT")

            def do_GET(self):
                peer.handle(self, "GET")

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                self.body = self.rfile.read(n).decode()
                peer.handle(self, "POST")

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.handle_error = lambda request, addr: None  # clients that timed out on "slow"
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def creds_json(self):
        self.creds_fetches += 1
        n = self.creds_fetches if self.mode == "rotate" else 1
        secret, token = "imds-secret-%d-S3CRET" % n, "imds-token-%d-S3CRET" % n
        SECRETS.update([secret, token])
        exp = time.time() + 3600
        if self.mode == "expired":
            exp = time.time() - 60
        return json.dumps({"Code": "Success", "AccessKeyId": "ASIAPEER%d" % n,
                           "SecretAccessKey": secret, "Token": token,
                           "Expiration": iso(exp)})

    def handle(self, h, method):
        m, path = self.mode, h.path
        if m == "slow":
            time.sleep(4)
        if path == "/latest/api/token" and method == "PUT":
            if "X-aws-ec2-metadata-token-ttl-seconds" not in h.headers:
                return h.send(400, "missing TTL")
            if m == "token500":
                return h.send(500, "boom")
            self.token_puts += 1
            tok = "imdsv2-token-%d-S3CRET" % self.token_puts
            SECRETS.add(tok)
            self.tokens.add(tok)
            return h.send(200, tok)
        if path.startswith("/latest/meta-data/"):
            tok = h.headers.get("X-aws-ec2-metadata-token")
            if tok not in self.tokens:
                return h.send(401, "")
            if m == "expire-token-once":  # the token "expires" under the client's feet
                self.tokens.discard(tok)
                self.mode = "ok"
                return h.send(401, "")
            if path == "/latest/meta-data/placement/region":
                return h.send(200, "ap-northeast-3")
            if path == "/latest/meta-data/iam/security-credentials/":
                if m == "norole":
                    return h.send(404, "")
                if m == "500":
                    return h.send(500, "internal")
                return h.send(200, "lagwatch-role")
            if path == "/latest/meta-data/iam/security-credentials/lagwatch-role":
                if m == "fail-after-first" and self.creds_fetches >= 1:
                    return h.send(500, "blip")
                if m == "badjson":
                    SECRETS.add("half-secret-S3CRET")
                    return h.send(200, '{"AccessKeyId": "A", "SecretAccessKey": "half-secret-S3CRET')
                return h.send(200, self.creds_json(), "application/json")
            return h.send(404, "")
        if path == "/ecs/creds" and method == "GET":
            if h.headers.get("Authorization") != self.ecs_token:
                return h.send(401, '{"message":"bad token"}')
            if m == "500":
                return h.send(500, "{}")
            if m == "badjson":
                return h.send(200, "{not json")
            return h.send(200, self.creds_json(), "application/json")
        if path == "/" and method == "POST":  # STS stand-in for broken answers
            if m == "sts-badxml":
                return h.send(200, "<AssumeRoleWithWebIdentityResponse><Credentials>", "text/xml")
            if m == "sts-expired":
                SECRETS.update(["sts-secret-S3CRET", "sts-token-S3CRET"])
                return h.send(200, (
                    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                    "<Credentials><AccessKeyId>ASIAOLD</AccessKeyId><SecretAccessKey>"
                    "sts-secret-S3CRET</SecretAccessKey><SessionToken>sts-token-S3CRET"
                    "</SessionToken><Expiration>%s</Expiration></Credentials>"
                    "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
                    % iso(time.time() - 5), "text/xml")
            return h.send(403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>"
                          "Not authorized</Message></Error></ErrorResponse>", "text/xml")
        h.send(404, "")


def base_env(tmp):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = tmp  # no ~/.aws of the machine running the tests
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def run(args, env, stdin=None, timeout=60):
    p = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True,
                       timeout=timeout)
    CAPTURED.append(" ".join(args) + "\n" + p.stdout + p.stderr)
    return p


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    if not cond:
        FAILURES.append(name)


def whoami(env, *extra):
    return run([LAGWATCH, "--log-level", "debug", "aws", "whoami", "--debug"] + list(extra), env)


def main():
    tmp = tempfile.mkdtemp(prefix="lw-creds-")
    peer = Peer()

    # env provider; the secret is never printed
    env = base_env(tmp)
    env.update(AWS_ACCESS_KEY_ID="AKIAENVEXAMPLE", AWS_SECRET_ACCESS_KEY="env-secret-S3CRET",
               AWS_REGION="eu-west-1")
    SECRETS.add("env-secret-S3CRET")
    p = whoami(env, "--output", "json")
    out = json.loads(p.stdout) if p.returncode == 0 else {}
    check("whoami env json", out.get("provider") == "env" and out.get("access_key_id") ==
          "AKIAENVEXAMPLE" and out.get("expiration") is None and out.get("region") ==
          "eu-west-1", p.stdout + p.stderr)
    check("whoami --debug names the provider that answered",
          "provider=env" in p.stderr, p.stderr)

    # config file: explicit region and profile override the environment
    with open(os.path.join(tmp, "credentials"), "w") as f:
        f.write("[ops]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = prof-S3CRET\n")
    SECRETS.add("prof-S3CRET")
    cfg = os.path.join(tmp, "lagwatch.yml")
    with open(cfg, "w") as f:
        f.write("aws:\n  region: us-gov-west-1\n  profile: ops\n")
    env2 = dict(env, AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "credentials"))
    p = whoami(env2, "-c", cfg)
    check("whoami -c: profile and region from the config",
          p.returncode == 0 and "provider:       profile" in p.stdout and "AKIAPROFILE" in
          p.stdout and "us-gov-west-1 (from config)" in p.stdout, p.stdout + p.stderr)
    # the agent's own config loader: ${VAR} interpolation and keys from *_file secrets
    with open(os.path.join(tmp, "akid"), "w") as f:
        f.write("AKIAFROMCFGFILE\n")
    with open(os.path.join(tmp, "sk"), "w") as f:
        f.write("cfg-file-S3CRET\n")
    SECRETS.add("cfg-file-S3CRET")
    with open(cfg, "w") as f:
        f.write("aws:\n  region: ${LW_TEST_REGION:-eu-west-3}\n  access_key_id_file: akid\n"
                "  secret_access_key_file: sk\n")
    p = whoami(env2, "-c", cfg)
    check("whoami -c: ${VAR:-default} and explicit keys from *_file override the chain",
          p.returncode == 0 and "AKIAFROMCFGFILE" in p.stdout and "eu-west-3 (from config)" in
          p.stdout and "cfg-file-S3CRET" not in p.stdout + p.stderr, p.stdout + p.stderr)
    with open(cfg, "w") as f:
        f.write("aws:\n  region: [1, 2]\n")
    p = whoami(env2, "-c", cfg)
    check("whoami -c: a bad config is a usage error with its position",
          p.returncode == 2 and "lagwatch.yml:2:" in p.stderr, p.stderr)

    # IMDSv2 through the stand-in
    imds = base_env(tmp)
    imds.pop("AWS_EC2_METADATA_DISABLED")
    imds["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = peer.url
    peer.mode = "ok"
    p = whoami(imds, "--output", "json")
    out = json.loads(p.stdout) if p.returncode == 0 else {}
    check("imds: credentials and the placement region", out.get("provider") == "imds" and
          out.get("access_key_id") == "ASIAPEER1" and out.get("region") == "ap-northeast-3" and
          out.get("expiration", "").endswith("Z"), p.stdout + p.stderr)
    check("whoami --debug says why each earlier provider passed",
          all(s in p.stderr for s in ["passed provider=env", "passed provider=profile",
                                      "passed provider=web-identity", "passed provider=ecs"]),
          p.stderr)
    puts = peer.token_puts
    peer.mode = "expire-token-once"
    p = run([DRIVER, "0"], imds)
    check("imds: 401 on an expired token fetches a new token and succeeds",
          p.stdout.count("ok imds ASIAPEER1") == 1 and peer.token_puts >= puts + 2,
          p.stdout + p.stderr)
    for mode, expect in [("norole", "no IAM role is attached"), ("500", "answered HTTP 500"),
                         ("token500", "answered HTTP 500"), ("badjson", "not JSON"),
                         ("expired", "already expired"), ("slow", "imds: ")]:
        peer.mode = mode
        t0 = time.time()
        p = run([DRIVER, "0"], imds)
        took = time.time() - t0
        ok = p.stdout.startswith("err ") and expect in p.stdout
        if mode == "slow":
            ok = ok and ("Timeout" in p.stdout or "timed out" in p.stdout) and took < 10
        check("imds %s: %s" % (mode, expect), ok, p.stdout + p.stderr)
    check("imds: the failures list every provider's reason",
          "env: " in p.stdout and "ecs: " in p.stdout, p.stdout)

    # rotation mid-run: the cache picks up the new key at the advisory window
    peer.mode = "rotate"
    peer.creds_fetches = 0
    p = run([DRIVER, "0", "60", str(3600 - 850)], imds)
    lines = p.stdout.splitlines()
    check("imds: credentials rotate mid-run", len(lines) == 3 and "ASIAPEER1" in lines[0] and
          "ASIAPEER1" in lines[1] and "ASIAPEER2" in lines[2], p.stdout + p.stderr)
    # a refresh that fails while the old credentials are valid keeps them, with a warning
    peer.mode = "fail-after-first"
    peer.creds_fetches = 0
    p = run([DRIVER, "0", str(3600 - 800), str(3600 - 60), "3700"], imds)
    lines = p.stdout.splitlines()
    check("imds: failed refresh keeps valid credentials with a warning, then fails once expired",
          len(lines) == 4 and all("ASIAPEER1" in l for l in lines[:3]) and
          lines[3].startswith("err") and "advisory AWS credential refresh failed" in p.stderr and
          "mandatory AWS credential refresh failed" in p.stderr, p.stdout + p.stderr)

    # ECS container credentials with a token file
    tokfile = os.path.join(tmp, "ecs-token")
    with open(tokfile, "w") as f:
        f.write(peer.ecs_token + "\n")
    ecs = base_env(tmp)
    ecs.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=peer.url + "/ecs/creds",
               AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tokfile, AWS_DEFAULT_REGION="us-east-2")
    peer.mode = "ok"
    p = whoami(ecs)
    check("ecs: full URI on loopback with the token file", p.returncode == 0 and
          "provider:       ecs" in p.stdout and "us-east-2 (from AWS_DEFAULT_REGION)" in p.stdout,
          p.stdout + p.stderr)
    for mode, expect in [("500", "answered HTTP 500"), ("badjson", "not JSON"),
                         ("expired", "already expired")]:
        peer.mode = mode
        p = run([DRIVER, "0"], ecs)
        check("ecs %s" % mode, p.stdout.startswith("err") and expect in p.stdout, p.stdout)
    with open(tokfile, "w") as f:
        f.write("wrong-token")
    peer.mode = "ok"
    p = run([DRIVER, "0"], ecs)
    check("ecs: token file re-read (a wrong token is refused by the endpoint)",
          "answered HTTP 401" in p.stdout, p.stdout)
    bad = dict(ecs, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.1/creds")
    p = run([DRIVER, "0"], bad)
    check("ecs: http to a non-loopback host refused", "not allowed over http" in p.stdout,
          p.stdout)

    # web identity against moto's STS (a real implementation of the API)
    from moto.server import ThreadedMotoServer
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        idtok = os.path.join(tmp, "id-token")
        with open(idtok, "w") as f:
            f.write("eyJ-web-identity-S3CRET\n")
        SECRETS.add("eyJ-web-identity-S3CRET")
        wi = base_env(tmp)
        wi.update(AWS_ROLE_ARN="arn:aws:iam::123456789012:role/lagwatch",
                  AWS_WEB_IDENTITY_TOKEN_FILE=idtok, AWS_REGION="us-east-1",
                  AWS_ENDPOINT_URL_STS="http://127.0.0.1:%d" % moto._server.server_port)
        p = whoami(wi, "--output", "json")
        out = json.loads(p.stdout) if p.returncode == 0 else {}
        check("web identity via moto STS", out.get("provider") == "web-identity" and
              out.get("access_key_id", "").startswith("ASIA") and out.get("expiration"),
              p.stdout + p.stderr)
    finally:
        moto.stop()
    for mode, expect in [("sts-badxml", "not XML"), ("sts-expired", "already expired"),
                         ("sts-denied", "STS refused: AccessDenied")]:
        peer.mode = mode
        wi["AWS_ENDPOINT_URL_STS"] = peer.url
        p = run([DRIVER, "0"], wi)
        check("web identity %s" % mode, p.stdout.startswith("err") and expect in p.stdout,
              p.stdout)

    # nothing configured anywhere
    p = whoami(base_env(tmp))
    check("no credentials: exit 1 with every provider's reason",
          p.returncode == 1 and "no AWS credentials found: env: " in p.stderr and
          "imds: disabled" in p.stderr, p.stderr)
    p = run([LAGWATCH, "aws", "whoami", "--output", "yaml"], base_env(tmp))
    check("usage error exits 2", p.returncode == 2, p.stderr)

    # no secret anywhere in what lagwatch printed
    everything = "\n".join(CAPTURED)
    leaked = [s for s in SECRETS if s in everything]
    check("no secret in any output or log line (%d secrets, %d bytes captured)" %
          (len(SECRETS), len(everything)), not leaked, "leaked: %s" % leaked)
    peer.srv.shutdown()
    if FAILURES:
        print("%d failed" % len(FAILURES))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
