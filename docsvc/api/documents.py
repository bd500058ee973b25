"""Billing systems: issue and validate documents."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..schemas.resources import DocumentResourceSchema, ValidationResultSchema
from .batches import queue_big_document
from .body import json_body
from .guard import allowed_sellers

bp = Blueprint("documents", __name__)


def service():
    return current_app.extensions["docsvc.service"]


@bp.post("/v1/documents")
def issue_document():
    body = json_body()
    queued = queue_big_document(body)  # above DOCSVC_ASYNC_LINES lines: 202 and a job
    if queued is not None:
        return queued
    resource, created = service().issue(body, allowed_sellers())
    response = jsonify(DocumentResourceSchema().dump(resource))
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/v1/documents/{resource['id']}"
    return response


@bp.post("/v1/documents/validate")
def validate_document():
    validated = service().check(json_body(), allowed_sellers())
    return jsonify(ValidationResultSchema().dump(
        {"totals": validated.totals(), "document": validated.document_json()}))
