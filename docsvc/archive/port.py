"""What the service needs from an archive, whatever stores it."""
from __future__ import annotations

import builtins
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import keys


class AlreadyExists(Exception):
    """put_once found an object at that key: the original stays as it is."""


class NotFound(Exception):
    pass


class ArchiveUnavailable(Exception):
    """The storage can't be reached or answered too slowly; the request may be retried."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    retain_until: date | None
    retention_mode: str | None  # "read-only file", "COMPLIANCE", or None when unlocked
    version: str | None = None  # the store's version id (S3), so later reads get exactly this one


@dataclass(frozen=True)
class DerivedObject:
    """A file derived from originals (a batch's print file): replaceable, expiring, never an original."""
    key: str
    data: bytes
    content_type: str
    expires: date | None
    metadata: dict[str, str]


class Archive(ABC):
    """Write-once object storage. No method deletes or replaces an object."""

    backend: str
    #: Whether originals are kept until their retention date (an unlocked S3 dev bucket: False).
    locked: bool = True
    #: Why the last write failed in this process (None: it didn't, or a probe succeeded since).
    write_failed: str | None = None

    @abstractmethod
    def put_once(self, key: str, data: bytes, *, content_type: str,
                 retain_until: date | None) -> StoredObject:
        """Store `data` at `key` unless something is there already (then AlreadyExists)."""

    @abstractmethod
    def get(self, key: str, version: str | None = None) -> bytes:
        """The stored bytes, exactly (of that version when given); NotFound if absent."""

    @abstractmethod
    def head(self, key: str, version: str | None = None) -> StoredObject | None:
        """Size and retention of an object, or None when absent."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[str]:
        """Keys under `prefix`, in key order."""

    @abstractmethod
    def put_derived(self, key: str, data: bytes, *, content_type: str, expires: date | None,
                    metadata: dict[str, str]) -> None:
        """Store (or replace) a derived file, apart from the originals and without their lock;
        it may disappear after `expires`: it can be made again from the originals."""

    @abstractmethod
    def get_derived(self, key: str) -> DerivedObject:
        """A derived file with its metadata; NotFound when absent or past its expiry."""

    @abstractmethod
    def check(self) -> None:
        """Raise ArchiveUnavailable, with a one-line reason, if the storage can't serve."""

    # ------------------------------------------------------------------ the quote index

    def file_under_quote(self, seller: str, quote: str, entry: dict) -> None:
        """List a document (`entry`: id, number, type, issue_date) under its seller's quote,
        write-once like everything else: so the next situation or final invoice can find every
        deposit, situation and credit note of the quote without scanning the archive. Written
        before the document's resource, so an issued document is never missing from it; an
        entry whose resource never came (a crash) is ignored by the service."""
        try:
            self.put_once(keys.quote_entry_key(seller, quote, entry["number"]),
                          json.dumps(entry, sort_keys=True).encode(), content_type="application/json",
                          retain_until=None)
        except AlreadyExists:
            pass  # a retry of the same document, or a crashed attempt: the first entry stands

    def quote_documents(self, seller: str, quote: str) -> builtins.list[dict[str, Any]]:
        """The entries filed under a seller's quote, in key order (the ids: seller and number)."""
        return [json.loads(self.get(key)) for key in self.list(keys.quote_prefix(seller, quote))]

    def file_under_invoice(self, seller: str, invoice: str, entry: dict) -> None:
        """List a credit note (`entry`: id, number, type, issue_date) under the invoice it
        corrects, write-once and before its resource, as file_under_quote: so the next credit
        note on that invoice sees what was already credited."""
        try:
            self.put_once(keys.correction_entry_key(seller, invoice, entry["number"]),
                          json.dumps(entry, sort_keys=True).encode(), content_type="application/json",
                          retain_until=None)
        except AlreadyExists:
            pass  # a retry of the same credit note, or a crashed attempt: the first entry stands

    def credit_notes_of(self, seller: str, invoice: str) -> builtins.list[dict[str, Any]]:
        """The credit notes filed under a seller's invoice, in key order."""
        return [json.loads(self.get(key)) for key in self.list(keys.corrections_prefix(seller, invoice))]

    def ready(self) -> None:
        """Readiness: the check; and after a write failure, a write probe must succeed before
        the archive counts as ready again. Raises ArchiveUnavailable."""
        self.check()
        if self.write_failed:
            self.probe_write()
            self.write_failed = None

    def probe_write(self) -> None:
        """Show that a write would succeed now (an adapter that can't write a throwaway
        object, as a locked bucket can't, relies on its check)."""
        self.check()
