"""Batch benchmark: N one-page invoices through W `docsvc worker` processes on a real Redis.

Starts redis-server, `docsvc serve` and the workers on loopback ports and a fresh archive
folder, submits one batch (duplex print file), and reports documents per second (submission
to the last document archived) and the time to the print file (submission to `done`).

Usage: python bench/batch.py [--documents 200] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import quote_example  # noqa: E402

DOCSVC = str(Path(sys.executable).with_name("docsvc"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method: str, url: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.status, response.read()


def wait_for(check, what: str, bound: float = 120):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"bench: {what} did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="docsvc-bench-batch-"))
    redis_port, http_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")}
    env.update({"DOCSVC_ARCHIVE_URL": f"file://{tmp / 'archive'}", "DOCSVC_AUTH": "disabled",
                "DOCSVC_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "DOCSVC_WORKERS": "1",
                "DOCSVC_LOG_LEVEL": "WARNING", "DOCSVC_RATE_LIMIT": "100000/second"})
    procs = [subprocess.Popen([shutil.which("redis-server"), "--port", str(redis_port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL)]
    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", redis_port), timeout=0.2).close() or True, "redis")
        procs.append(subprocess.Popen([DOCSVC, "serve", "--port", str(http_port)], env=env,
                                      stdout=open(tmp / "serve.log", "wb"), stderr=subprocess.STDOUT,
                                      start_new_session=True))
        base = f"http://127.0.0.1:{http_port}"
        wait_for(lambda: call("GET", base + "/healthz")[0] == 200, "docsvc serve")
        for i in range(args.workers):
            log = tmp / f"worker-{i}.log"
            procs.append(subprocess.Popen([DOCSVC, "worker", "--concurrency", "1", "--name", f"bench{i}@%h"],
                                          env={**env, "DOCSVC_LOG_LEVEL": "INFO"}, stdout=open(log, "wb"),
                                          stderr=subprocess.STDOUT, start_new_session=True))
            wait_for(lambda log=log: b"ready." in log.read_bytes(), f"worker {i}")
        # warm each worker child (fonts, template) so the figure is the steady state
        warm = [dict(quote_example(), number=f"W-{i:04d}") for i in range(args.workers * 2)]
        warm_id = json.loads(call("POST", base + "/v1/batches", {"documents": warm})[1])["id"]
        wait_for(lambda: json.loads(call("GET", f"{base}/v1/batches/{warm_id}")[1])["state"] == "done", "warm-up")

        documents = [dict(quote_example(), number=f"M-{i:04d}") for i in range(1, args.documents + 1)]
        started = time.perf_counter()
        status, body = call("POST", base + "/v1/batches", {"documents": documents, "print": {"duplex": True}})
        submitted = time.perf_counter() - started
        batch_id = json.loads(body)["id"]
        all_archived = None
        while True:
            batch = json.loads(call("GET", f"{base}/v1/batches/{batch_id}")[1])
            if all_archived is None and batch["counts"]["queued"] == 0:
                all_archived = time.perf_counter() - started
            if batch["state"] == "done":
                to_print = time.perf_counter() - started
                break
            time.sleep(0.05)
        status, pdf = call("GET", f"{base}/v1/batches/{batch_id}/print.pdf")
        fetched = time.perf_counter() - started
        print(f"{args.documents} one-page invoices, {args.workers} workers (1 process each), "
              f"{os.cpu_count()} cores, duplex print file")
        print(f"| measure | value |\n|---|---|\n"
              f"| POST /v1/batches answered (202) | {submitted:.2f} s |\n"
              f"| all documents archived | {all_archived:.1f} s |\n"
              f"| documents per second | {args.documents / all_archived:.1f} |\n"
              f"| print file ready (state done) | {to_print:.1f} s |\n"
              f"| print file fetched | {fetched:.1f} s ({batch['print']['pages']} pages, "
              f"{len(pdf) / 1e6:.1f} MB) |\n"
              f"| outcomes | {batch['counts']} |")
    finally:
        for proc in reversed(procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM) if proc.pid != procs[0].pid else proc.terminate()
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
