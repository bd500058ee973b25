"""Archivists and auditors: fetch a resource or an original byte for byte, verify it years
later. Nothing here writes, except the quote listing of older archives (write-once)."""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import cast

from ..archive import Archive, keys
from ..errors import DocumentNotFound
from .archive_calls import call, resource_or_none
from .results import FileCheck, Original, Resource, VerifyReport


class FetchDocument:
    """The resource, or one of its originals. Another seller's document is "not found", so
    existence doesn't leak."""

    def __init__(self, archive: Archive):
        self.archive = archive

    def __call__(self, doc_id: str, sellers: set[str] | None = None) -> Resource:
        resource = None
        if sellers is None or (keys.is_document_id(doc_id) and keys.seller_of(doc_id) in sellers):
            resource = resource_or_none(self.archive, doc_id)
        if resource is None:
            raise DocumentNotFound(f"No document {doc_id}.")
        return resource

    def original(self, doc_id: str, fmt: str, sellers: set[str] | None = None) -> Original:
        """The archived bytes of one format, exactly as stored, and their file record."""
        resource = self(doc_id, sellers)
        record = next((f for f in resource["files"] if f["format"] == fmt), None)
        if record is None:
            formats = ", ".join(f["format"] for f in resource["files"])
            raise DocumentNotFound(f"Document {doc_id} has no {fmt} original (it has: {formats}).")
        return Original(call(self.archive.get, record["key"], record.get("version")), record)


class VerifyDocument:
    """Re-read every file, recompute its SHA-256 against the one recorded at creation."""

    def __init__(self, archive: Archive):
        self.archive = archive
        self.fetch = FetchDocument(archive)

    def __call__(self, doc_id: str, sellers: set[str] | None = None) -> VerifyReport:
        resource = self.fetch(doc_id, sellers)
        checks: list[FileCheck] = []
        for record in resource["files"]:
            check: FileCheck = {"format": record["format"], "sha256": record["sha256"], "actual_sha256": None,
                                "size": None, "intact": False, "retention_mode": None,
                                "retain_until": resource["archive"]["retain_until"], "error": None}
            try:
                data = call(self.archive.get, record["key"], record.get("version"))
                head = call(self.archive.head, record["key"], record.get("version"))
            except DocumentNotFound:
                check["error"] = "missing from the archive"
            else:
                check["actual_sha256"] = hashlib.sha256(data).hexdigest()
                check["size"] = len(data)
                check["intact"] = check["actual_sha256"] == record["sha256"] and len(data) == record["size"]
                if head is not None:
                    check["retention_mode"] = head.retention_mode
                    if head.retain_until is not None:
                        check["retain_until"] = head.retain_until.isoformat()
            checks.append(check)
        return {"id": doc_id, "intact": all(c["intact"] for c in checks) and bool(checks),
                "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "retain_until": resource["archive"]["retain_until"], "files": checks}


class IndexQuotes:
    """File every archived cycle document (and credit note on one) under its quote, and every
    credit note under the invoice it corrects: for archives that hold documents issued before
    these lists existed. Idempotent (the lists are write-once); answers how many documents
    are listed under quotes."""

    def __init__(self, archive: Archive):
        self.archive = archive

    def __call__(self) -> int:
        resources: dict[str, Resource] = {}
        for key in call(lambda: list(self.archive.list(keys.PREFIX + "/"))):
            if key.endswith("/resource.json"):
                resource = cast(Resource, json.loads(call(self.archive.get, key)))
                resources[resource["id"]] = resource
        listed = 0
        for doc_id, resource in sorted(resources.items()):
            document = resource.get("document") or {}
            quote = (document.get("quote") or {}).get("number")
            seller = keys.seller_of(doc_id)
            if resource["type"] == "credit_note" and document.get("corrects"):  # for the next credit note on it
                call(self.archive.file_under_invoice, seller, document["corrects"]["number"], {
                    "id": doc_id, "number": resource["number"], "type": resource["type"],
                    "issue_date": resource["issue_date"]})
            if quote is None and resource["type"] == "credit_note" and document.get("corrects"):
                corrected = resources.get(keys.document_id(seller, document["corrects"]["number"]))
                corrected_document = (corrected["document"] if corrected is not None else None) or {}
                quote = (corrected_document.get("quote") or {}).get("number")
            if quote is None:
                continue
            call(self.archive.file_under_quote, seller, quote, {
                "id": doc_id, "number": resource["number"], "type": resource["type"],
                "issue_date": resource["issue_date"], "quote": quote})
            listed += 1
        return listed
