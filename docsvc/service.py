"""The use cases: orchestration only. Billing computes, rendering renders, the archive keeps."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import time
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from marshmallow import ValidationError

from .archive import AlreadyExists, Archive, ArchiveUnavailable, NotFound, keys
from .billing.document import BillingError, enrich
from .billing.mentions import is_b2b, missing_mentions
from .billing.model import Document, DocumentType, InvoicePayload, as_plain
from .billing.text import undrawable
from .billing.vat_rates import rate_errors
from .einvoice import facturx
from .einvoice.cii import build_cii
from .einvoice.validate import validate as validate_einvoice
from .errors import (
    Conflict,
    DocumentNotFound,
    Forbidden,
    InvalidPayload,
    StorageUnavailable,
)
from .rendering import TemplateRegistry, glyphs
from .rendering.bundle import Bundle, bundle_sha256
from .rendering.checks import check_bundle, render_error
from .rendering.errors import TemplateNotFound
from .rendering.intake import BundleRejected, unpack
from .rendering.registry import manifest_key, zip_key
from .schemas.codes import currency_places
from .schemas.payload import flatten_errors, load_payload
from .schemas.resources import (
    DocumentSchema,
    TotalsOut,
    VatRowOut,
)

#: How a 422 names an archived document of the cycle.
LABELS = {"deposit_invoice": "deposit invoice", "progress_invoice": "situation", "credit_note": "credit note",
          "final_invoice": "final invoice", "invoice": "invoice"}

MEDIA_TYPES = {
    "pdf": ("application/pdf", "pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "facturx": ("application/pdf", "facturx.pdf"),
    "xml": ("application/xml", "factur-x.xml"),  # the CII XML alone, archived with every Factur-X
}


def canonical_json(value) -> bytes:
    """Sorted keys, no spaces, decimals as written: the bytes a payload hash is taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_json_default).encode()


def _json_default(value):
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


@dataclass
class Validated:
    payload: InvoicePayload
    document: Document
    einvoice: tuple[bytes, str] | None = None  # (CII XML, Factur-X level) when facturx is asked for

    def totals(self) -> dict:
        totals = TotalsOut().dump(self.document.totals)
        totals["vat_breakdown"] = VatRowOut(many=True).dump(self.document.vat_breakdown)
        return totals

    def document_json(self) -> dict:
        return DocumentSchema().dump(as_plain(self.document))


class DocumentService:
    index = None  # the search index (docsvc.index.DocumentIndex), set by create_app

    def __init__(self, archive: Archive, templates: TemplateRegistry, retention_years: int = 10,
                 max_lines: int | None = None, on_render=None):
        self.archive = archive
        self.templates = templates
        self.retention_years = retention_years
        self.max_lines = max_lines
        self.on_render = on_render  # (format, template, seconds, bytes): the metrics, when served

    # ------------------------------------------------------------------ billing systems

    def validate(self, raw) -> Validated:
        """Load the payload, check legal mentions, compute every figure. No I/O."""
        if isinstance(raw, dict) and self.max_lines is not None:
            quote = raw.get("quote") if isinstance(raw.get("quote"), dict) else {}
            for path, lines in (("lines", raw.get("lines")), ("quote.lines", quote.get("lines"))):
                if isinstance(lines, list) and len(lines) > self.max_lines:
                    raise InvalidPayload({path: [f"{len(lines)} lines, at most {self.max_lines} (DOCSVC_MAX_LINES)."]})
        try:
            payload = load_payload(raw, self.max_lines)
        except ValidationError as exc:
            raise InvalidPayload(flatten_errors(exc.messages)) from None
        missing = missing_mentions(payload)
        if missing:
            raise InvalidPayload(missing, "Mandatory mention(s) missing: " + ", ".join(sorted(missing)) + ".")
        wrong_rates = rate_errors(payload)
        if wrong_rates:
            raise InvalidPayload(wrong_rates, "VAT rate(s) not in force where and when the operation is taxed: "
                                 + ", ".join(sorted(wrong_rates)) + ".")
        try:
            document = enrich(payload, currency_places(payload.currency))
        except BillingError as exc:
            raise InvalidPayload(exc.errors) from None
        if document.totals.prepaid_total > document.totals.gross_total:
            raise InvalidPayload({"payments": [
                f"Payments received ({document.totals.prepaid_total}) exceed the gross total "
                f"({document.totals.gross_total})."]})
        return Validated(payload, document)

    def check_history(self, payload: InvoicePayload) -> None:
        """Earlier documents the payload names must agree with their archived originals.

        A previous invoice found in the archive must be of the same type, on the same quote,
        with the same figures; a corrected invoice must have the date the payload says.
        Invoices not in this archive (issued elsewhere) are taken as the payload states them.
        """
        if self.archive is None:
            return
        seller = payload.seller.siren or payload.seller.vat_id
        if not seller:
            return
        errors: dict[str, list[str]] = {}
        for i, previous in enumerate(payload.previous_invoices):
            archived = self._resource_or_none(keys.document_id(seller, previous.number))
            if archived is None:
                continue
            doc = archived["document"]
            path = f"previous_invoices.{i}"
            if archived["type"] != previous.type:
                errors[f"{path}.type"] = [f"{previous.number} is archived as a {archived['type']}."]
                continue
            quote = (doc.get("quote") or {}).get("number")
            if previous.type == "credit_note":  # a credit note has no quote: it must correct the invoice stated
                corrected = (doc.get("corrects") or {}).get("number")
                if previous.corrects is not None and corrected != previous.corrects.number:
                    errors[f"{path}.corrects.number"] = [f"{previous.number} corrects {corrected}, "
                                                         f"not {previous.corrects.number}."]
                    continue
            elif payload.quote is not None and quote != payload.quote.number:
                errors[f"{path}.number"] = [f"{previous.number} was issued on quote {quote}, "
                                            f"not {payload.quote.number}."]
                continue
            stated = {"issue_date": previous.issue_date.isoformat(), "net_total": str(previous.net_total),
                      "gross_total": str(previous.gross_total),
                      "vat": sorted((str(Decimal(v.rate).quantize(Decimal("0.01"))), str(v.base), str(v.amount))
                                    for v in previous.vat)}
            totals = archived["totals"]
            kept = {"issue_date": archived["issue_date"], "net_total": totals["net_total"],
                    "gross_total": totals["gross_total"],
                    "vat": sorted((v["rate"], v["base"], v["amount"]) for v in totals["vat_breakdown"])}
            if previous.retention is not None:  # the retention a situation withheld, as archived
                stated["retention"] = str(previous.retention)
                kept["retention"] = totals.get("retention_total")
            differing = [k for k in stated if stated[k] != kept[k]]
            if differing:
                errors[path] = [f"{previous.number} differs from its archived original on "
                                f"{', '.join(differing)}: archived " + ", ".join(
                                    f"{k} {kept[k]}" for k in differing) + "."]
        if payload.corrects is not None:
            archived = self._resource_or_none(keys.document_id(seller, payload.corrects.number))
            if archived is not None:
                if archived["issue_date"] != payload.corrects.issue_date.isoformat():
                    errors["corrects.issue_date"] = [f"{payload.corrects.number} was issued on "
                                                     f"{archived['issue_date']}."]
                if payload.corrects.type and payload.corrects.type != archived["type"]:
                    errors["corrects.type"] = [f"{payload.corrects.number} is a {archived['type']}."]
        if errors:
            raise InvalidPayload(errors, "The payload disagrees with archived originals: "
                                 + ", ".join(sorted(errors)) + ".")

    def check_cycle_complete(self, payload: InvoicePayload) -> None:
        """No double billing across a quote's cycle (DOMAIN.md): every deposit, situation and
        credit note the archive holds on this seller's quote must be in previous_invoices of
        the next situation or the final invoice (left out, it would be billed twice); a new
        deposit must list the quote's deposits already archived; nothing follows a final invoice.
        A document already archived under this number is left to issue() (a retry or a 409)."""
        kinds = {DocumentType.DEPOSIT_INVOICE: ("deposit_invoice",),
                 DocumentType.PROGRESS_INVOICE: ("deposit_invoice", "progress_invoice", "credit_note"),
                 DocumentType.FINAL_INVOICE: ("deposit_invoice", "progress_invoice", "credit_note")}
        if self.archive is None or payload.type not in kinds or payload.quote is None:
            return
        seller = payload.seller.siren or payload.seller.vat_id
        own = keys.document_id(seller, payload.number)
        if not seller or self._resource_or_none(own) is not None:
            return
        listed = {p.number for p in payload.previous_invoices}
        quote = payload.quote.number
        problems = []
        for entry in self._call(self.archive.quote_documents, seller, quote):
            if entry["id"] == own or self._call(self.archive.head, keys.resource_key(entry["id"])) is None:
                continue  # this very document, or an attempt that crashed before its resource
            what = f"{entry['number']} ({LABELS.get(entry['type'], entry['type'])} of {entry['issue_date']})"
            if entry["type"] == "final_invoice":
                problems.append(f"Quote {quote} already has its final invoice {what}: nothing is left to bill "
                                "on it; correct it with a credit note.")
            elif entry["type"] in kinds[payload.type] and entry["number"] not in listed:
                problems.append(f"{what} is archived on quote {quote} but not listed in previous_invoices: "
                                "the buyer would pay it twice. List it (number, issue_date, figures).")
        if problems:
            raise InvalidPayload({"previous_invoices": problems},
                                 f"{len(problems)} document(s) of quote {quote} in the archive are not accounted "
                                 "for: " + "; ".join(problems))

    def check(self, raw, sellers: set[str] | None = None) -> Validated:
        """validate() plus the checks against archived originals and, for Factur-X, the
        official e-invoicing rules: what /validate answers, and what issue() relies on.
        `sellers` limits which sellers the caller may act for (None: any)."""
        validated = self.validate(raw)
        seller = self._seller_key(validated.payload)
        if sellers is not None and seller not in sellers:
            raise Forbidden(f"This key can't act for seller {seller}.")
        if self.templates is not None:  # an unknown template or format, or text its fonts can't draw: as at issue
            check_drawable(raw, self._bundle(validated.payload))
        self.check_history(validated.payload)
        self.check_cycle_complete(validated.payload)
        if "facturx" in validated.payload.formats:
            validated.einvoice = self.einvoice(validated)
        return validated

    @staticmethod
    def einvoice(validated: Validated) -> tuple[bytes, str]:
        """The CII XML, refused unless the XSD, the EN 16931 schematron and, between two
        French businesses, the French CTC rules all pass."""
        payload, document = validated.payload, validated.document
        xml, level = build_cii(document)
        french = payload.seller.address.country == "FR" and payload.buyer.address.country == "FR" and is_b2b(payload)
        failures = validate_einvoice(xml, level, french_rules=french)
        if failures:
            raise InvalidPayload(
                {"facturx": [f"{f.rule}: {f.message}" for f in failures]},
                f"The e-invoice breaks {len(failures)} official rule(s): "
                + ", ".join(sorted({f.rule for f in failures})) + ".",
            ) from None
        return xml, level

    def issue(self, raw, sellers: set[str] | None = None) -> tuple[dict, bool]:
        """Validate, render and archive once. Returns (resource, created)."""
        validated = self.check(raw, sellers)
        payload = validated.payload
        bundle = self._bundle(payload)
        doc_id = keys.document_id(self._seller_key(payload), payload.number)
        payload_sha = hashlib.sha256(canonical_json(raw)).hexdigest()

        existing = self._resource_or_none(doc_id)
        if existing is not None:
            self._index(existing)  # idempotent: heals a row lost to a crash after the resource was written
            return self._retry_answer(existing, payload_sha), False

        quote = self._quote_of(payload)
        render_id = hashlib.sha256(f"{payload_sha}:{bundle.sha256}".encode()).hexdigest()[:16]
        locked = getattr(self.archive, "locked", True)  # an unlocked dev bucket keeps nothing until a date
        retain_until = retention_end(payload.issue_date, self.retention_years) if locked else None
        document_json = validated.document_json()
        plain = as_plain(validated.document)
        files = []
        formats = list(payload.formats) + (["xml"] if "facturx" in payload.formats else [])
        for fmt in formats:
            media_type, extension = MEDIA_TYPES[fmt]
            key = keys.file_key(doc_id, render_id, extension)
            data = self._render(bundle, fmt, plain, validated)
            data, version = self._put_or_reuse(key, data, media_type, retain_until)
            files.append({"format": fmt, "media_type": media_type, "size": len(data), "version": version,
                          "filename": f"{doc_id}.{extension}",
                          "sha256": hashlib.sha256(data).hexdigest(), "key": key,
                          "url": f"/v1/documents/{doc_id}/files/{fmt}"})
        resource = {
            "id": doc_id,
            "type": payload.type.value,
            "number": payload.number,
            "seller": {"name": payload.seller.name, "siren": payload.seller.siren},
            "buyer": {"name": payload.buyer.name},
            "issue_date": payload.issue_date.isoformat(),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "template": {"name": bundle.name, "version": bundle.version, "sha256": bundle.sha256},
            "totals": validated.totals(),
            "document": document_json,
            "files": files,
            "archive": {"backend": self.archive.backend,
                        "retain_until": retain_until.isoformat() if retain_until else None},
            "payload_sha256": payload_sha,
        }
        if quote is not None:  # before the resource: an issued document is always in its quote's list
            self._call(self.archive.file_under_quote, self._seller_key(payload), quote, {
                "id": doc_id, "number": payload.number, "type": payload.type.value,
                "issue_date": payload.issue_date.isoformat(), "quote": quote})
        try:
            self._call(self.archive.put_once, keys.resource_key(doc_id), canonical_json(resource),
                       content_type="application/json", retain_until=retain_until)
        except AlreadyExists:  # a concurrent request won the race: answer as for a retry
            return self._retry_answer(self.fetch(doc_id), payload_sha), False
        self._index(resource)
        return resource, True

    def render(self, raw, fmt: str = "pdf") -> tuple[bytes, Validated]:
        """Render without archiving (docsvc render, previews)."""
        validated = self.validate(raw)
        bundle = self._bundle(validated.payload)
        check_drawable(raw, bundle)
        if fmt in ("facturx", "xml"):
            validated.einvoice = self.einvoice(validated)
        return self._render(bundle, fmt, as_plain(validated.document), validated), validated

    def _render(self, bundle, fmt: str, plain: dict, validated: Validated) -> bytes:
        if fmt == "xml":
            return validated.einvoice[0]
        started = time.perf_counter()
        data = bundle.render(fmt, plain)
        if fmt == "facturx":
            xml, level = validated.einvoice
            title = bundle.labels[validated.document.language]["titles"][validated.document.type.value]
            data = facturx.embed(data, xml, level, validated.document, title)
        if self.on_render is not None:
            self.on_render(fmt, f"{bundle.name}@{bundle.version}", time.perf_counter() - started, data)
        return data

    # ------------------------------------------------------------------ archivists

    def fetch(self, doc_id: str, sellers: set[str] | None = None) -> dict:
        """The resource; another seller's document is "not found", so existence doesn't leak."""
        resource = None
        if sellers is None or (keys.is_document_id(doc_id) and keys.seller_of(doc_id) in sellers):
            resource = self._resource_or_none(doc_id)
        if resource is None:
            raise DocumentNotFound(f"No document {doc_id}.")
        return resource

    def original(self, doc_id: str, fmt: str, sellers: set[str] | None = None) -> tuple[bytes, dict]:
        """The archived bytes of one format, exactly as stored, and their file record."""
        resource = self.fetch(doc_id, sellers)
        record = next((f for f in resource["files"] if f["format"] == fmt), None)
        if record is None:
            formats = ", ".join(f["format"] for f in resource["files"])
            raise DocumentNotFound(f"Document {doc_id} has no {fmt} original (it has: {formats}).")
        return self._call(self.archive.get, record["key"], record.get("version")), record

    def verify(self, doc_id: str, sellers: set[str] | None = None) -> dict:
        """Re-read every file, recompute its SHA-256 against the one recorded at creation."""
        resource = self.fetch(doc_id, sellers)
        checks = []
        for record in resource["files"]:
            check = {"format": record["format"], "sha256": record["sha256"], "actual_sha256": None,
                     "size": None, "intact": False, "retention_mode": None,
                     "retain_until": resource["archive"]["retain_until"], "error": None}
            try:
                data = self._call(self.archive.get, record["key"], record.get("version"))
                head = self._call(self.archive.head, record["key"], record.get("version"))
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
                "checked_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "retain_until": resource["archive"]["retain_until"], "files": checks}

    def index_quotes(self) -> int:
        """File every archived cycle document (and credit note on one) under its quote: for
        archives that hold documents issued before the quote index existed. Idempotent (the
        index is write-once); returns how many documents are listed."""
        resources = {}
        for key in self._call(lambda: list(self.archive.list(keys.PREFIX + "/"))):
            if key.endswith("/resource.json"):
                resource = json.loads(self._call(self.archive.get, key))
                resources[resource["id"]] = resource
        listed = 0
        for doc_id, resource in sorted(resources.items()):
            document = resource.get("document") or {}
            quote = (document.get("quote") or {}).get("number")
            seller = keys.seller_of(doc_id)
            if quote is None and resource["type"] == "credit_note" and document.get("corrects"):
                corrected = resources.get(keys.document_id(seller, document["corrects"]["number"])) or {}
                quote = ((corrected.get("document") or {}).get("quote") or {}).get("number")
            if quote is None:
                continue
            self._call(self.archive.file_under_quote, seller, quote, {
                "id": doc_id, "number": resource["number"], "type": resource["type"],
                "issue_date": resource["issue_date"], "quote": quote})
            listed += 1
        return listed

    def ready(self) -> None:
        try:
            self.archive.ready()
        except ArchiveUnavailable as exc:
            raise StorageUnavailable(str(exc)) from None

    # ------------------------------------------------------------------ index (issue 15)

    def _index(self, resource: dict) -> None:
        """One row per original, after the original: a failure is logged and left to the
        start-up sweep, never the caller's problem (the archive is the truth)."""
        if self.index is not None:
            from .index import index_or_defer

            index_or_defer(self.index, self.archive, resource)

    # ------------------------------------------------------------------ helpers

    def _bundle(self, payload: InvoicePayload):
        try:
            bundle = self.templates.get(payload.template.name, payload.template.version)
        except TemplateNotFound:
            wanted = payload.template.name + (f" {payload.template.version}" if payload.template.version else "")
            raise InvalidPayload({"template": [f"No published template {wanted}."]}) from None
        unsupported = [f for f in payload.formats if not bundle.supports(f)]
        if unsupported:
            raise InvalidPayload({"formats": [f"Template {bundle.name} {bundle.version} does not render "
                                              f"{', '.join(unsupported)}."]})
        return bundle

    def _quote_of(self, payload: InvoicePayload) -> str | None:
        """The quote a document belongs to: its own, or for a credit note, that of the archived
        invoice it corrects (None when that invoice is not in this archive or on no quote)."""
        if payload.quote is not None:
            return payload.quote.number
        if payload.type != DocumentType.CREDIT_NOTE or payload.corrects is None:
            return None
        corrected = self._resource_or_none(keys.document_id(self._seller_key(payload), payload.corrects.number))
        quote = ((corrected or {}).get("document") or {}).get("quote")
        return quote["number"] if quote else None

    @staticmethod
    def _seller_key(payload: InvoicePayload) -> str:
        key = payload.seller.siren or payload.seller.vat_id
        if not key:
            raise InvalidPayload({"seller.siren": ["A SIREN (or, outside France, a VAT number) identifies "
                                                   "the seller's numbering series."]})
        return key

    def _resource_or_none(self, doc_id: str) -> dict | None:
        if not keys.is_document_id(doc_id):
            return None
        try:
            return json.loads(self._call(self.archive.get, keys.resource_key(doc_id)))
        except DocumentNotFound:
            return None

    @staticmethod
    def _retry_answer(existing: dict, payload_sha: str) -> dict:
        if existing.get("payload_sha256") != payload_sha:
            raise Conflict(f"Invoice {existing['number']} of seller {existing['id'].split('-', 1)[0]} "
                           f"was already issued with a different payload as {existing['id']}; "
                           "an original is never replaced: issue a credit note or a new number.",
                           existing=existing["id"])
        return existing

    def _put_or_reuse(self, key: str, data: bytes, media_type: str, retain_until: date | None):
        """Write a file once; if a crashed earlier attempt already wrote this render, keep its
        bytes. Returns the bytes and the store's version id of the original."""
        try:
            stored = self._call(self.archive.put_once, key, data, content_type=media_type, retain_until=retain_until)
            return data, stored.version
        except AlreadyExists:
            head = self._call(self.archive.head, key)
            version = head.version if head else None
            return self._call(self.archive.get, key, version), version

    @staticmethod
    def _call(fn, *args, **kwargs):
        """Archive calls with storage failures turned into 503s and absences into 404s."""
        try:
            return fn(*args, **kwargs)
        except NotFound as exc:
            raise DocumentNotFound(f"Not in the archive: {exc}") from None
        except ArchiveUnavailable as exc:
            raise StorageUnavailable(str(exc)) from None


class TemplateService:
    """Template designers' use cases: list, publish (after every check), preview."""

    def __init__(self, registry, archive, fixtures_dir, max_lines: int | None = None):
        self.registry = registry
        self.archive = archive
        self.fixtures_dir = fixtures_dir
        self.max_lines = max_lines  # DOCSVC_MAX_LINES: previews obey the same limit as issuing

    def fixtures(self) -> dict[str, dict]:
        """Every payload fixture by name (the cycle's order file excluded)."""
        out = {}
        for path in sorted(self.fixtures_dir.glob("*.json")):
            raw = json.loads(path.read_text(), parse_float=Decimal)
            if isinstance(raw, dict):
                out[path.stem] = raw
        return out

    def describe(self, name: str, version: str | None = None) -> dict:
        try:
            bundle = self.registry.get(name, version)
        except TemplateNotFound:
            raise DocumentNotFound(f"No template {name}" + (f" {version}" if version else "") + ".") from None
        published = self.registry.published(name).get((bundle.name, bundle.version))
        return {"name": bundle.name, "version": bundle.version, "description": bundle.description,
                "formats": list(bundle.formats) + (["facturx"] if "pdf" in bundle.formats else []),
                "languages": list(bundle.languages), "sha256": bundle.sha256,
                "source": "published" if published else "shipped",
                "published_at": published["published_at"] if published else None}

    def versions(self, name: str) -> dict:
        versions = self.registry.versions(name)
        if not versions:
            raise DocumentNotFound(f"No template {name}.")
        return {"name": name, "latest": versions[-1], "versions": [self.describe(name, v) for v in versions]}

    def publish(self, name: str, data: bytes) -> dict:
        """Accept a bundle only when its manifest is valid, every file compiles and every
        fixture renders in every format it declares; then store it, never to change."""
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
            raise InvalidPayload({"name": ["Lower-case letters, digits, - and _ only."]})
        workdir = Path(tempfile.mkdtemp(prefix="docsvc-publish-"))
        try:
            folder = workdir / "bundle"
            try:
                unpack(data, folder)
            except BundleRejected as exc:
                raise _rejected(exc.problems) from None
            version = _manifest_version(folder)
            if version and version in self.registry.versions(name):
                raise Conflict(f"Template {name} {version} exists; versions are immutable: publish a new version.",
                               existing=f"{name}/{version}")
            problems = check_bundle(folder, name)
            if not problems:
                try:
                    bundle = Bundle(folder)
                except Exception as exc:  # noqa: BLE001 - a designer's bundle can fail in any way; report it
                    problems = [render_error("document.html", exc)]
                else:
                    problems = self._render_fixtures(bundle, render_error)
            if problems:
                raise _rejected(problems)
            manifest = {"name": name, "version": version, "description": bundle.description,
                        "formats": list(bundle.formats), "languages": list(bundle.languages),
                        "sha256": bundle_sha256(folder),
                        "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            try:
                DocumentService._call(self.archive.put_once, zip_key(name, version), data,
                                      content_type="application/zip", retain_until=None)
            except AlreadyExists:
                pass  # a publish that crashed before its manifest: the manifest below completes it
            try:
                DocumentService._call(self.archive.put_once, manifest_key(name, version), canonical_json(manifest),
                                      content_type="application/json", retain_until=None)
            except AlreadyExists:
                raise Conflict(f"Template {name} {version} was published meanwhile.",
                               existing=f"{name}/{version}") from None
            return manifest
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _render_fixtures(self, bundle, render_error) -> list[dict]:
        """Every fixture in every declared format and language; one report per distinct
        error, naming the fixtures it broke."""
        problems: dict[tuple, dict] = {}
        rendered = 0
        for fixture, raw in self.fixtures().items():
            for language in bundle.languages:
                try:
                    document = enrich(load_payload({**raw, "language": language}),
                                      currency_places(raw.get("currency", "EUR")))
                except (ValidationError, BillingError):
                    continue  # not this bundle's fault
                plain = as_plain(document)
                for fmt in bundle.formats:
                    try:
                        bundle.render(fmt, plain)
                        rendered += 1
                    except Exception as exc:  # noqa: BLE001 - reported with file and line
                        report = render_error("document.html" if fmt == "pdf" else "document.docx", exc)
                        key = (report["file"], report["line"], report["message"])
                        problems.setdefault(key, {**report, "fixtures": []})["fixtures"].append(
                            f"{fixture} ({language}, {fmt})")
        if not rendered and not problems:  # nothing rendered is nothing checked: never publish on that
            return [{"file": "fixtures", "line": None,
                     "message": "no fixture to render the bundle with (DOCSVC_FIXTURES_DIR has none for its "
                                "languages): a version is published only once fixtures render through it"}]
        return [{**p, "message": f"{p['message']} — rendering {', '.join(p.pop('fixtures'))}"}
                for p in problems.values()]

    def preview(self, name: str, version: str, raw, fmt: str) -> bytes:
        """Render a payload (or {"fixture": name}) with exactly that version; archive nothing."""
        if isinstance(raw, dict) and set(raw) == {"fixture"}:
            fixtures = self.fixtures()
            if not isinstance(raw["fixture"], str) or raw["fixture"] not in fixtures:
                raise InvalidPayload({"fixture": [f"No fixture {raw['fixture']!r}; there are {', '.join(fixtures)}."]})
            raw = fixtures[raw["fixture"]]
        if isinstance(raw, dict):
            raw = {**raw, "template": {"name": name, "version": version},
                   "formats": [fmt if fmt in ("pdf", "docx", "facturx") else "pdf"]}
        try:
            bundle = self.registry.get(name, version)
        except TemplateNotFound:
            raise DocumentNotFound(f"No template {name} {version}.") from None
        validated = DocumentService(None, self.registry, max_lines=self.max_lines).validate(raw)
        check_drawable(raw, bundle)
        plain = as_plain(validated.document)
        if fmt == "html":
            return bundle.html(plain).replace(
                "</head>", f"<style>{(bundle.path / 'style.css').read_text()}</style></head>").encode()
        if not bundle.supports(fmt):
            raise InvalidPayload({"format": [f"Template {name} {version} does not render {fmt}."]})
        return bundle.render(fmt, plain)


def check_drawable(raw, bundle) -> None:
    """Refuse text the template version's fonts can't draw: an original is never re-rendered.
    A DOCX-only version is drawn with the reader's fonts, not ours: nothing to check."""
    if not bundle.supports("pdf"):
        return
    fonts = glyphs.coverage(bundle.path, bundle.sha256)
    errors = undrawable(raw, fonts.codepoints, f"{bundle.name} {bundle.version}", fonts.fonts)
    if errors:
        raise InvalidPayload(errors, f"Text the template {bundle.name} {bundle.version} can't draw: "
                             + ", ".join(sorted(errors)) + ".")


def _manifest_version(folder) -> str | None:
    try:
        return str(tomllib.loads((folder / "template.toml").read_text()).get("version"))
    except (OSError, tomllib.TOMLDecodeError):
        return None


def _rejected(problems: list[dict]) -> InvalidPayload:
    errors: dict[str, list[str]] = {}
    for p in problems:
        where = p["file"] + (f":{p['line']}" if p.get("line") else "")
        errors.setdefault(where, []).append(p["message"])
    return InvalidPayload(errors, f"The bundle was not published: {len(problems)} problem(s).")
