"""Issue a document once (render every format, archive the originals, then the resource),
or render one without archiving anything."""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ..archive import AlreadyExists, Archive, keys
from ..billing.model import DocumentType, InvoicePayload, as_plain
from ..einvoice import facturx
from ..errors import Conflict, InProgress
from ..rendering import TemplateRegistry
from ..rendering.bundle import Bundle, Pages
from .archive_calls import call, resource_or_none
from .checking import (
    CheckDocument,
    bundle_for,
    check_drawable,
    check_shown,
    confirm_einvoice,
    einvoice,
    seller_key,
    validate,
)
from .claims import claim_document, claim_quote_place
from .results import FileRecord, Issued, Resource, Validated

MEDIA_TYPES = {
    "pdf": ("application/pdf", "pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "facturx": ("application/pdf", "facturx.pdf"),
    "xml": ("application/xml", "factur-x.xml"),  # the CII XML alone, archived with every Factur-X
}

#: (format, "name@version", seconds, bytes): called after each rendering (the metrics, when served)
OnRender = Callable[[str, str, float, bytes], None]


#: Puts an archived resource in the search index (or leaves it to the sweep): never raises
IndexResource = Callable[[Resource], object]


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, decimals as written: the bytes a payload hash is taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default).encode()


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def retention_end(issued: date, years: int) -> date:
    """Issue date + N years; a 29 February rolls to 1 March so the period is never short."""
    try:
        return issued.replace(year=issued.year + years)
    except ValueError:
        return date(issued.year + years, 3, 1)


def render_format(bundle: Bundle, fmt: str, validated: Validated, plain: dict[str, Any] | None = None,
                  on_render: OnRender | None = None, pages: Pages | None = None) -> bytes:
    """One format of a validated document; Factur-X embeds the CII checked beforehand.
    Formats of one document rendered with the same `pages` share one PDF layout (the
    first PDF format's time includes it)."""
    if fmt == "xml":
        assert validated.einvoice is not None, "the CII is built by the check before any rendering"
        return validated.einvoice[0]
    started = time.perf_counter()
    data = bundle.render(fmt, plain if plain is not None else as_plain(validated.document), pages)
    if fmt == "facturx":
        assert validated.einvoice is not None, "the CII is built by the check before any rendering"
        xml, level = validated.einvoice
        title = bundle.labels[validated.document.language]["titles"][validated.document.type.value]
        data = facturx.embed(data, xml, level, validated.document, title)
    if on_render is not None:
        on_render(fmt, f"{bundle.name}@{bundle.version}", time.perf_counter() - started, data)
    return data


class RenderDocument:
    """Render without archiving (`docsvc render`): the same checks as issuing, bar the archive."""

    def __init__(self, templates: TemplateRegistry, max_lines: int | None = None):
        self.templates = templates
        self.max_lines = max_lines

    def __call__(self, raw: Any, fmt: str = "pdf") -> tuple[bytes, Validated]:
        validated = validate(raw, self.max_lines)
        bundle = bundle_for(self.templates, validated.payload)
        check_drawable(raw, bundle)
        check_shown(bundle, validated.document)
        if fmt in ("facturx", "xml"):
            validated.einvoice = einvoice(validated)
        return render_format(bundle, fmt, validated), validated


class IssueDocument:
    """Validate, render and archive once: every format is rendered, and the e-invoice's
    official rules have passed, before the first file is archived. A retry of the same
    payload finds the original (created False); another payload under the same number is
    a Conflict."""

    def __init__(self, archive: Archive, check: CheckDocument, retention_years: int = 10,
                 index: IndexResource | None = None, on_render: OnRender | None = None):
        self.archive = archive
        self.check = check  # resolves the template version too
        self.retention_years = retention_years
        self.index = index
        self.on_render = on_render

    def __call__(self, raw: Any, sellers: set[str] | None = None) -> Issued:
        # the template version is resolved once: the one the text was checked against renders it
        validated, bundle = self.check.allowed(raw, sellers)
        payload = validated.payload
        doc_id = keys.document_id(seller_key(payload), payload.number)
        payload_sha = hashlib.sha256(canonical_json(raw)).hexdigest()

        # a retry is answered with its original before the checks that cost (the archive
        # lookups, the schematrons): they passed when the original was issued
        existing = resource_or_none(self.archive, doc_id)
        if existing is not None:
            self._index(existing)  # idempotent: heals a row lost to a crash after the resource was written
            return Issued(_same_payload(existing, payload_sha), False)
        rules = self.check.complete(raw, validated, bundle)  # the official rules: checked while the pages are laid out

        quote = self._quote_of(payload)
        render_id = hashlib.sha256(f"{payload_sha}:{bundle.sha256}".encode()).hexdigest()[:16]
        # an unlocked dev bucket keeps nothing until a date
        retain_until = retention_end(payload.issue_date, self.retention_years) if self.archive.locked else None
        plain = as_plain(validated.document)
        formats = list(payload.formats) + (["xml"] if "facturx" in payload.formats else [])
        pages = Pages()  # the PDF and the Factur-X are one layout and one write
        rendered = {fmt: render_format(bundle, fmt, validated, plain, self.on_render, pages) for fmt in formats}
        if rules is not None:
            confirm_einvoice(rules)  # refused: nothing was archived
        self._claim(doc_id, payload_sha, validated)  # another request issuing at once: it writes, this one retries
        files: list[FileRecord] = []
        for fmt, data in rendered.items():
            media_type, extension = MEDIA_TYPES[fmt]
            key = keys.file_key(doc_id, render_id, extension)
            data, version = self._put_or_reuse(key, data, media_type, retain_until)
            files.append({"format": fmt, "media_type": media_type, "size": len(data), "version": version,
                          "filename": f"{doc_id}.{extension}", "sha256": hashlib.sha256(data).hexdigest(),
                          "key": key})
        resource: Resource = {
            "id": doc_id,
            "type": payload.type.value,
            "number": payload.number,
            "seller": {"name": payload.seller.name, "siren": payload.seller.siren},
            "buyer": {"name": payload.buyer.name},
            "issue_date": payload.issue_date.isoformat(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "template": {"name": bundle.name, "version": bundle.version, "sha256": bundle.sha256},
            "totals": validated.totals(),
            "document": validated.document_json(),
            "files": files,
            "archive": {"backend": self.archive.backend,
                        "retain_until": retain_until.isoformat() if retain_until else None},
            "payload_sha256": payload_sha,
        }
        if quote is not None:  # before the resource: an issued document is always in its quote's list
            call(self.archive.file_under_quote, seller_key(payload), quote, {
                "id": doc_id, "number": payload.number, "type": payload.type.value,
                "issue_date": payload.issue_date.isoformat(), "quote": quote})
        if payload.corrects is not None:  # likewise under the invoice it corrects, for the next credit note
            call(self.archive.file_under_invoice, seller_key(payload), payload.corrects.number, {
                "id": doc_id, "number": payload.number, "type": payload.type.value,
                "issue_date": payload.issue_date.isoformat()})
        try:
            call(self.archive.put_once, keys.resource_key(doc_id), canonical_json(resource),
                 content_type="application/json", retain_until=retain_until)
        except AlreadyExists:  # a concurrent request won the race: answer as for a retry
            winner = resource_or_none(self.archive, doc_id)
            assert winner is not None, "put_once refused: the resource is there"
            return Issued(_same_payload(winner, payload_sha), False)
        self._index(resource)
        return Issued(resource, True)

    def _claim(self, doc_id: str, payload_sha: str, validated: Validated) -> None:
        """Claim the number for this payload and, for a cycle document, the quote's next place,
        before anything but the claims is written (usecases/claims.py)."""
        payload = validated.payload
        # the quote's place first: a request that loses it has claimed nothing, so the payload
        # it corrects after its retry's 422 (listing the other document) is not held up
        if validated.seen_on_quote is not None and payload.quote is not None:
            claim_quote_place(self.archive, seller_key(payload), payload.quote.number, validated.seen_on_quote,
                              doc_id, payload_sha)
        try:
            claim_document(self.archive, doc_id, payload_sha, payload.number)
        except InProgress:
            issued = resource_or_none(self.archive, doc_id)
            if issued is not None:  # the other payload was issued meanwhile: the usual 409
                _same_payload(issued, payload_sha)
            raise

    def _index(self, resource: Resource) -> None:
        """One row per original, after the original: a failure is logged and left to the
        start-up sweep, never the caller's problem (the archive is the truth)."""
        if self.index is not None:
            self.index(resource)

    def _quote_of(self, payload: InvoicePayload) -> str | None:
        """The quote a document belongs to: its own, or for a credit note, that of the archived
        invoice it corrects (None when that invoice is not in this archive or on no quote)."""
        if payload.quote is not None:
            return payload.quote.number
        if payload.type != DocumentType.CREDIT_NOTE or payload.corrects is None:
            return None
        corrected = resource_or_none(self.archive, keys.document_id(seller_key(payload), payload.corrects.number))
        quote = (corrected["document"].get("quote") if corrected else None)
        return quote["number"] if quote else None

    def _put_or_reuse(self, key: str, data: bytes, media_type: str,
                      retain_until: date | None) -> tuple[bytes, str | None]:
        """Write a file once; if a crashed earlier attempt already wrote this render, keep its
        bytes. Returns the bytes and the store's version id of the original."""
        try:
            stored = call(self.archive.put_once, key, data, content_type=media_type, retain_until=retain_until)
            return data, stored.version
        except AlreadyExists:
            head = call(self.archive.head, key)
            version = head.version if head else None
            return call(self.archive.get, key, version), version


def _same_payload(existing: Resource, payload_sha: str) -> Resource:
    """A retry answers the original; another payload under its number never replaces it."""
    if existing.get("payload_sha256") != payload_sha:
        raise Conflict(f"Invoice {existing['number']} of seller {existing['id'].split('-', 1)[0]} "
                       f"was already issued with a different payload as {existing['id']}; "
                       "an original is never replaced: issue a credit note or a new number.",
                       existing=existing["id"])
    return existing
