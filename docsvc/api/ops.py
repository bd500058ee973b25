"""Operators: liveness, readiness, metrics, and the API's own description."""
from __future__ import annotations

import logging
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
from prometheus_client import CONTENT_TYPE_LATEST

from ..errors import StorageUnavailable
from ..index import IndexUnavailable
from ..metrics import Metrics
from .context import services
from .errors import PROBLEM, problem
from .routes import operation, public

PROBLEM_CONTENT = {PROBLEM: {"schema": "Problem"}}

bp = Blueprint("ops", __name__)
log = logging.getLogger("docsvc")


def install_metrics(app, metrics: Metrics) -> None:
    """Every request counted by endpoint and status, timed; every refusal (4xx) counted by
    its problem type (invalid-payload, unauthorized, rate-limited...), since refusals leave
    no trace in the archive."""
    @app.before_request
    def _start():
        g._t0 = time.perf_counter()

    @app.after_request
    def _observe(response):
        endpoint = request.endpoint or "unmatched"
        metrics.requests.labels(endpoint, str(response.status_code)).inc()
        if hasattr(g, "_t0"):
            metrics.latency.labels(endpoint).observe(time.perf_counter() - g._t0)
        if 400 <= response.status_code < 500:
            reason = str(response.status_code)
            if response.mimetype == PROBLEM:
                reason = str((response.get_json(silent=True) or {}).get("type", reason)).rsplit("/", 1)[-1]
            metrics.refusals.labels(reason).inc()
        return response


@public
def fault():
    """DOCSVC_TEST_FAULTS=1 only: an unhandled exception, to show what a 500 logs."""
    raise RuntimeError("forced fault (DOCSVC_TEST_FAULTS)")


@bp.get("/healthz")
@operation(None, "Liveness", tag="operations", rate_limited=False, ok=("OK", {"type": "object"}))
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@operation(None, "Readiness: the archive is reachable", tag="operations", ok=("OK", {"type": "object"}),
           responses={"503": {"description": "Not ready", "content": PROBLEM_CONTENT}})
def readyz():
    try:
        services().ready()
    except StorageUnavailable as exc:  # the reason names folders or buckets: the log has it
        log.warning("not ready: %s", exc.detail, extra={"fields": {"reason": exc.detail}})
        return problem(503, "Not ready", "The archive is not usable right now; the service log says why.",
                       "not-ready", {"Retry-After": "5"})
    index = services().index
    try:  # the search index: named when down, credentials never shown
        index.ping()
    except IndexUnavailable as exc:
        return problem(503, "Not ready", str(exc), "not-ready", {"Retry-After": "5"})
    return jsonify({"status": "ready", "archive": services().archive.backend,
                    "index": index.name.split(" ", 1)[0]})


@bp.get("/metrics")
@operation("admin", "Prometheus metrics (admin scope)", tag="operations",
           responses={"200": {"description": "text exposition"}})
def metrics():
    return Response(services().metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)


@bp.get("/v1/openapi.json")
@public
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
@public
def docs():
    return Response(DOCS_PAGE, mimetype="text/html")


@bp.get("/docs/static/<path:name>")
@public
def docs_static(name: str):
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, name)
