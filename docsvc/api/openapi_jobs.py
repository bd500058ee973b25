"""The job queue's paths in the OpenAPI document (batches, print file, jobs)."""
from __future__ import annotations

from ..schemas import jobs


def add_job_paths(spec, errors, json_content) -> None:
    for name in ("BatchSchema", "JobSchema"):
        spec.components.schema(name.removesuffix("Schema"), schema=getattr(jobs, name))
    location = {"Location": {"schema": {"type": "string"}}}
    batch_id = {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "string"}}
    body = {"type": "object", "required": ["documents"], "additionalProperties": False, "properties": {
        "documents": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/DocumentPayload"},
                      "description": "up to DOCSVC_BATCH_MAX_DOCUMENTS (1000) payloads, each as for "
                                     "POST /v1/documents"},
        "print": {"type": "object", "additionalProperties": False, "properties": {
            "duplex": {"type": "boolean", "default": False},
            "order": {"type": "string", "enum": ["as_given", "buyer", "number"], "default": "as_given"},
            "separator": {"type": "boolean", "default": False}}}}}
    spec.path("/v1/batches", operations={"post": {
        "summary": "Issue many documents on the job queue; one print file at the end", "tags": ["batches"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {"202": {"description": "Queued", "headers": location, "content": json_content("Batch")},
                      **errors(400, 413, 415, 422, 503)}}})
    spec.path("/v1/batches/{batch_id}", operations={"get": {
        "summary": "State, counts and each document's status, in the order given", "tags": ["batches"],
        "parameters": [batch_id],
        "responses": {"200": {"description": "The batch", "content": json_content("Batch")},
                      **errors(404, 503)}}})
    spec.path("/v1/batches/{batch_id}/print.pdf", operations={"get": {
        "summary": "The print file: a derived copy of the issued originals, not an original", "tags": ["batches"],
        "parameters": [batch_id],
        "responses": {"200": {"description": "One PDF in the requested order",
                              "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                      "409": {"description": "The batch is not done yet",
                              "content": {"application/problem+json": {"schema": "Problem"}}},
                      **errors(404, 503)}}})
    issue = spec._paths.get("/v1/documents", {}).get("post")  # apispec keeps paths in this dict until to_dict()
    if issue is not None:
        issue["responses"]["202"] = {
            "description": "Above DOCSVC_ASYNC_LINES lines (with a job queue): queued; Location is /v1/jobs/{id}",
            "headers": location, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}}
    spec.path("/v1/jobs/{job_id}", operations={"get": {
        "summary": "A big document's job (POST /v1/documents above DOCSVC_ASYNC_LINES lines answered 202)",
        "tags": ["documents"],
        "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The job", "content": json_content("Job")},
                      **errors(404, 503)}}})
