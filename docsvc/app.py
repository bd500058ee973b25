"""create_app(settings): the object graph from bootstrap, the blueprints on it. Nothing else."""
from __future__ import annotations

from flask import Flask

from . import logs
from .api import archive as archive_api
from .api import batches, documents, errors, guard, ops, templates
from .api.openapi import build_spec
from .api.routes import undeclared
from .archive import Archive
from .bootstrap import Services, bootstrap
from .jobs import install as install_jobs
from .settings import Settings


def create_app(settings: Settings | None = None, *, archive: Archive | None = None,
               services: Services | None = None) -> Flask:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    app = Flask("docsvc")
    # no redirect from a path with "//" or without its "/": werkzeug's would be a 308 whose
    # Location echoes the request's Host header (an attacker's review); such paths are 404
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    services = services or bootstrap(settings, archive)
    app.extensions["docsvc"] = services
    app.extensions["docsvc.limiter"] = guard.install(app, services.keys, services.audit, settings)
    ops.install_metrics(app, services.metrics)
    if settings.test_faults:
        app.add_url_rule("/_test/fault", "test_fault", ops.fault)
    for blueprint in (documents.bp, archive_api.bp, templates.bp, ops.bp, batches.bp):
        app.register_blueprint(blueprint)
    install_jobs(app, settings)  # batches and big documents: Celery on DOCSVC_REDIS_URL
    errors.register(app)
    if undeclared(app):  # a route without its scope would be public by omission
        raise RuntimeError(f"routes without @operation or @public: {', '.join(undeclared(app))}")
    app.extensions["docsvc.openapi"] = build_spec(app, settings)
    return app
