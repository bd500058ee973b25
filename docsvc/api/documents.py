"""Billing systems: issue and validate documents."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..schemas.resources import ValidationResultSchema
from .batches import queue_big_document
from .body import json_body
from .context import document_url, resource_json, services
from .guard import allowed_sellers
from .routes import json_content, operation

PAYLOAD = {"required": True, "content": json_content("DocumentPayload")}

bp = Blueprint("documents", __name__)


@bp.post("/v1/documents")
@operation("documents:write", "Validate, render and archive one document", tag="documents", audit="issue",
           body=PAYLOAD, errors=(400, 409, 413, 415, 422, 503), responses={
               "201": {"description": "Issued", "content": json_content("DocumentResource"),
                       "headers": {"Location": {"schema": {"type": "string"}}}},
               "200": {"description": "A retry: the same payload was already archived",
                       "content": json_content("DocumentResource")},
               "202": {"description": "Above DOCSVC_ASYNC_LINES lines (with a job queue): queued; Location is "
                                      "/v1/jobs/{id}",
                       "headers": {"Location": {"schema": {"type": "string"}}}, "content": json_content("Job")}})
def issue_document() -> Response:
    body = json_body()
    queued = queue_big_document(body)  # above DOCSVC_ASYNC_LINES lines: 202 and a job
    if queued is not None:
        return queued
    issued = services().issue(body, allowed_sellers())
    response = jsonify(resource_json(issued.resource))
    response.status_code = 201 if issued.created else 200
    response.headers["Location"] = document_url(issued.resource["id"])
    return response


@bp.post("/v1/documents/validate")
@operation("documents:write", "Validate and compute, render nothing, archive nothing", tag="documents",
           body=PAYLOAD, ok=("Valid", "ValidationResult"), errors=(400, 413, 415, 422, 503))
def validate_document() -> Response:
    validated = services().check(json_body(), allowed_sellers())
    return jsonify(ValidationResultSchema().dump(
        {"totals": validated.totals(), "document": validated.document_json()}))
