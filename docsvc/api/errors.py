"""Every error leaves as RFC 9457 problem+json; no stack trace or library message leaks."""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..archive import ArchiveUnavailable
from ..errors import Conflict, DocumentNotFound, Forbidden, InProgress, InvalidPayload, ServiceError, StorageUnavailable

log = logging.getLogger("docsvc")

PROBLEM = "application/problem+json"
TYPE_BASE = "https://docsvc.dev/problems/"


#: The domain's errors as HTTP: status, title, problem type.
PROBLEMS: dict[type[ServiceError], tuple[int, str, str]] = {
    InvalidPayload: (422, "Invalid payload", "invalid-payload"),
    Forbidden: (403, "Forbidden", "forbidden"),
    Conflict: (409, "An original already exists", "conflict"),
    InProgress: (409, "Being issued by another request", "in-progress"),
    DocumentNotFound: (404, "Not found", "not-found"),
    StorageUnavailable: (503, "Archive unavailable", "archive-unavailable"),
}


class HttpProblem(ServiceError):
    """An error only the HTTP layer raises (the job queue's), carrying its own status."""

    status = 500
    title = "Internal error"
    slug = "internal"


def problem_of(exc: ServiceError) -> tuple[int, str, str]:
    """Status, title and problem type of an error (its nearest mapped class)."""
    if isinstance(exc, HttpProblem):
        return exc.status, exc.title, exc.slug
    for cls in type(exc).__mro__:
        if cls in PROBLEMS:
            return PROBLEMS[cls]
    return 500, "Internal error", "internal"


def problem(status: int, title: str, detail: str, slug: str, headers: dict | None = None, **extra):
    body = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class BadRequestBody(HTTPException):
    """A body that is not JSON of the right shape (415) or not JSON at all (400)."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code = code


#: What a client is told when the archive fails; the reason (a folder, a bucket, an
#: endpoint) goes to the log only.
UNAVAILABLE = ("The archive did not accept or answer this request; nothing is confirmed archived. "
               "Retry the same request later: it finds what was written and never duplicates it.")
RETRY_AFTER = "5"


def archive_failed(reason: str):
    """The 503 for an archive failure, its reason logged with the request id."""
    log.error("archive unavailable: %s", reason,
              extra={"fields": {"request_id": g.get("request_id"), "reason": reason}})
    return problem(503, "Archive unavailable", UNAVAILABLE, "archive-unavailable", {"Retry-After": RETRY_AFTER})


def register(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if isinstance(exc, StorageUnavailable):
            return archive_failed(exc.detail)
        status, title, slug = problem_of(exc)
        # the job queue's 503, and a document being issued by another request: retry
        headers = {"Retry-After": RETRY_AFTER} if status == 503 or isinstance(exc, InProgress) else None
        return problem(status, title, exc.detail, slug, headers, **exc.extra)

    @app.errorhandler(ArchiveUnavailable)
    def archive_unavailable(exc: ArchiveUnavailable):
        """Wherever the archive failed (documents, templates, keys, audit): retry later."""
        return archive_failed(str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        slug = {413: "too-large", 415: "unsupported-media-type", 404: "not-found",
                405: "method-not-allowed", 400: "bad-request"}.get(exc.code or 500, "http-error")
        detail = exc.description or exc.name
        if exc.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            detail = f"The body exceeds DOCSVC_MAX_BODY_BYTES ({limit} bytes)."
        return problem(exc.code or 500, exc.name, detail, slug)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        """The log line says what failed and where (type, message, traceback, request id);
        the answer says only that it failed."""
        log.error("unhandled error: %s", type(exc).__name__, exc_info=exc, extra={"fields": {
            "request_id": g.get("request_id"), "method": request.method, "path": request.path,
            "endpoint": request.endpoint}})
        return problem(500, "Internal error", "The service failed; nothing was archived for this request.",
                       "internal")
