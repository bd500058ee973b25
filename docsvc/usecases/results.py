"""What the use cases answer: typed shapes, no URLs, no status codes (the HTTP layer adds those)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from ..billing.model import Document, InvoicePayload, as_plain
from ..schemas.resources import DocumentSchema, TotalsOut, VatRowOut


class FileRecord(TypedDict):
    """One archived original of a document, as recorded in its resource."""

    format: str
    media_type: str
    size: int
    version: str | None
    filename: str
    sha256: str
    key: str
    url: NotRequired[str]  # written by resources archived before the use cases knew no URL


class Resource(TypedDict):
    """The document resource: archived once as resource.json, never rewritten."""

    id: str
    type: str
    number: str
    seller: dict[str, Any]
    buyer: dict[str, Any]
    issue_date: str
    created_at: str
    template: dict[str, str]
    totals: dict[str, Any]
    document: dict[str, Any]
    files: list[FileRecord]
    archive: dict[str, Any]
    payload_sha256: str


class FileCheck(TypedDict):
    format: str
    sha256: str
    actual_sha256: str | None
    size: int | None
    intact: bool
    retention_mode: str | None
    retain_until: str | None
    error: str | None


class VerifyReport(TypedDict):
    id: str
    intact: bool
    checked_at: str
    retain_until: str | None
    files: list[FileCheck]


class TemplateVersion(TypedDict):
    name: str
    version: str
    description: str
    formats: list[str]
    languages: list[str]
    sha256: str
    source: NotRequired[str]
    published_at: str | None


@dataclass
class Validated:
    """A payload that passed every check, with every figure computed."""

    payload: InvoicePayload
    document: Document
    einvoice: tuple[bytes, str] | None = None  # (CII XML, Factur-X level) when facturx is asked for
    seen_on_quote: int | None = None  # a cycle document: how many issued documents of its quote the checks saw

    def totals(self) -> dict[str, Any]:
        totals: dict[str, Any] = TotalsOut().dump(self.document.totals)
        totals["vat_breakdown"] = VatRowOut(many=True).dump(self.document.vat_breakdown)
        return totals

    def document_json(self) -> dict[str, Any]:
        dumped: dict[str, Any] = DocumentSchema().dump(as_plain(self.document))
        return dumped


@dataclass(frozen=True)
class Issued:
    resource: Resource
    created: bool  # False: a retry found the same original


@dataclass(frozen=True)
class Original:
    data: bytes
    record: FileRecord
