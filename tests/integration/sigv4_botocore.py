#!/usr/bin/env python3
"""sigv4_botocore.py — differential test of lagwatch's SigV4 signer against botocore's SigV4Auth.

Generates randomised requests (methods; paths with dot segments, empty segments, reserved,
percent-encoded and unicode characters; query strings with unicode and reserved characters in
keys and values, repeated keys, empty values with and without '='; headers with leading,
trailing and inner whitespace, folded lines, duplicates, mixed-case names and never-signed
names; empty, text and binary bodies; session tokens; other regions, services, hosts with
ports; signed payload hashes), signs each with botocore (clock mocked to the same second) and
with lagwatch (sigv4_driver: sigv4_sign_for_http with a shared key cache), and fails on any
difference in Authorization, X-Amz-Date or the security token.

Usage: sigv4_botocore.py DRIVER [COUNT] [SEED]
"""
import datetime
import hashlib
import json
import random
import subprocess
import sys
from unittest import mock
from urllib.parse import quote

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]
HOSTS = [
    "monitoring.us-east-1.amazonaws.com",
    "sts.amazonaws.com",
    "rds.eu-west-1.amazonaws.com",
    "127.0.0.1:5000",
    "localhost:8080",
    "example.com:8443",
    "[::1]:9000",
]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1", "sa-east-1"]
SERVICES = ["monitoring", "sts", "rds", "logs", "execute-api", "kafka", "service"]
# Path pieces as they appear on the wire: raw reserved characters, raw UTF-8, escapes in both
# cases, broken escapes; never a raw '?' or '#' (they would end the path).
PATH_PIECES = (
    list("abcXYZ019-._~")
    + list("!$&'()*+,;=:@")
    + [" ", "%20", "%2F", "%25", "%e1%88%b4", "%E1%88%B4", "%3F", "%23", "%", "%zz"]
    + ["é", "ሴ", "😀", "[", "]", '"', "<", ">", "^", "`", "{", "|", "}", "\\"]
)
TEXT_CHARS = (
    list("abcdefXYZ0123456789-._~")
    + list("!$&'()*+,;=:@/?#[]% \"<>^`{|}\\")
    + ["é", "ß", "ሴ", "😀", "€"]
)
HEADER_NAMES = [
    "X-Custom",
    "x-custom",
    "X-CUSTOM",
    "Content-Type",
    "X-Amz-Target",
    "X-Amz-Meta-Thing",
    "Accept",
    "Accept-Encoding",
    "Content-Encoding",
    "X-Odd_Name.1",
    "X-A~b!#$%&'*+^`|",
    "User-Agent",
    "X-Amzn-Trace-Id",
    "Connection",
    "Expect",
    "Transfer-Encoding",
]
NEVER_SIGNED = {
    "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
}
VALUE_WORDS = ["a", "value", "VALUE", "x=1", "\"quoted\"", "é", "ሴ", "1,2", ";", "~!@$%^&*()"]
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
CRED_POOL = [
    {"akid": "AKIDEXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
    {"akid": "ASIAEXAMPLE2", "secret": "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"},
    {"akid": "AKIAEXAMPLE3", "secret": "a"},
]


def rand_text(rng, lo, hi):
    return "".join(rng.choice(TEXT_CHARS) for _ in range(rng.randint(lo, hi)))


def wire_encode(rng, s):
    """Encode s for a query string, as a client might: '&', '=', '%', '#', space and non-ASCII
    always escaped (hex in either case), other reserved characters sometimes left raw."""
    out = []
    for ch in s:
        must = ch in "&=%#+ " or ord(ch) > 127 or not ch.isprintable()
        if ch == "+" and rng.random() < 0.5:
            must = False  # a raw '+' is a literal plus for SigV4
        if must or (ch not in "-._~" and not ch.isalnum() and rng.random() < 0.5):
            esc = quote(ch, safe="")
            if esc == ch:
                esc = "%%%02X" % ord(ch)
            out.append(esc.lower() if rng.random() < 0.3 else esc)
        else:
            out.append(ch)
    return "".join(out)


def gen_request(rng, features):
    method = rng.choice(METHODS)
    host = rng.choice(HOSTS)
    if ":" in host.rsplit("]", 1)[-1]:
        features["port"] += 1
    segs = []
    for _ in range(rng.randint(0, 6) if rng.random() < 0.95 else rng.randint(30, 60)):
        r = rng.random()
        if r < 0.12:
            segs.append(".")
            features["dot"] += 1
        elif r < 0.24:
            segs.append("..")
            features["dot"] += 1
        elif r < 0.32:
            segs.append("")
        else:
            segs.append("".join(rng.choice(PATH_PIECES) for _ in range(rng.randint(1, 5))))
    path = "/" + "/".join(segs) + ("/" if segs and rng.random() < 0.3 else "")
    if any(ord(c) > 127 for c in path):
        features["unicode_path"] += 1

    params, wire = [], []
    keys_pool = [rand_text(rng, 0, 6) for _ in range(3)]
    for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8]) if rng.random() < 0.95 else 40):
        k = rng.choice(keys_pool) if rng.random() < 0.4 else rand_text(rng, 0, 8)
        v = rand_text(rng, 0, 10) if rng.random() < 0.8 else ""
        params.append((k, v))
        if v == "" and k != "" and rng.random() < 0.5:  # "k" == "k="; but "" is no parameter
            wire.append(wire_encode(rng, k))
        else:
            wire.append(wire_encode(rng, k) + "=" + wire_encode(rng, v))
    if len({k for k, _ in params}) < len(params):
        features["repeated_key"] += 1
    if any(ord(c) > 127 for k, v in params for c in k + v):
        features["unicode_query"] += 1
    query = "&".join(wire) if params else (None if rng.random() < 0.5 else "")

    headers = []
    for _ in range(rng.choice([0, 1, 2, 3, 5]) if rng.random() < 0.95 else 40):
        name = rng.choice(HEADER_NAMES)
        words = [rng.choice(VALUE_WORDS) for _ in range(rng.randint(0, 4))]
        seps = [rng.choice([" ", "  ", "\t", " \t ", "\r\n ", "\n\t"]) for _ in words]
        value = "".join(w + s for w, s in zip(words, seps))
        if rng.random() < 0.5:
            value = rng.choice(["", " ", "  ", "\t"]) + value
            features["ws_value"] += 1
        if "\n" in value:
            features["folded"] += 1
        headers.append([name, value])
        if rng.random() < 0.2:
            headers.append([name.swapcase(), rng.choice(VALUE_WORDS)])
            features["dup_header"] += 1

    r = rng.random()
    if r < 0.35:
        body = b""
    elif r < 0.65:
        body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
        features["binary_body"] += 1
    else:
        body = json.dumps({"k": rand_text(rng, 0, 40)}).encode()

    token = None
    if rng.random() < 0.5:
        token = "".join(rng.choice(B64) for _ in range(rng.randint(16, 400)))
        features["token"] += 1
    if rng.random() < 0.6:  # the agent's case: few credentials, few days -> cached keys
        creds = dict(rng.choice(CRED_POOL))
        creds["time"] = rng.choice([1764288000, 1764374400]) + rng.randint(0, 86399)
        creds["region"], creds["service"] = rng.choice([("us-east-1", "monitoring"),
                                                        ("eu-west-1", "sts")])
    else:
        creds = {
            "time": rng.randint(946684800, 2082758399),  # 2000 .. 2035
            "akid": rng.choice(["AKIA", "ASIA"])
            + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
            "secret": "".join(rng.choice(B64[:-1]) for _ in range(40)),
            "region": rng.choice(REGIONS),
            "service": rng.choice(SERVICES),
        }
    sign_sha = rng.random() < 0.3
    if sign_sha:
        features["sign_sha256"] += 1
    elif rng.random() < 0.15:  # the caller's own payload hash (S3 style) is signed as given
        # (botocore takes this value untrimmed, lagwatch trimmed as the server will see it:
        # the generator sends no surrounding whitespace here)
        headers.append(["X-Amz-Content-SHA256",
                        rng.choice(["UNSIGNED-PAYLOAD", hashlib.sha256(body).hexdigest()])])
        features["caller_payload_hash"] += 1
    if len(headers) > 32 or len(params) > 32 or len(segs) > 32:
        features["many_parts"] += 1
    return {
        "method": method,
        "host": host,
        "path": path,
        "query": query,
        "params": params,
        "headers": headers,
        "body": body,
        **creds,
        "token": token,
        "sign_sha256": sign_sha,
    }


def botocore_sign(c):
    creds = Credentials(c["akid"], c["secret"], c["token"])
    auth = botocore.auth.SigV4Auth(creds, c["service"], c["region"])
    req = AWSRequest(method=c["method"], url="https://" + c["host"] + c["path"], data=c["body"],
                     params=c["params"])
    for name, value in c["headers"]:
        req.headers[name] = value  # HTTPHeaders keeps duplicates
    if c["sign_sha256"]:
        req.headers["X-Amz-Content-SHA256"] = hashlib.sha256(c["body"]).hexdigest()
    when = datetime.datetime.fromtimestamp(c["time"], datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        auth.add_auth(req)
    got = {
        "authorization": req.headers["Authorization"],
        "amz_date": req.headers["X-Amz-Date"],
        "security_token": req.headers.get("X-Amz-Security-Token"),
    }
    del req.headers["Authorization"]
    got["canonical_request"] = auth.canonical_request(req)
    return got


def main():
    driver = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20261128
    rng = random.Random(seed)
    features = {k: 0 for k in ["port", "dot", "unicode_path", "repeated_key", "unicode_query",
                               "ws_value", "folded", "dup_header", "binary_body", "token",
                               "sign_sha256", "caller_payload_hash", "many_parts"]}
    cases = [gen_request(rng, features) for _ in range(count)]
    lines = []
    for c in cases:
        d = {k: v for k, v in c.items() if k not in ("params", "body")}
        d["body_hex"] = c["body"].hex()
        lines.append(json.dumps(d))
    proc = subprocess.run([driver], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        print("driver failed:", proc.stderr)
        return 1
    print(proc.stderr.strip())
    hits = int(proc.stderr.split("key cache ")[1].split(" hits")[0])
    if hits < count // 10:
        print(f"only {hits} key cache hits: the cached-key path was not exercised")
        return 1
    ours = [json.loads(line) for line in proc.stdout.splitlines()]
    if len(ours) != len(cases):
        print(f"driver answered {len(ours)} of {len(cases)} requests")
        return 1
    diffs = 0
    for i, (c, o) in enumerate(zip(cases, ours)):
        b = botocore_sign(c)
        want_sha = hashlib.sha256(c["body"]).hexdigest() if c["sign_sha256"] else None
        ok = ("error" not in o and o["authorization"] == b["authorization"]
              and o["staged_authorization"] == b["authorization"]
              and o["amz_date"] == b["amz_date"] and o["security_token"] == b["security_token"]
              and o["content_sha256"] == want_sha)
        if not ok:
            diffs += 1
            if diffs <= 5:
                print(f"--- difference in request {i} (seed {seed}):")
                print(json.dumps({k: v for k, v in c.items() if k not in ("secret", "body")},
                                 ensure_ascii=False))
                print("lagwatch:", o.get("error") or o.get("authorization"))
                print("botocore:", b["authorization"])
                print("lagwatch canonical request:\n" + str(o.get("canonical_request")))
                print("botocore canonical request:\n" + b["canonical_request"])
    print(f"{count} randomised requests (seed {seed}), {diffs} differences; coverage: "
          + ", ".join(f"{k}={v}" for k, v in features.items()))
    low = [k for k, v in features.items() if v < count // 50]
    if low:
        print("generator did not exercise enough of:", ", ".join(low))
        return 1
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
