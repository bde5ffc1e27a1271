#!/usr/bin/env python3
"""bench_rules_vs_promtool.py — `promtool test rules` and `lagwatch test-rules` on the same
generated unit-test file: 1,000 alerting rules (bench_rules's shapes) over SERIES input series,
10 minutes at 15 s, evaluated every 15 s up to 9 minutes. Both must pass the file's one check.

    tests/bench/bench_rules_vs_promtool.py [--build build] [--series 4000]

Prints each tool's CPU seconds, wall seconds, rule evaluations per CPU second and peak RSS, and
the ratio of CPU times. Both run as child processes, so the figures include loading the files.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

RULES = 1000
ROUNDS = 37  # evaluation at 0s, 15s, ..., 9m


def measure(cmd, cwd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest child so far: run the smaller one first or read it
    # as an upper bound.
    return p, cpu, wall, after.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--series", type=int, default=4000)
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)  # the tools run in the temporary directory
    promtool = shutil.which("promtool")
    if not promtool:
        sys.exit("promtool is not installed (packaging/install-deps.sh installs Debian's prometheus)")
    tmp = tempfile.mkdtemp(prefix="lw-bench-rules-")
    gen = subprocess.run([os.path.join(a.build, "tests/bench_rules"), "--write-promtool", tmp,
                          str(a.series)], capture_output=True, text=True)
    if gen.returncode != 0:
        sys.exit(gen.stderr)
    print(gen.stdout.strip())
    ok = True
    results = {}
    # lagwatch first: children's ru_maxrss is a running maximum, so its figure is its own.
    for name, cmd in (("lagwatch", [os.path.join(a.build, "agent/lagwatch"), "test-rules",
                                     "test.yml"]),
                      ("promtool", [promtool, "test", "rules", "test.yml"])):
        p, cpu, wall, rss = measure(cmd, tmp)
        results[name] = cpu
        evals = RULES * ROUNDS
        print(f"{name:9s} exit {p.returncode}: {cpu:7.2f} s CPU, {wall:7.2f} s wall, "
              f"{evals / cpu if cpu else 0:9.0f} rule evaluations/CPU s, peak RSS <= {rss} KiB")
        if p.returncode != 0:
            print((p.stdout + p.stderr)[-2000:])
            ok = False
    if results.get("lagwatch"):
        print(f"promtool / lagwatch CPU time: {results['promtool'] / results['lagwatch']:.1f}x")
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
