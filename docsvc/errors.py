"""Errors the use cases raise; api/errors.py turns each into problem+json."""
from __future__ import annotations


class ServiceError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidPayload(ServiceError):
    status = 422
    title = "Invalid payload"
    slug = "invalid-payload"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None):
        super().__init__(detail or f"{len(errors)} field(s) are invalid or missing: {', '.join(sorted(errors))}.",
                         errors=errors)
        self.errors = errors


class Forbidden(ServiceError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class Conflict(ServiceError):
    status = 409
    title = "An original already exists"
    slug = "conflict"


class DocumentNotFound(ServiceError):
    status = 404
    title = "Not found"
    slug = "not-found"


class StorageUnavailable(ServiceError):
    status = 503
    title = "Archive unavailable"
    slug = "archive-unavailable"
