"""The job queue: batches and big documents on Celery workers, state in Redis, results in the archive.

`install(app, settings)` is what create_app calls: when DOCSVC_REDIS_URL is set, it wires
Celery, the job store and the queue's metrics. (The routes, api/batches.py, answer 503
without it.)
"""
from __future__ import annotations

from flask import Flask


def install(app: Flask, settings) -> None:
    if settings.redis_url:
        from .metrics import QueueCollector
        from .queue import celery_init_app
        from .store import JobStore

        celery_init_app(app, settings)
        store = JobStore(settings.redis_url, settings.print_expiry_days)
        app.extensions["docsvc.jobs"] = store
        services = app.extensions.get("docsvc")
        if services is not None:
            services.metrics.add_collector(QueueCollector(store))  # also under `docsvc serve` (multiprocess)
