"""`docsvc worker` and `docsvc batch submit | status`."""
from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path


def add_commands(sub) -> None:
    p = sub.add_parser("worker", help="run a job queue worker (Celery) with the service's settings")
    p.add_argument("--concurrency", type=int, help="worker processes (default: DOCSVC_WORKERS or one per core)")
    p.add_argument("--name", help="worker name, unique per machine (default: docsvc-<pid>@<host>)")
    p.set_defaults(func=worker)
    p = sub.add_parser("batch", help="submit a batch (one JSON payload per line) or show its status")
    p.add_argument("action", choices=["submit", "status"])
    p.add_argument("target", help="submit: FILE.jsonl; status: the batch id")
    p.add_argument("--duplex", action="store_true", help="print file: each document starts on a recto")
    p.add_argument("--order", choices=["as_given", "buyer", "number"], default="as_given")
    p.add_argument("--separator", action="store_true", help="print file: a separator sheet before each document")
    p.add_argument("--wait", action="store_true", help="show progress until the batch is done")
    p.add_argument("-o", "--output", help="with --wait: save the print file there")
    p.add_argument("--url", default=os.environ.get("DOCSVC_API_URL", "http://127.0.0.1:8000"),
                   help="the service (DOCSVC_API_URL)")
    p.add_argument("--token", default=os.environ.get("DOCSVC_API_TOKEN"), help="API key (DOCSVC_API_TOKEN)")
    p.set_defaults(func=batch)


def worker(args) -> int:
    from .. import logs
    from ..app import create_app
    from ..cli import _settings
    from .queue import QUEUE

    settings = _settings()
    if not settings.redis_url:
        print("docsvc worker: set DOCSVC_REDIS_URL=redis://host:port/db (the queue the service sends to)",
              file=sys.stderr)
        return 2
    app = create_app(settings)
    from .store import JobStore

    app.extensions["docsvc.jobs"] = JobStore(settings.redis_url, settings.print_expiry_days, patient=True)
    celery_app = app.extensions["celery"]
    concurrency = args.concurrency or settings.workers or os.cpu_count() or 1
    name = args.name or f"docsvc-{os.getpid()}@%h"
    logs.say(f"docsvc: worker {name} with {concurrency} process(es) on {_redacted(settings.redis_url)} "
             f"(archive {settings.archive_url})", stream=sys.stderr)  # JSON, like every other line
    celery_app.worker_main(["worker", "--loglevel", settings.log_level, "--concurrency", str(concurrency),
                            "--pool", "prefork", "--hostname", name, "--queues", QUEUE,
                            "--without-gossip", "--without-mingle"])
    return 0


def _redacted(url: str) -> str:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    return url.replace(parsed.password, "***") if parsed.password else url


def _call(args, method: str, path: str, body=None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    data = json.dumps(body, default=str).encode() if body is not None else None
    request = urllib.request.Request(args.url.rstrip("/") + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _problem(status: int, body: bytes) -> str:
    try:
        problem = json.loads(body)
        lines = [f"{status} {problem.get('title')}: {problem.get('detail')}"]
        lines += [f"  {path}: {'; '.join(messages)}" for path, messages in (problem.get("errors") or {}).items()]
        return "\n".join(lines)
    except ValueError:
        return f"HTTP {status}"


def progress_line(batch: dict, width: int = 30) -> str:
    counts = batch["counts"]
    total = sum(counts.values())
    finished = total - counts["queued"]
    filled = width * finished // total if total else width
    return (f"[{'#' * filled}{'-' * (width - filled)}] {finished}/{total}  done {counts['done']}  "
            f"refused {counts['refused']}  failed {counts['failed']}  {batch['state']}")


def batch(args) -> int:
    if args.action == "status":
        status, body = _call(args, "GET", f"/v1/batches/{args.target}")
        if status != 200:
            print(f"docsvc batch status: {_problem(status, body)}", file=sys.stderr)
            return 2
        return _report(json.loads(body))
    try:
        documents = [json.loads(line, parse_float=Decimal)
                     for line in Path(args.target).read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        print(f"docsvc batch submit: cannot read {args.target}: {exc}", file=sys.stderr)
        return 2
    status, body = _call(args, "POST", "/v1/batches", {
        "documents": documents, "print": {"duplex": args.duplex, "order": args.order, "separator": args.separator}})
    if status != 202:
        print(f"docsvc batch submit: {_problem(status, body)}", file=sys.stderr)
        return 2
    current = json.loads(body)
    print(current["id"], flush=True)
    if not args.wait:
        return 0
    while True:
        print("\r" + progress_line(current), end="", file=sys.stderr, flush=True)
        if current["state"] == "done":
            print(file=sys.stderr)
            break
        time.sleep(0.5)
        status, body = _call(args, "GET", f"/v1/batches/{current['id']}")
        if status != 200:
            print(f"\ndocsvc batch submit: {_problem(status, body)}", file=sys.stderr)
            return 2
        current = json.loads(body)
    if args.output and current["print"]:
        status, body = _call(args, "GET", f"/v1/batches/{current['id']}/print.pdf")
        if status == 200:
            Path(args.output).write_bytes(body)
            print(f"print file: {args.output} ({current['print']['pages']} pages)", file=sys.stderr)
    return _report(current)


def _report(batch: dict) -> int:
    """One line per document that was not issued; exit 1 if any."""
    print(progress_line(batch), file=sys.stderr)
    for doc in batch["documents"]:
        if doc["status"] not in (None, 200, 201):
            errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in (doc["errors"] or {}).items())
            print(f"  #{doc['index']} {doc['number']}: {doc['status']} {errors}", file=sys.stderr)
    return 1 if batch["counts"]["refused"] or batch["counts"]["failed"] else 0
