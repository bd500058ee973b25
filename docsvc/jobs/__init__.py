"""The job queue: batches and big documents on Celery workers, state in Redis, results in the archive.

`install(app, settings)` is the one call create_app makes: it wires Celery (when
DOCSVC_REDIS_URL is set), the batches/jobs blueprint and the queue's metrics.
"""
from __future__ import annotations

from flask import Flask


def install(app: Flask, settings) -> None:
    from ..api import batches

    if settings.redis_url:
        from .metrics import QueueCollector
        from .queue import celery_init_app
        from .store import JobStore

        celery_init_app(app, settings)
        store = JobStore(settings.redis_url, settings.print_expiry_days)
        app.extensions["docsvc.jobs"] = store
        registry = getattr(app.extensions.get("docsvc.metrics"), "registry", None)
        if registry is not None:
            registry.register(QueueCollector(store))
    app.register_blueprint(batches.bp)
