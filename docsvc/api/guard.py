"""Every request: a request id, a JSON log line, the caller's key and scope, a rate limit,
and an audit entry for what an auditor will ask about (what succeeded: refusals are in the
logs and the metrics). The token itself is never logged.

Rate limits count an authenticated request against its key (DOCSVC_RATE_LIMIT), after the
token is checked, and a request without a valid key against the client address
(DOCSVC_RATE_LIMIT_ANONYMOUS), in a separate counter: a flood of unauthenticated requests
from one address never makes a valid key behind the same address answer 429."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import MethodNotAllowed

from ..access import ApiKey
from .errors import PROBLEM, problem
from .routes import operation_of

log = logging.getLogger("docsvc.access")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
ANONYMOUS = ApiKey("anonymous (auth disabled)", ("admin",), ("*",), "", "")


class RateLimits:
    """Fixed windows per key and per address, in this process or shared through Redis."""

    def __init__(self, settings):
        self.per_key = parse(settings.rate_limit)
        self.per_address = parse(settings.rate_limit_anonymous)
        self.storage = storage_from_string(settings.redis_url or "memory://")
        self.window = FixedWindowRateLimiter(self.storage)

    def refused(self, key) -> dict | None:
        """None when the request may go on; otherwise the 429 problem for it."""
        limit, who = ((self.per_key, f"key:{key.name}") if key is not None
                      else (self.per_address, f"address:{request.remote_addr}"))
        try:
            if self.window.hit(limit, "docsvc", who):
                return None
            reset = self.window.get_window_stats(limit, "docsvc", who).reset_time
        except Exception:  # noqa: BLE001 - an unreachable Redis must not take the service down
            log.exception("rate limit storage failed; request let through")
            return None
        scope = "this API key" if key is not None else "requests without a valid API key from this address"
        return problem(429, "Too many requests", f"Rate limit exceeded: {limit} for {scope}.", "rate-limited",
                       {"Retry-After": str(max(1, int(reset - time.time() + 0.999)))})


def install(app: Flask, keys, audit, settings) -> RateLimits:
    limits = RateLimits(settings)

    @app.before_request
    def identify():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        if request.method == "OPTIONS":  # Flask's own answer is an empty HTML 200; no CORS is offered
            raise MethodNotAllowed(description="OPTIONS is not offered: the API is called from the same origin "
                                               "or from servers.")
        declared = operation_of(app, request.endpoint)
        scope = declared.scope if declared is not None else None
        if scope is None:  # public: health, docs, designer page, unknown paths
            return None if declared is not None and not declared.rate_limited else limits.refused(None)
        if not settings.auth:
            g.key = ANONYMOUS
            return limits.refused(ANONYMOUS)
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        key = keys.authenticate(token) if token else None
        if key is None:
            return limits.refused(None) or problem(
                401, "Unauthorized", "Send a valid API key as Authorization: Bearer <token>.",
                "unauthorized", {"WWW-Authenticate": 'Bearer realm="docsvc"'})
        g.key = key
        refused = limits.refused(key)
        if refused is not None:
            return refused
        if not key.allows(scope):
            return problem(403, "Forbidden", f"This key lacks the {scope} scope.", "forbidden")
        return None

    @app.after_request
    def finish(response):
        rid = getattr(g, "request_id", None) or uuid.uuid4().hex
        response.headers["X-Request-Id"] = rid
        key = getattr(g, "key", None)
        declared = operation_of(app, request.endpoint)
        action = declared.audit if declared is not None else None
        if action and key is not None and 200 <= response.status_code < 300:  # refusals: logs and metrics
            target = (request.view_args or {}).get("doc_id") or (request.view_args or {}).get("name")
            if action == "issue" and response.is_json and response.status_code in (200, 201):
                target = response.get_json().get("id")
            try:
                audit.append(key.name, action, target, rid, str(response.status_code))
            except Exception:  # noqa: BLE001 - never lose the answer over the audit; but say so
                log.exception("audit append failed", extra={"fields": {"request_id": rid}})
        fields = {
            "request_id": rid, "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
            "key": key.name if key is not None else None}
        if response.status_code >= 400 and response.mimetype == PROBLEM:  # why it was refused, in a word
            fields["problem"] = str((response.get_json(silent=True) or {}).get("type", "")).rsplit("/", 1)[-1]
        log.info("request", extra={"fields": fields})
        return response

    return limits


def allowed_sellers() -> set[str] | None:
    """The sellers the current key may act for (None: every seller)."""
    key = getattr(g, "key", None)
    return None if key is None else key.seller_filter

