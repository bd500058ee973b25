"""Archive calls as the use cases make them: storage failures become StorageUnavailable,
absences DocumentNotFound, so no adapter exception crosses into the HTTP layer."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from ..archive import Archive, ArchiveUnavailable, NotFound, keys
from ..errors import DocumentNotFound, StorageUnavailable
from .results import Resource

T = TypeVar("T")


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except NotFound as exc:
        raise DocumentNotFound(f"Not in the archive: {exc}") from None
    except ArchiveUnavailable as exc:
        raise StorageUnavailable(str(exc)) from None


def resource_or_none(archive: Archive, doc_id: str) -> Resource | None:
    """The archived resource of a document id, or None (an id docsvc can't have written: None)."""
    if not keys.is_document_id(doc_id):
        return None
    try:
        return cast(Resource, json.loads(call(archive.get, keys.resource_key(doc_id))))
    except DocumentNotFound:
        return None


def ready(archive: Archive) -> None:
    """Readiness: the archive answers."""
    try:
        archive.ready()
    except ArchiveUnavailable as exc:
        raise StorageUnavailable(str(exc)) from None
