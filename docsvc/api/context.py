"""What a view reaches: the process's services, and the document resource as the API
shows it (the HTTP layer alone knows URLs)."""
from __future__ import annotations

from typing import Any, cast

from flask import current_app

from ..bootstrap import Services
from ..schemas.resources import DocumentResourceSchema
from ..usecases.results import Resource


def services() -> Services:
    return cast(Services, current_app.extensions["docsvc"])


def file_url(doc_id: str, fmt: str) -> str:
    return f"/v1/documents/{doc_id}/files/{fmt}"


def document_url(doc_id: str) -> str:
    return f"/v1/documents/{doc_id}"


def with_urls(resource: Resource) -> dict[str, Any]:
    """The resource with each file's URL (resources archived before 2026-12 carry it already)."""
    return {**resource, "files": [{**f, "url": file_url(resource["id"], f["format"])} for f in resource["files"]]}


def resource_json(resource: Resource) -> dict[str, Any]:
    """The resource as GET /v1/documents/{id} answers it."""
    dumped: dict[str, Any] = DocumentResourceSchema().dump(with_urls(resource))
    return dumped
