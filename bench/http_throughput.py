"""HTTP throughput: documents issued per second through a real `docsvc serve` on loopback.

Starts `docsvc serve` (DOCSVC_WORKERS workers, default one per core) on 127.0.0.1 with a
fresh filesystem archive, then for each set of formats has --clients threads (4) issue a
5-line invoice (DOMAIN.md's quote, a new number each time, a connection per request) for
--seconds (bounded: it stops then, whatever happened), and prints documents/s, latency
p50/p95 and the resident size (VmRSS) of each worker before and after. With
--memory-documents N, it then issues N more documents (PDF + DOCX) and prints each
worker's RSS every N/10 documents: flat, or recycled (gunicorn's max_requests and
DOCSVC_WORKER_MAX_RSS_MB replace workers; the pid changes).

Loopback only: the server binds 127.0.0.1 and nothing else is contacted.

Usage: python bench/http_throughput.py [--seconds 15] [--clients 4] [--lines 5]
       [--formats pdf pdf,docx pdf,facturx pdf,docx,facturx] [--memory-documents 0]
       [--env DOCSVC_RULES_PROCESS=0 ...] [--readme README.md]
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.readme import write_block  # noqa: E402
from bench.render import load, machine  # noqa: E402
from bench.worker_memory import rss_mb, workers  # noqa: E402
from tests.conftest import quote_example  # noqa: E402

TOKEN = "bench-admin-token-" + "0" * 32
NUMBERS = itertools.count(1)


def invoice(lines: int, formats: list[str]) -> bytes:
    raw = quote_example()
    raw["number"] = f"B-{next(NUMBERS):06d}"
    raw["lines"] = [dict(raw["lines"][i % 3]) for i in range(lines)]
    raw["formats"] = formats
    return json.dumps(raw).encode()


class Client:
    """A connection per request (Connection: close). Kept-alive connections stay with the
    worker that accepted them: 4 clients on 2 workers then often land 3 and 1, or 4 and 0,
    and the figure says more about that draw than about the server (--keep-alive shows it)."""

    def __init__(self, port: int, keep_alive: bool = False):
        self.port = port
        self.keep_alive = keep_alive
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> int:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            try:
                self.conn.request("POST", "/v1/documents", body, {
                    "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}",
                    "Connection": "keep-alive" if self.keep_alive else "close"})
                response = self.conn.getresponse()
                response.read()
                if not self.keep_alive or response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def run(port: int, clients: int, seconds: float, lines: int, formats: list[str], limit: int | None = None,
        keep_alive: bool = False):
    """Issue documents from `clients` threads for `seconds` (or `limit` documents)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    left = [limit] if limit is not None else None

    def client():
        c = Client(port, keep_alive)
        while time.monotonic() < stop:
            if left is not None:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
            body = invoice(lines, formats)
            t0 = time.perf_counter()
            try:
                status = c.post(body)
            except OSError:
                status = 0
            with lock:
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return elapsed, latencies, statuses


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def rss(master: int) -> str:
    """Each worker's RSS, and beside it its own processes' (the rules' process, multiprocessing's
    resource tracker, the parts' processes): Saxon lives in the rules' process (issue 16)."""
    sizes = []
    for pid in sorted(workers(master)):
        children = [rss_mb(child) for child in workers(pid)]
        beside = f" (+ {sum(children):.0f} MB in {len(children)} of its own)" if children else ""
        sizes.append(f"{pid}: {rss_mb(pid):.0f} MB{beside}")
    return ", ".join(sizes)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15, help="per set of formats")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None, help="DOCSVC_WORKERS (default: one per core)")
    parser.add_argument("--formats", nargs="+", default=["pdf", "pdf,docx", "pdf,facturx", "pdf,docx,facturx"])
    parser.add_argument("--memory-documents", type=int, default=0)
    parser.add_argument("--keep-alive", action="store_true", help="one kept-alive connection per client")
    parser.add_argument("--readme", help="also write the tables into this README's bench:http block")
    parser.add_argument("--env", action="append", default=[], metavar="DOCSVC_X=VALUE",
                        help="a setting for the server (e.g. DOCSVC_RULES_PROCESS=0); may be repeated")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tempfile.mkdtemp(prefix="docsvc-bench-http-")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")},
           "DOCSVC_ARCHIVE_URL": f"file://{tmp}/archive", "DOCSVC_ADMIN_TOKEN": TOKEN,
           "DOCSVC_LOG_LEVEL": "WARNING", "DOCSVC_RATE_LIMIT": "10000/second"}
    if args.workers:
        env["DOCSVC_WORKERS"] = str(args.workers)
    env.update(setting.split("=", 1) for setting in args.env)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("docsvc")), "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    print("docsvc serve did not start", file=sys.stderr)
                    return 1
                time.sleep(0.3)
        load_before = load()
        # warm every worker: templates compiled, fonts loaded, schematrons compiled
        run(port, args.clients, 60, args.lines, ["pdf", "docx", "facturx"], limit=8 * args.clients)
        print(f"workers after warm-up: {rss(proc.pid)}", file=sys.stderr)
        for formats in args.formats:
            before = rss(proc.pid)
            elapsed, latencies, statuses = run(port, args.clients, args.seconds, args.lines, formats.split(","),
                                               keep_alive=args.keep_alive)
            issued = statuses.get(201, 0)
            rows.append((formats, issued, elapsed, issued / elapsed, percentile(latencies, 0.5) * 1000,
                         percentile(latencies, 0.95) * 1000, statuses, before, rss(proc.pid)))
            print(f"  {formats}: {issued / elapsed:.1f} documents/s", file=sys.stderr)
        memory = []
        if args.memory_documents:
            step = max(1, args.memory_documents // 10)
            done = 0
            memory.append((0, rss(proc.pid)))
            while done < args.memory_documents:
                run(port, args.clients, 3600, args.lines, ["pdf", "docx"], limit=step)
                done += step
                memory.append((done, rss(proc.pid)))
        n_workers = len(workers(proc.pid))
        lines = [f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine()}, load average {load_before} "
                 f"before and {load()} after; docsvc serve with {n_workers} workers on loopback, {args.clients} "
                 f"clients ({'kept-alive connections' if args.keep_alive else 'a connection per request'}), a "
                 f"{args.lines}-line invoice, {args.seconds:g} s per row", "",
                 "| formats | documents | documents/s | p50 ms | p95 ms | answers | worker RSS before | after |",
                 "|---|---:|---:|---:|---:|---|---|---|"]
        for formats, issued, _, rate, p50, p95, statuses, before, after in rows:
            answers = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
            lines.append(f"| {formats.replace(',', ' + ')} | {issued} | {rate:.1f} | {p50:.0f} | {p95:.0f} | "
                         f"{answers} | {before} | {after} |")
        if memory:
            lines += ["", "| documents issued (PDF + DOCX) | worker RSS (pid: MB) |", "|---:|---|"]
            lines += [f"| {done} | {sizes} |" for done, sizes in memory]
        report = "\n".join(lines)
        print("\n" + report)
        if args.readme:
            command = " ".join(["python", "bench/http_throughput.py", *sys.argv[1:]])
            write_block(Path(args.readme), "http", f"`{command}`:\n\n{report}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
