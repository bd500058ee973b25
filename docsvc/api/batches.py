"""Billing systems: batches of documents and big single documents, on the job queue.

The routes only store the request and enqueue; workers issue (docsvc/jobs/tasks.py).
A key sees only the batches and jobs it submitted (admin keys see all): 404 otherwise.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from ..archive import NotFound
from ..errors import DocumentNotFound, InvalidPayload
from ..schemas.jobs import BatchSchema, JobSchema
from ..usecases.issuing import canonical_json
from .body import json_body
from .context import document_url, resource_json, services, with_urls
from .errors import HttpProblem
from .guard import allowed_sellers
from .routes import json_content, operation

bp = Blueprint("batches", __name__)
ORDERS = ("as_given", "buyer", "number")
PRINT_OPTIONS = {"duplex": False, "order": "as_given", "separator": False}
LOCATION = {"Location": {"schema": {"type": "string"}}}
#: POST /v1/batches, as the OpenAPI document shows it (_read_batch checks it)
BATCH_BODY = {"type": "object", "required": ["documents"], "additionalProperties": False, "properties": {
    "documents": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/DocumentPayload"},
                  "description": "up to DOCSVC_BATCH_MAX_DOCUMENTS (1000) payloads, each as for POST /v1/documents"},
    "print": {"type": "object", "additionalProperties": False, "properties": {
        "duplex": {"type": "boolean", "default": False},
        "order": {"type": "string", "enum": list(ORDERS), "default": "as_given"},
        "separator": {"type": "boolean", "default": False}}}}}


class QueueUnavailable(HttpProblem):
    status = 503
    title = "Job queue unavailable"
    slug = "queue-unavailable"


def _store():
    store = current_app.extensions.get("docsvc.jobs")
    if store is None:
        raise QueueUnavailable("Batches and big documents need the job queue: set DOCSVC_REDIS_URL and run "
                               "`docsvc worker`.")
    return store


def _caller() -> tuple[str, bool]:
    key = getattr(g, "key", None)
    return (key.name, key.allows("admin")) if key is not None else ("anonymous", True)


def _visible(meta: dict) -> bool:
    name, admin = _caller()
    return admin or meta["key"] == name


def _read_batch(body, limit: int) -> tuple[list, dict]:
    errors: dict[str, list[str]] = {}
    if not isinstance(body, dict):
        raise InvalidPayload({"$": ["Send an object: {\"documents\": [...], \"print\": {...}}."]})
    errors.update({k: ["Unknown field."] for k in sorted(set(body) - {"documents", "print"})})
    documents = body.get("documents")
    if not isinstance(documents, list) or not documents:
        errors["documents"] = ["A list of 1 or more document payloads."]
    elif len(documents) > limit:
        errors["documents"] = [f"{len(documents)} documents, at most {limit} (DOCSVC_BATCH_MAX_DOCUMENTS)."]
    else:
        errors.update({f"documents.{i}": ["A document payload is an object."]
                       for i, d in enumerate(documents) if not isinstance(d, dict)})
    options = dict(PRINT_OPTIONS)
    asked = body.get("print", {})
    if not isinstance(asked, dict):
        errors["print"] = ["An object: {\"duplex\": true, \"order\": \"as_given\", \"separator\": false}."]
        asked = {}
    for name, value in asked.items():
        if name not in PRINT_OPTIONS:
            errors[f"print.{name}"] = ["Unknown field."]
        elif name == "order" and value not in ORDERS:
            errors["print.order"] = [f"One of {', '.join(ORDERS)}."]
        elif name != "order" and not isinstance(value, bool):
            errors[f"print.{name}"] = ["true or false."]
        else:
            options[name] = value
    if errors:
        raise InvalidPayload(errors)
    return documents, options


def batch_view(batch: dict) -> dict:
    numbers = batch["meta"]["numbers"]
    documents, counts = [], {"queued": 0, "done": 0, "refused": 0, "failed": 0}
    for i in range(batch["total"]):
        outcome = batch["results"].get(i)
        if outcome is None:
            counts["queued"] += 1
            documents.append({"index": i, "number": numbers.get(str(i)), "status": None, "id": None, "url": None,
                              "errors": None})
            continue
        status = outcome["status"]
        counts["done" if status in (200, 201) else "refused" if status < 500 else "failed"] += 1
        documents.append({"index": i, "number": outcome["number"], "status": status, "id": outcome["id"],
                          "url": f"/v1/documents/{outcome['id']}" if outcome["id"] else None,
                          "errors": outcome["errors"]})
    return BatchSchema().dump({"id": batch["id"], "state": batch["state"], "created_at": batch["meta"]["created_at"],
                               "print_options": batch["meta"]["print"], "counts": counts,
                               "print": batch["print"] if batch["state"] == "done" else None,
                               "documents": documents})


def _batch(batch_id: str) -> dict:
    batch = _queue_call(_store().batch, batch_id)
    if batch is None or not _visible(batch["meta"]):
        raise DocumentNotFound(f"No batch {batch_id}.")
    return batch


def _queue_call(fn, *args):
    try:
        return fn(*args)
    except (RedisError, OperationalError):
        raise QueueUnavailable("The job queue (Redis) did not answer; retry later.") from None


@bp.post("/v1/batches")
@operation("documents:write", "Issue many documents on the job queue; one print file at the end", tag="batches",
           body={"required": True, "content": json_content(BATCH_BODY)},
           responses={"202": {"description": "Queued", "headers": LOCATION, "content": json_content("Batch")}},
           errors=(400, 413, 415, 422, 503))
def submit_batch():
    settings = services().settings
    store = _store()
    request.max_content_length = settings.batch_max_body_bytes  # a batch is many documents' worth
    documents, options = _read_batch(json_body(), settings.batch_max_documents)
    sellers = allowed_sellers()
    meta = {"key": _caller()[0], "sellers": sorted(sellers) if sellers is not None else None,
            "request_id": g.request_id, "print": options}
    from ..jobs.tasks import batch_document

    def enqueue():
        batch_id, leaders = store.create_batch([canonical_json(d) for d in documents], meta)
        for index in leaders:
            batch_document.delay(batch_id, index)
        return batch_id

    batch_id = _queue_call(enqueue)
    response = jsonify(batch_view(_batch(batch_id)))
    response.status_code = 202
    response.headers["Location"] = f"/v1/batches/{batch_id}"
    return response


@bp.get("/v1/batches/<batch_id>")
@operation("documents:read", "State, counts and each document's status, in the order given", tag="batches",
           ok=("The batch", "Batch"), errors=(404, 503))
def get_batch(batch_id: str):
    return jsonify(batch_view(_batch(batch_id)))


@bp.get("/v1/batches/<batch_id>/print.pdf")
@operation("documents:read", "The print file: a derived copy of the issued originals, not an original",
           tag="batches", errors=(404, 503), responses={
               "200": {"description": "One PDF in the requested order",
                       "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
               "409": {"description": "The batch is not done yet",
                       "content": {"application/problem+json": {"schema": "Problem"}}}})
def get_print_file(batch_id: str):
    """The derived print copy; made again from the originals if it expired or was lost."""
    from ..jobs.tasks import make_print, print_key

    batch = _batch(batch_id)
    if batch["state"] != "done":
        raise BatchNotDone(f"Batch {batch_id} is {batch['state']}: the print file is made once every document "
                           "is.")
    if batch["print"] is None:
        raise DocumentNotFound(f"No document of batch {batch_id} was issued: there is nothing to print.")
    archive = services().archive
    try:
        derived = archive.get_derived(print_key(batch_id))
    except NotFound:
        make_print(batch)
        derived = archive.get_derived(print_key(batch_id))
    return Response(derived.data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="batch-{batch_id}-print.pdf"',
        "X-Docsvc-Kind": derived.metadata.get("docsvc-kind", "print-copy"), "Cache-Control": "no-store"})


class BatchNotDone(HttpProblem):
    status = 409
    title = "Not done yet"
    slug = "not-done"


# ------------------------------------------------------------------ big single documents

def job_view(job: dict) -> dict:
    outcome = job["outcome"] or {}
    document = None
    if outcome.get("status") in (200, 201):
        document = with_urls(services().fetch(outcome["id"]))
    return JobSchema().dump({"id": job["id"], "state": job["state"], "status": outcome.get("status"),
                             "document": document, "errors": outcome.get("errors"),
                             "created_at": job["meta"]["created_at"]})


def queue_big_document(body) -> Response | None:
    """POST /v1/documents above DOCSVC_ASYNC_LINES lines: 202 and a job, when the queue is
    configured; the same payload again answers the same job, or 200 with the original once done."""
    settings = services().settings
    store = current_app.extensions.get("docsvc.jobs")
    lines = body.get("lines") if isinstance(body, dict) else None
    if store is None or not isinstance(lines, list) or not settings.async_lines < len(lines) <= settings.max_lines:
        return None
    from ..jobs.tasks import job_document

    payload = canonical_json(body)
    sellers = allowed_sellers()
    owner = _caller()[0]
    job_id, created = _queue_call(store.job_for, owner, payload)
    if created:
        meta = {"key": owner, "sellers": sorted(sellers) if sellers is not None else None,
                "request_id": g.request_id}
        try:
            store.create_job(job_id, payload.decode(), meta)
            job_document.delay(job_id)
        except (RedisError, OperationalError):
            raise QueueUnavailable("The job queue (Redis) did not answer; retry later.") from None
    job = _queue_call(store.job, job_id)
    if job is not None and job["state"] == "done":
        resource = services().fetch(job["outcome"]["id"], sellers)
        response = jsonify(resource_json(resource))
        response.headers["Location"] = document_url(resource["id"])
        return response
    response = jsonify(job_view(job) if job is not None else JobSchema().dump({"id": job_id, "state": "queued"}))
    response.status_code = 202
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return response


@bp.get("/v1/jobs/<job_id>")
@operation("documents:read", "A big document's job (POST /v1/documents above DOCSVC_ASYNC_LINES lines answered "
           "202)", tag="documents", ok=("The job", "Job"), errors=(404, 503))
def get_job(job_id: str):
    job = _queue_call(_store().job, job_id)
    if job is None or not _visible(job["meta"]):
        raise DocumentNotFound(f"No job {job_id}.")
    return jsonify(job_view(job))
