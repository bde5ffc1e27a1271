#!/usr/bin/env python3
"""Differential test: lagwatch's routing tree must send every alert to the same receivers, in the
same order, as Alertmanager's own `amtool config routes test` (Debian's prometheus-alertmanager)
for randomly generated routing trees (matchers of all four operators, the older match/match_re,
continue, nesting, inherited receivers) and random label sets.

    route_amtool_test.py ROUTE_DRIVER [SEED]
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

AMTOOL = shutil.which("amtool")
NAMES = ["severity", "team", "pipeline", "env"]
VALUES = {"severity": ["page", "warning", "info"], "team": ["data", "data-platform", "web"],
          "pipeline": ["orders", "billing", "orders-eu"], "env": ["prod", "staging"]}


def matcher(rng):
    name = rng.choice(NAMES)
    op = rng.choice(["=", "!=", "=~", "!~"])
    if op in ("=~", "!~"):
        v = rng.choice(["data.*", "orders|billing", ".+", "prod", "(page|warning)", "web"])
    else:
        v = rng.choice(VALUES[name] + [""])
    return f'{name}{op}"{v}"'


def route(rng, depth, counter):
    lines = []
    r = {}
    if rng.random() < 0.7:
        counter[0] += 1
        r["receiver"] = f"r{rng.randint(0, 4)}"
    kind = rng.random()
    if kind < 0.6:
        r["matchers"] = [matcher(rng) for _ in range(rng.randint(1, 2))]
    elif kind < 0.8:
        name = rng.choice(NAMES)
        r["match"] = {name: rng.choice(VALUES[name])}
    else:
        name = rng.choice(NAMES)
        r["match_re"] = {name: rng.choice(["data.*", "orders|billing", "prod"])}
    r["continue"] = rng.random() < 0.4
    if depth < 2 and rng.random() < 0.5:
        r["routes"] = [route(rng, depth + 1, counter) for _ in range(rng.randint(1, 3))]
    return r


def dump(r, indent):
    pad = " " * indent
    out = []
    first = True
    for k, v in r.items():
        lead = pad[:-2] + "- " if first and indent >= 2 and r.get("_item") else pad
        first = False
        if k == "_item":
            continue
        if k == "routes":
            out.append(f"{pad}routes:")
            for c in v:
                c = dict(c, _item=True)
                out.extend(dump_item(c, indent + 2))
        elif k == "matchers":
            out.append(f"{pad}matchers:")
            for m in v:
                out.append(f"{pad}  - '{m}'")
        elif k in ("match", "match_re"):
            out.append(f"{pad}{k}:")
            for mk, mv in v.items():
                out.append(f"{pad}  {mk}: '{mv}'")
        elif k == "continue":
            out.append(f"{pad}continue: {'true' if v else 'false'}")
        else:
            out.append(f"{pad}{k}: {v}")
    return out


def dump_item(r, indent):
    body = dump({k: v for k, v in r.items() if k != "_item"}, indent + 2)
    if not body:
        return [" " * indent + "- {}"]
    body[0] = " " * indent + "- " + body[0].lstrip()
    return body


def config(rng):
    counter = [0]
    root = {"receiver": "default", "group_by": "[alertname]",
            "routes": [route(rng, 0, counter) for _ in range(rng.randint(1, 4))]}
    lines = ["route:"] + dump(root, 2) + ["receivers:", "  - name: default"]
    lines += [f"  - name: r{i}" for i in range(5)]
    return "\n".join(lines) + "\n"


def labelset(rng):
    ls = {n: rng.choice(VALUES[n]) for n in NAMES if rng.random() < 0.7}
    ls["alertname"] = "A"
    return " ".join(f"{k}={v}" for k, v in sorted(ls.items()))


def main():
    driver = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    if not AMTOOL:
        raise SystemExit("amtool is not installed (packaging/install-deps.sh installs "
                         "prometheus-alertmanager)")
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="lw-route-")
    checked = 0
    try:
        for c in range(12):
            cfg = config(rng)
            path = os.path.join(tmp, f"c{c}.yml")
            with open(path, "w") as f:
                f.write(cfg)
            sets = [labelset(rng) for _ in range(20)]
            ours = subprocess.run([driver, path], input="\n".join(sets) + "\n",
                                  capture_output=True, text=True, timeout=60)
            if ours.returncode != 0:
                print(cfg)
                raise SystemExit(f"route_driver failed: {ours.stderr}")
            got = ours.stdout.splitlines()
            for ls, mine in zip(sets, got):
                am = subprocess.run([AMTOOL, "config", "routes", "test", f"--config.file={path}"]
                                    + ls.split(), capture_output=True, text=True, timeout=30)
                want = am.stdout.strip()
                if am.returncode != 0 and not want:
                    print(cfg)
                    raise SystemExit(f"amtool failed: {am.stderr}")
                if want != mine:
                    print(cfg)
                    raise SystemExit(f"labels {ls}: amtool routes to '{want}', lagwatch to '{mine}'")
                checked += 1
        print(f"{checked} label sets over 12 random routing trees: same receivers as amtool")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
