"""Errors the use cases raise, in the words of the domain; api/errors.py alone says which
HTTP status and problem type each one is."""
from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidPayload(ServiceError):
    """The payload (or a bundle, a parameter) is refused; `errors` maps each path to its messages."""

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None):
        super().__init__(detail or f"{len(errors)} field(s) are invalid or missing: {', '.join(sorted(errors))}.",
                         errors=errors)
        self.errors = errors


class Forbidden(ServiceError):
    """The caller may not act for this seller."""


class Conflict(ServiceError):
    """An original (or a template version) exists already and is never replaced."""


class InProgress(Conflict):
    """Another request is issuing under this number or on this quote right now: nothing was
    written for this one, which is answered with a retry (usecases/claims.py)."""


class DocumentNotFound(ServiceError):
    """No such document, file, template or fixture (or another seller's)."""


class StorageUnavailable(ServiceError):
    """The archive did not answer: nothing is confirmed written."""
