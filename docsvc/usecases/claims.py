"""Claims: which request may write an original while two are being issued at once.

Two requests can pass every check at the same moment: two payloads under one number, two
final invoices on one quote, two deposits that each fit but not together. Each would then
write its files, and a write-once archive can never take them back (issue 16's session: 9
refused requests left 10 files; 6 of 6 pairs of final invoices were both issued). So, after
rendering and before writing anything else, an issue claims, write-once:

- for a document of a quote's cycle, first the quote's next place, as its checks saw the
  quote (`claims/<seller>/quotes/<quote>/<documents seen>/<generation>.json`);
- then its number, for its payload (`claims/<seller>/documents/<id>/<generation>.json`).

The claim held by another payload or document means: being issued now, retry (`InProgress`,
409 with Retry-After). On the retry, the checks see what the other one issued. A claim is its
owner's for good: a retry of the same payload after a crash finds its own and goes on. One
whose owner never issued within STALE_AFTER seconds (a crash between claim and resource) is
passed over: the next generation is claimed.
"""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from ..archive import AlreadyExists, Archive, keys
from ..errors import InProgress
from .archive_calls import call, resource_or_none

#: Seconds after which a claim whose document was never issued is passed over: longer than
#: the writes between the claim and the resource ever take (the rendering comes before).
STALE_AFTER = 120
#: Generations tried before giving up: each is a claim that went stale.
GENERATIONS = 20


def claim_document(archive: Archive, doc_id: str, payload_sha: str, number: str) -> None:
    """This payload may write the originals of `doc_id`, or InProgress / Conflict."""
    base = f"claims/{keys.seller_of(doc_id)}/documents/{doc_id}"
    held = _claim(archive, base, {"id": doc_id, "payload_sha256": payload_sha},
                  lambda other: other.get("payload_sha256") == payload_sha)
    if held is not None:
        raise InProgress(f"Invoice {number} is being issued with another payload right now; nothing was written "
                         "for this request. Retry it: once the other is issued, it is answered 409 with the "
                         "original.", existing=doc_id)


def claim_quote_place(archive: Archive, seller: str, quote: str, seen: int, doc_id: str, payload_sha: str) -> None:
    """This document may be the quote's next one, after the `seen` documents its checks saw."""
    base = f"claims/{seller}/quotes/{keys.escape_number(quote)}/{seen}"
    held = _claim(archive, base, {"id": doc_id, "payload_sha256": payload_sha},
                  lambda other: other.get("id") == doc_id and other.get("payload_sha256") == payload_sha)
    if held is not None:
        raise InProgress(f"Another document of quote {quote} ({held}) was issued or is being issued since this one "
                         "was checked; nothing was written for this request. Retry it: it is checked again with "
                         "that document (which it may have to list in previous_invoices).", existing=held)


def _claim(archive: Archive, base: str, owner: dict, mine) -> str | None:
    """Claim `base`: None once it is ours (new, or ours already), else the id of its holder."""
    for generation in range(GENERATIONS):
        key = f"{base}/{generation}.json"
        record = {**owner, "claimed_at": datetime.now(UTC).isoformat(timespec="seconds"), "at": time.time()}
        try:
            call(archive.put_once, key, json.dumps(record, sort_keys=True).encode(),
                 content_type="application/json", retain_until=None)
            return None
        except AlreadyExists:
            other = json.loads(call(archive.get, key))
            if mine(other):
                return None
            issued = resource_or_none(archive, other["id"]) is not None
            if issued or time.time() - float(other.get("at", 0)) < STALE_AFTER:
                return str(other["id"])
            # its holder claimed and never issued (a crash): the next generation
    return base
