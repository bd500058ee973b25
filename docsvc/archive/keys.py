"""Where a document lives in the archive: derived from seller and number only.

A retry of the same invoice computes the same keys, so it finds the original instead
of writing a second one. Document ids are readable: `552100554-F-2026-0042`, with
`/` in a number escaped as `~2F` so an id is always one URL path segment.
"""
from __future__ import annotations

import re

PREFIX = "documents"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
#: One segment of an archive key: what docsvc itself writes, nothing a path or a pattern
#: could make more of (no "..", no leading dot, no "*", no "/", bounded length).
_SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,199}")
#: A seller's key: a SIREN (9 digits) or, outside France, a VAT number.
SELLER_KEY = re.compile(r"[A-Z0-9]{2,16}")


def escape_number(number: str) -> str:
    return _UNSAFE.sub(lambda m: f"~{ord(m.group()):02X}", number)


def document_id(seller_key: str, number: str) -> str:
    return f"{seller_key}-{escape_number(number)}"


def is_key(key: str) -> bool:
    """Whether `key` is a key docsvc could have written: both archives refuse any other,
    so a hostile id or filter can never name a folder outside the archive."""
    return 0 < len(key) <= 900 and all(_SEGMENT.fullmatch(part) for part in key.split("/"))


def is_prefix(prefix: str) -> bool:
    """A listing prefix: empty, or a key followed by "/"."""
    return prefix == "" or (prefix.endswith("/") and is_key(prefix[:-1]))


def is_document_id(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Z0-9]{2,16}-[A-Za-z0-9_.~-]{1,140}", value))


def seller_of(doc_id: str) -> str:
    return doc_id.split("-", 1)[0]


def resource_key(doc_id: str) -> str:
    return f"{PREFIX}/{seller_of(doc_id)}/{doc_id}/resource.json"


def file_key(doc_id: str, render_id: str, extension: str) -> str:
    """Files sit under a render id (hash of payload + template), so a retry that
    re-renders the same thing lands on the same keys."""
    return f"{PREFIX}/{seller_of(doc_id)}/{doc_id}/{render_id}/{doc_id}.{extension}"


def seller_prefix(seller_key: str | None) -> str:
    return f"{PREFIX}/{seller_key}/" if seller_key else f"{PREFIX}/"


QUOTES = "quotes"


def quote_prefix(seller_key: str, quote_number: str) -> str:
    """Where the documents of one quote of one seller are listed: `quotes/<seller>/<quote>/`."""
    return f"{QUOTES}/{seller_key}/{escape_number(quote_number)}/"


def quote_entry_key(seller_key: str, quote_number: str, number: str) -> str:
    return f"{quote_prefix(seller_key, quote_number)}{escape_number(number)}.json"


CORRECTIONS = "corrections"


def corrections_prefix(seller_key: str, invoice_number: str) -> str:
    """Where the credit notes correcting one invoice of one seller are listed:
    `corrections/<seller>/<invoice>/`."""
    return f"{CORRECTIONS}/{seller_key}/{escape_number(invoice_number)}/"


def correction_entry_key(seller_key: str, invoice_number: str, number: str) -> str:
    return f"{corrections_prefix(seller_key, invoice_number)}{escape_number(number)}.json"
