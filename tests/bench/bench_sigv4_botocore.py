#!/usr/bin/env python3
"""bench_sigv4_botocore.py — botocore's side of bench_sigv4: signs the same request with
SigV4Auth.add_auth for about SECONDS seconds and prints "<signatures per second>".

Usage: bench_sigv4_botocore.py SECONDS HOST TARGET BODY_HEX TOKEN
"""
import sys
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    seconds = float(sys.argv[1])
    host, target, body, token = sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4]), sys.argv[5]
    creds = Credentials("ASIAEXAMPLEEXAMPLE12", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    auth = SigV4Auth(creds, "monitoring", "us-east-1")
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": target,
        "Accept": "application/json",
    }
    n = 0
    start = time.perf_counter()
    while True:
        for _ in range(100):
            req = AWSRequest(method="POST", url="https://" + host + "/", data=body,
                             headers=headers)
            auth.add_auth(req)
        n += 100
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    print(f"{n / elapsed:.0f}")


if __name__ == "__main__":
    main()
