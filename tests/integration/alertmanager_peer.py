"""alertmanager_peer.py — a real Alertmanager (Debian's prometheus-alertmanager) on loopback for
the integration tests: started with a config, no clustering, on a free port, stopped for sure."""
import os
import sys
import shutil
import subprocess
import time
import urllib.request
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "standins"))
from cdc_env import free_port  # noqa: E402  (tests/standins)

AM = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")



def start(tmp, name, config_text, timeout_s=30):
    """Start one Alertmanager with config_text; returns (process, base URL) once it is ready.
    The port can be taken between free_port() and the bind while ctest runs tests in parallel:
    an Alertmanager that exits early is started again on a new port."""
    for attempt in range(3):
        try:
            return _start_once(tmp, name, config_text, timeout_s)
        except RuntimeError:
            if attempt == 2:
                raise SystemExit(f"Alertmanager {name} exited at start three times")


def _start_once(tmp, name, config_text, timeout_s):
    if not AM:
        raise SystemExit("prometheus-alertmanager is not installed (packaging/install-deps.sh)")
    port = free_port()
    cfg = os.path.join(tmp, f"{name}.yml")
    with open(cfg, "w") as f:
        f.write(config_text)
    p = subprocess.Popen([AM, f"--config.file={cfg}", f"--storage.path={tmp}/{name}-data",
                          f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                          "--log.level=warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    end = time.time() + timeout_s
    while True:
        try:
            urllib.request.urlopen(base + "/-/ready", timeout=2).read()
            return p, base
        except Exception:
            if p.poll() is not None:
                raise RuntimeError("exited early")
            if time.time() > end:
                stop([p])
                raise SystemExit(f"Alertmanager {name} did not become ready")
            time.sleep(0.2)


def stop(procs):
    """Terminate, then kill what does not stop within five seconds."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
