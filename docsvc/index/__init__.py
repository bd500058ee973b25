"""The search index beside the write-once archive (derived from it, rebuilt from it)."""
from __future__ import annotations

import logging

from .store import DocumentIndex, IndexUnavailable, Page, Query, describe, row_of
from .sync import check, index_or_defer, rebuild, sweep

__all__ = ["DocumentIndex", "IndexUnavailable", "Page", "Query", "describe", "row_of", "check",
           "index_or_defer", "rebuild", "sweep", "open_index"]

log = logging.getLogger("docsvc.index")


def open_index(url: str, archive) -> DocumentIndex:
    """The index at `url`, migrated and swept. A database that is down doesn't stop the
    service (issuing needs only the archive): it is said loudly, /readyz names it, and the
    next start-up's sweep catches up."""
    index = DocumentIndex(url)
    try:
        index.migrate()
    except IndexUnavailable as exc:
        log.warning("%s; search answers 503 until it is back", exc)
        return index
    if archive is not None:
        try:
            sweep(index, archive)
        except Exception as exc:  # noqa: BLE001 - the sweep catches up at the next start
            log.warning("index sweep at start-up failed: %s", exc)
    return index
