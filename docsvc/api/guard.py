"""Every request: a request id, a JSON log line, the caller's key and scope, a rate limit,
and an audit event for what an auditor will ask about. The token itself is never logged."""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from werkzeug.exceptions import HTTPException

from ..access import ApiKey
from .errors import problem

log = logging.getLogger("docsvc.access")

#: endpoint -> scope it needs; endpoints absent here are public (health, docs, the designer page).
SCOPES = {
    "documents.issue_document": "documents:write",
    "documents.validate_document": "documents:write",
    "archive.get_document": "documents:read",
    "archive.get_file": "documents:read",
    "archive.search_documents": "documents:read",
    "archive.quote_documents": "documents:read",
    "archive.verify_document": "documents:read",
    "templates.list_templates": "templates:read",
    "templates.get_template": "templates:read",
    "templates.get_template_version": "templates:read",
    "templates.preview": "templates:read",
    "templates.list_fixtures": "templates:read",
    "templates.get_fixture": "templates:read",
    "templates.publish_template": "templates:write",
    "ops.metrics": "admin",
}
#: endpoint -> audited action
AUDITED = {"documents.issue_document": "issue", "archive.get_document": "read", "archive.get_file": "read",
           "archive.verify_document": "verify", "templates.publish_template": "publish"}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
ANONYMOUS = ApiKey("anonymous (auth disabled)", ("admin",), ("*",), "", "")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname.lower(),
                "logger": record.name, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, ensure_ascii=False)


def install(app: Flask, keys, audit, settings) -> Limiter:
    def caller_id() -> str:
        key = getattr(g, "key", None)
        return f"key:{key.name}" if key is not None else f"ip:{request.remote_addr}"

    limiter = Limiter(caller_id, app=app, default_limits=[settings.rate_limit], headers_enabled=False,
                      storage_uri=settings.redis_url or "memory://", strategy="fixed-window")

    @app.before_request
    def identify():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope = SCOPES.get(request.endpoint or "")
        if scope is None:
            return None
        if not settings.auth:
            g.key = ANONYMOUS
            return None
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        key = keys.authenticate(token) if token else None
        if key is None:
            return problem(401, "Unauthorized", "Send a valid API key as Authorization: Bearer <token>.",
                           "unauthorized", {"WWW-Authenticate": 'Bearer realm="docsvc"'})
        g.key = key
        if not key.allows(scope):
            return problem(403, "Forbidden", f"This key lacks the {scope} scope.", "forbidden")
        return None

    @app.after_request
    def finish(response):
        rid = getattr(g, "request_id", None) or uuid.uuid4().hex
        response.headers["X-Request-Id"] = rid
        key = getattr(g, "key", None)
        action = AUDITED.get(request.endpoint or "")
        if action and key is not None and response.status_code != 429:
            target = (request.view_args or {}).get("doc_id") or (request.view_args or {}).get("name")
            if action == "issue" and response.is_json and response.status_code in (200, 201):
                target = response.get_json().get("id")
            try:
                audit.append(key.name, action, target, rid, str(response.status_code))
            except Exception:  # noqa: BLE001 - never lose the answer over the audit; but say so
                log.exception("audit append failed", extra={"fields": {"request_id": rid}})
        log.info("request", extra={"fields": {
            "request_id": rid, "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
            "key": key.name if key is not None else None}})
        return response

    return limiter


def allowed_sellers() -> set[str] | None:
    """The sellers the current key may act for (None: every seller)."""
    key = getattr(g, "key", None)
    return None if key is None else key.seller_filter


def retry_after(exc: HTTPException) -> str:
    limiter: Limiter = current_app.extensions["docsvc.limiter"]
    window = getattr(limiter, "current_limit", None)
    if window is not None:
        return str(max(1, int(window.reset_at - time.time())))
    return "1"
