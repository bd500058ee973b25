"""Prometheus metrics, one view across every gunicorn worker.

Under `docsvc serve`, PROMETHEUS_MULTIPROC_DIR names a folder emptied at start; each
worker writes its samples there (prometheus_client's multiprocess mode) and /metrics
adds them up, so a scrape answered by any worker counts every worker, including the ones
gunicorn has since replaced. Without it (tests, `flask run`), each app has its own registry.
"""
from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    def __init__(self):
        # imported here: prometheus_client picks its storage (per process or multiprocess
        # files) when first imported, which `docsvc serve` must follow, not precede
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.collectors = []  # read at scrape time (the job queue's, from Redis): in both modes
        r = self.registry
        self.requests = Counter("docsvc_http_requests", "HTTP requests by endpoint and status",
                                ["endpoint", "status"], registry=r)
        self.latency = Histogram("docsvc_http_request_seconds", "Request duration", ["endpoint"], registry=r,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.refusals = Counter("docsvc_refusals", "Requests refused (4xx), by problem type", ["reason"], registry=r)
        self.render_seconds = Histogram("docsvc_render_seconds", "Rendering one file", ["format", "template"],
                                        registry=r, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.pages = Histogram("docsvc_rendered_pages", "Pages per rendered PDF", ["format", "template"],
                               registry=r, buckets=(1, 2, 3, 5, 10, 20, 50, 100, 500))
        self.output_bytes = Histogram("docsvc_output_bytes", "Size of each rendered file", ["format"], registry=r,
                                      buckets=(10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 20_000_000))
        self.archive_seconds = Histogram("docsvc_archive_seconds", "Archive calls", ["operation"], registry=r,
                                         buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

    def rendered(self, fmt: str, template: str, seconds: float, data: bytes) -> None:
        self.render_seconds.labels(fmt, template).observe(seconds)
        self.output_bytes.labels(fmt).observe(len(data))
        if data.startswith(b"%PDF"):
            self.pages.labels(fmt, template).observe(pdf_pages(data))

    def add_collector(self, collector) -> None:
        """A collector that reads shared state itself (Redis), so it must not be summed per
        worker: registered here and on the registry each multiprocess scrape builds."""
        self.registry.register(collector)
        self.collectors.append(collector)

    def exposition(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest

        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            for collector in self.collectors:
                registry.register(collector)
            return generate_latest(registry)
        return generate_latest(self.registry)


def pdf_pages(data: bytes) -> int:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


class TimedArchive:
    """The archive, with put/get/head timed; everything else passes through unchanged."""

    def __init__(self, archive, metrics: Metrics):
        self._archive = archive
        self._seconds = metrics.archive_seconds

    def _timed(self, operation: str, fn, *args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self._seconds.labels(operation).observe(time.perf_counter() - started)

    def put_once(self, *args, **kwargs):
        return self._timed("put", self._archive.put_once, *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._timed("get", self._archive.get, *args, **kwargs)

    def head(self, *args, **kwargs):
        return self._timed("head", self._archive.head, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._archive, name)


def prepare_multiprocess_dir() -> tuple[Path, bool]:
    """Before prometheus_client is imported: the operator's PROMETHEUS_MULTIPROC_DIR emptied of
    an earlier run's samples, or a fresh folder of our own. Returns (folder, ours)."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
    else:
        folder = Path(tempfile.mkdtemp(prefix="docsvc-metrics-"))
        os.environ[MULTIPROC_ENV] = str(folder)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported already (by a library): switch its storage now
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return folder, given is None


def gunicorn_hooks() -> dict:
    """A dead worker's live gauges are dropped; its counters stay in the totals."""
    def child_exit(server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    return {"child_exit": child_exit}


def cleanup(folder: Path, ours: bool, owner_pid: int) -> None:
    """Remove our own folder, in the arbiter only (workers unwind through the same code)."""
    if ours and os.getpid() == owner_pid:
        shutil.rmtree(folder, ignore_errors=True)
