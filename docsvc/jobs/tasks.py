"""One task per document, and one to build a batch's print file.

A task may run more than once (a worker killed, Redis restarted before the acknowledgement):
the archive's write-once key makes the second run find the original the first one wrote,
and the store records each document's outcome once. Each outcome is what the synchronous
POST /v1/documents would have answered: 201, 200 (already archived, same payload), 409,
422 with its errors, 403 for a seller the key may not act for.
"""
from __future__ import annotations

import json
import logging
import os
import time
from datetime import date, timedelta
from decimal import Decimal

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from redis.exceptions import ConnectionError as RedisDown

from ..archive import ArchiveUnavailable, keys
from ..errors import Conflict, DocumentNotFound, Forbidden, InvalidPayload, StorageUnavailable
from .printing import KIND, build_print_file
from .store import MAX_DELIVERIES

log = logging.getLogger("docsvc.jobs")
PRINTABLE = (200, 201)
RETRIES = 6  # archive 503s: retried after 2, 4, 8, 16, 32, 60 s


def store():
    return current_app.extensions["docsvc.jobs"]


def services():
    return current_app.extensions["docsvc"]


def issue_one(raw, sellers: list[str] | None, owner: str) -> dict:
    """The service's issue use case, its answer turned into a status; StorageUnavailable
    propagates (the caller retries it)."""
    claimed = store().claim(raw, owner, lambda: _archived(raw))
    number = raw.get("number") if isinstance(raw, dict) and isinstance(raw.get("number"), str) else None
    try:
        issued = services().issue(raw, set(sellers) if sellers is not None else None)
    except InvalidPayload as exc:
        return {"number": number, "status": 422, "id": None, "errors": exc.errors}
    except Conflict as exc:
        return {"number": number, "status": 409, "id": exc.extra.get("existing"), "errors": {"number": [exc.detail]}}
    except Forbidden as exc:
        return {"number": number, "status": 403, "id": None, "errors": {"seller": [exc.detail]}}
    # issued now, or by an earlier delivery of this very task whose worker died before recording it
    status = 201 if issued.created or claimed == owner else 200
    return {"number": issued.resource["number"], "status": status, "id": issued.resource["id"], "errors": None}


def _archived(raw) -> bool:
    try:
        services().fetch(keys.document_id(raw["seller"].get("siren") or raw["seller"]["vat_id"], raw["number"]))
        return True
    except DocumentNotFound:
        return False


def _run(task, owner: str, raw, sellers, context: dict) -> dict:
    """issue_one with retries on archive 503s, time limits and crashes reported as outcomes."""
    started = time.perf_counter()
    try:
        outcome = issue_one(raw, sellers, owner)
    except (StorageUnavailable, ArchiveUnavailable) as exc:  # the latter from the template registry
        detail = getattr(exc, "detail", None) or str(exc)
        if task.request.retries < RETRIES:
            store().observe(task.name, "retried", time.perf_counter() - started)
            log.warning("archive unavailable, retrying", extra={"fields": {**context, "error": detail}})
            raise task.retry(countdown=min(60, 2 ** (task.request.retries + 1))) from None
        outcome = {"number": None, "status": 503, "id": None, "errors": {"$": [detail]}}
    except SoftTimeLimitExceeded:
        outcome = {"number": None, "status": 500, "id": None,
                   "errors": {"$": ["Rendering took longer than DOCSVC_TASK_SOFT_TIME_LIMIT."]}}
    except Exception as exc:  # noqa: BLE001 - one document's failure is reported; the batch goes on
        log.exception("document task failed", extra={"fields": {**context, "error": repr(exc)[:500]}})
        outcome = {"number": None, "status": 500, "id": None, "errors": {"$": ["The document could not be issued."]}}
    if outcome["number"] is None and isinstance(raw, dict) and isinstance(raw.get("number"), str):
        outcome["number"] = raw["number"]
    seconds = time.perf_counter() - started
    kind = "issued" if outcome["status"] in PRINTABLE else "refused" if outcome["status"] < 500 else "failed"
    store().observe(task.name, kind, seconds)
    log.info("document %s", kind, extra={"fields": {
        **context, "status": outcome["status"], "document": outcome["id"], "duration_ms": round(seconds * 1000, 1),
        "worker_pid": os.getpid(), "delivery": task.request.retries}})
    return outcome


def _audit(meta: dict, outcome: dict) -> None:
    if outcome["status"] in PRINTABLE or outcome["status"] == 409:
        try:
            services().audit.append(meta["key"], "issue", outcome["id"], meta["request_id"],
                                                          str(outcome["status"]))
        except Exception:  # noqa: BLE001 - as for HTTP requests: never lose the outcome over the audit
            log.exception("audit append failed", extra={"fields": {"request_id": meta["request_id"]}})


def _load(data: str):
    return json.loads(data, parse_float=Decimal)


@shared_task(bind=True, name="docsvc.batch_document", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(RedisDown,), retry_backoff=2, retry_backoff_max=60, max_retries=RETRIES)
def batch_document(self, batch_id: str, index: int) -> int | None:
    jobs = store()
    meta = jobs.meta(batch_id)
    if meta is None:  # expired, or lost with a Redis that kept nothing
        log.warning("batch not found", extra={"fields": {"batch": batch_id, "index": index}})
        return None
    context = {"batch": batch_id, "index": index, "request_id": meta["request_id"]}
    if jobs.result(batch_id, index) is None:
        if jobs.attempt(batch_id, index) > MAX_DELIVERIES + self.request.retries:
            outcome = {"number": meta["numbers"].get(str(index)), "status": 500, "id": None, "errors": {"$": [
                f"The document's task was delivered {MAX_DELIVERIES} times without finishing (worker killed "
                "or DOCSVC_TASK_TIME_LIMIT exceeded)."]}}
        else:
            outcome = _run(self, f"batch:{batch_id}:{index}", _load(jobs.payload(batch_id, index)),
                           meta["sellers"], context)
            _audit(meta, outcome)
        jobs.record(batch_id, index, outcome)
    # also on a redelivery of a recorded document: what a dead worker may not have done after recording
    follower = jobs.following(batch_id, index)
    if follower is not None and jobs.result(batch_id, follower) is None:
        batch_document.delay(batch_id, follower)
    batch = jobs.batch(batch_id)
    if batch["finished"] >= batch["total"] and batch["state"] != "done":
        build_print.delay(batch_id)
    return jobs.result(batch_id, index)["status"]


@shared_task(bind=True, name="docsvc.build_print", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(StorageUnavailable, ArchiveUnavailable, RedisDown), retry_backoff=2, retry_backoff_max=60,
             max_retries=RETRIES)
def build_print(self, batch_id: str) -> dict | None:
    """Idempotent: building again writes the same pages over the derived file."""
    started = time.perf_counter()
    batch = store().batch(batch_id)
    if batch is None:
        return None
    try:
        info = make_print(batch)
    except (StorageUnavailable, ArchiveUnavailable, RedisDown):
        raise
    except Exception:  # noqa: BLE001 - the batch still ends; its documents are issued and listed
        log.exception("print file failed", extra={"fields": {"batch": batch_id}})
        info = None
    store().finish(batch_id, info)
    store().observe(self.name, "issued" if info else "refused", time.perf_counter() - started)
    log.info("batch done", extra={"fields": {"batch": batch_id, "request_id": batch["meta"]["request_id"],
                                             "print_pages": info and info["pages"]}})
    return info


def print_key(batch_id: str) -> str:
    return f"batches/{batch_id}/print.pdf"


def make_print(batch: dict) -> dict | None:
    """Build and store the print file from the archived originals; None if nothing was issued."""
    options = batch["meta"]["print"]
    issued = [(i, r) for i, r in sorted(batch["results"].items()) if r["status"] in PRINTABLE and r["id"]]
    seen, entries = set(), []
    for _, outcome in issued:
        if outcome["id"] in seen:  # the same original asked twice: printed once
            continue
        seen.add(outcome["id"])
        resource = services().fetch(outcome["id"])
        fmt = next((f for f in ("pdf", "facturx") if any(x["format"] == f for x in resource["files"])), None)
        if fmt is not None:
            entries.append((resource, fmt))
    if not entries:
        return None
    if options["order"] == "number":
        entries.sort(key=lambda e: (e[0]["seller"]["siren"] or "", e[0]["number"]))
    elif options["order"] == "buyer":
        entries.sort(key=lambda e: (e[0]["buyer"]["name"].casefold(), e[0]["number"]))
    documents = [(f"{r['number']} — {r['buyer']['name']}", services().fetch.original(r["id"], fmt).data) for r, fmt in entries]
    printed = build_print_file(documents, duplex=options["duplex"], separator=options["separator"],
                               title=f"docsvc batch {batch['id']} (print copy)")
    expires = date.today() + timedelta(days=store().ttl // 86_400)
    services().archive.put_derived(print_key(batch["id"]), printed.data, content_type="application/pdf",
                                  expires=expires, metadata={"docsvc-kind": KIND, "batch": batch["id"]})
    return {"pages": printed.pages, "size": len(printed.data), "documents": [r["id"] for r, _ in entries],
            "starts": printed.starts, "expires": expires.isoformat(), "url": f"/v1/batches/{batch['id']}/print.pdf"}


@shared_task(bind=True, name="docsvc.job_document", acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(RedisDown,), retry_backoff=2, retry_backoff_max=60, max_retries=RETRIES)
def job_document(self, job_id: str) -> dict | None:
    """A big document posted to /v1/documents, issued here instead of in the request."""
    jobs = store()
    job = jobs.job(job_id)
    if job is None:
        return None
    if job["outcome"] is not None:
        return job["outcome"]
    meta = job["meta"]
    context = {"job": job_id, "request_id": meta["request_id"]}
    if jobs.job_running(job_id) > MAX_DELIVERIES + self.request.retries:
        outcome = {"number": None, "status": 500, "id": None, "errors": {"$": [
            f"The job's task was delivered {MAX_DELIVERIES} times without finishing."]}}
    else:
        outcome = _run(self, f"job:{job_id}", _load(job["payload"]), meta["sellers"], context)
        _audit(meta, outcome)
    jobs.job_done(job_id, outcome)
    return outcome

