"""Operators: liveness, readiness, metrics, and the API's own description."""
from __future__ import annotations

import time

import swagger_ui_bundle
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    request,
    send_from_directory,
)
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from ..errors import StorageUnavailable
from ..index import IndexUnavailable
from .errors import problem

bp = Blueprint("ops", __name__)


class Metrics:
    """Per-process Prometheus metrics (one registry per app, so tests don't collide)."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("docsvc_http_requests", "HTTP requests", ["endpoint", "status"],
                                registry=self.registry)
        self.latency = Histogram("docsvc_http_request_seconds", "Request duration", ["endpoint"],
                                 registry=self.registry,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

    def install(self, app):
        @app.before_request
        def _start():
            g._t0 = time.perf_counter()

        @app.after_request
        def _observe(response):
            endpoint = request.endpoint or "unmatched"
            self.requests.labels(endpoint, str(response.status_code)).inc()
            if hasattr(g, "_t0"):
                self.latency.labels(endpoint).observe(time.perf_counter() - g._t0)
            return response


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    try:
        current_app.extensions["docsvc.service"].ready()
    except StorageUnavailable as exc:
        return problem(503, "Not ready", exc.detail, "not-ready", {"Retry-After": "5"})
    index = current_app.extensions.get("docsvc.index")
    if index is not None:  # the search index (issue 15): named when down, credentials never shown
        try:
            index.ping()
        except IndexUnavailable as exc:
            return problem(503, "Not ready", str(exc), "not-ready", {"Retry-After": "5"})
    return jsonify({"status": "ready", "archive": current_app.extensions["docsvc.service"].archive.backend,
                    **({"index": index.name.split(" ", 1)[0]} if index is not None else {})})


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(current_app.extensions["docsvc.metrics"].registry),
                    mimetype=CONTENT_TYPE_LATEST)


@bp.get("/v1/openapi.json")
def openapi():
    return jsonify(current_app.extensions["docsvc.openapi"])


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>docsvc API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/v1/openapi.json", dom_id: "#ui", deepLinking: true});</script>
</body></html>"""


@bp.get("/docs")
def docs():
    return Response(DOCS_PAGE, mimetype="text/html")


@bp.get("/docs/static/<path:name>")
def docs_static(name: str):
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, name)
