"""Worker memory after one big render, through a real `docsvc serve` (one worker).

Measures the worker's resident size (VmRSS from /proc/<pid>/status) at rest, right after
a preview of N lines, and which process serves afterwards: with DOCSVC_WORKER_MAX_RSS_MB
(default 512) the bloated worker is replaced by a fresh one; with a huge limit it keeps
its size for good.

Usage: python bench/worker_memory.py [--lines 10000] [--format pdf] [--max-rss-mb 512]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.render import payload  # noqa: E402
from docsvc import processes  # noqa: E402

TOKEN = "bench-admin-token-" + "0" * 32


def workers(master: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def rss_mb(pid: int) -> float:
    """docsvc's own reading (docsvc/processes.py), NaN for a process gone meanwhile."""
    mb = processes.rss_mb(pid)
    return float("nan") if mb is None else mb


def post(base: str, path: str, body: bytes, timeout: float = 900):
    req = urllib.request.Request(base + path, data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--format", default="pdf")
    parser.add_argument("--max-rss-mb", type=int, default=512)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="docsvc-bench-")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")},
           "DOCSVC_ARCHIVE_URL": f"file://{tmp}/archive", "DOCSVC_WORKERS": "1", "DOCSVC_ADMIN_TOKEN": TOKEN,
           "DOCSVC_WORKER_MAX_RSS_MB": str(args.max_rss_mb), "DOCSVC_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("docsvc")), "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        small = json.dumps({"fixture": "invoice"}).encode()
        post(base, "/v1/templates/classic/1.0.0/preview", small)
        (worker,) = workers(proc.pid)
        resting = rss_mb(worker)
        peak = [resting]
        started = time.perf_counter()
        big = json.dumps(payload(args.lines), default=str).encode()
        import threading

        done = threading.Event()

        def watch():
            while not done.wait(0.2):
                try:
                    peak.append(rss_mb(worker))
                except OSError:
                    return
        threading.Thread(target=watch, daemon=True).start()
        status, data = post(base, f"/v1/templates/classic/1.0.0/preview?format={args.format}", big)
        done.set()
        seconds = time.perf_counter() - started
        after = rss_mb(worker) if worker in workers(proc.pid) else float("nan")
        time.sleep(3)
        post(base, "/v1/templates/classic/1.0.0/preview", small)
        (now,) = workers(proc.pid)
        print(f"{args.lines} lines {args.format}: HTTP {status}, {len(data)} bytes in {seconds:.1f} s")
        print(f"worker {worker}: resting {resting:.0f} MB, peak {max(peak):.0f} MB, right after {after:.0f} MB")
        print(f"serving afterwards: {'worker ' + str(now) + ' (fresh)' if now != worker else 'the same worker'} "
              f"at {rss_mb(now):.0f} MB (DOCSVC_WORKER_MAX_RSS_MB={args.max_rss_mb})")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
