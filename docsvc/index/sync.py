"""Keeping the index in step with the archive: after each issue, at start-up, on demand.

A document whose row could not be written (the database was down) gets a small marker in
the archive under `index/pending/<month>/`; the start-up sweep reads the markers written
since its high-water mark (the last marker it handled), so its work is bounded by what
was missed, not by the size of the archive. `rebuild` re-derives every row from the
resources themselves; `check` compares both sides.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TextIO

from ..archive import Archive, NotFound, keys
from .store import DocumentIndex, row_of

log = logging.getLogger("docsvc.index")

PENDING = "index/pending/"
SWEEP_MARK = "sweep_high_water_mark"
REBUILD_CHECKPOINT = "rebuild_checkpoint"


def pending_key(doc_id: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{PENDING}{now:%Y-%m}/{now:%Y%m%dT%H%M%S%fZ}-{doc_id}.json"


def index_or_defer(index: DocumentIndex, archive: Archive, resource: dict) -> bool:
    """Write the resource's row; if that fails, leave a marker for the sweep. Never raises:
    the original is archived already, and the archive is the truth. True when indexed."""
    try:
        index.upsert(resource)
        return True
    except Exception as exc:  # noqa: BLE001 - any failure: the sweep or a rebuild will index it
        log.warning("document %s archived but not indexed (%s); the start-up sweep will index it",
                    resource.get("id"), exc)
    try:
        archive.put_once(pending_key(resource["id"]), json.dumps({"id": resource["id"]}).encode(),
                         content_type="application/json", retain_until=None)
    except Exception as exc:  # noqa: BLE001
        log.error("document %s: no index row and no sweep marker (%s): run `docsvc index rebuild --since %s`",
                  resource.get("id"), exc, (resource.get("created_at") or "")[:10])
    return False


def _months(first: str, last: str) -> Iterator[str]:
    year, month = map(int, first.split("-"))
    while f"{year:04d}-{month:02d}" <= last:
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def sweep(index: DocumentIndex, archive: Archive) -> int:
    """Index the documents whose row was missed since the last sweep. Returns how many."""
    mark = index.get_state(SWEEP_MARK)
    if mark is None:
        markers = list(archive.list(PENDING))
    else:
        first = mark[len(PENDING):len(PENDING) + 7]
        today = datetime.now(UTC).strftime("%Y-%m")
        markers = [k for month in _months(first, max(first, today))
                   for k in archive.list(f"{PENDING}{month}/") if k > mark]
    done = 0
    for key in markers:
        doc_id = json.loads(archive.get(key))["id"]
        try:
            resource = json.loads(archive.get(keys.resource_key(doc_id)))
        except NotFound:
            log.error("sweep: marker %s names %s, which has no resource in the archive", key, doc_id)
        else:
            index.upsert(resource)
            done += 1
        index.set_state(SWEEP_MARK, key)
    if done:
        log.info("index sweep: %d document(s) indexed after the database came back", done)
    return done


@dataclass
class Progress:
    """A progress bar on stderr: one line rewritten in place (or a line per step when piped)."""

    total: int
    out: TextIO = field(default_factory=lambda: sys.stderr)
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    skipped: int = 0
    _shown: float = 0.0
    _last_seen: int = -1

    def step(self, indexed: int, skipped: int = 0, final: bool = False) -> None:
        self.done += indexed
        self.skipped += skipped
        now = time.monotonic()
        if not final and now - self._shown < 0.5:
            return
        self._shown = now
        seen = self.done + self.skipped
        width = 30
        filled = int(width * seen / self.total) if self.total else width
        rate = self.done / max(now - self.started, 1e-6)
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {seen}/{self.total} "
                f"({self.done} indexed, {self.skipped} skipped, {rate:,.0f} documents/s)")
        tty = getattr(self.out, "isatty", lambda: False)()
        if seen == self._last_seen and not tty:  # piped: no line twice for the same count
            return
        self._last_seen = seen
        self.out.write(("\r" + line + ("\n" if final else "")) if tty else line + "\n")
        self.out.flush()


def resource_keys(archive: Archive) -> Iterator[str]:
    return (k for k in archive.list(keys.PREFIX + "/") if k.endswith("/resource.json"))


def _doc_id(resource_key: str) -> str:
    return resource_key.rsplit("/", 2)[-2]


@dataclass
class RebuildResult:
    indexed: int
    skipped: int
    resumed_after: str | None
    seconds: float


def rebuild(index: DocumentIndex, archive: Archive, *, since: date | None = None, batch: int = 500,
            restart: bool = False, progress: Callable[[int], Progress] | None = None,
            readers: int = 8) -> RebuildResult:
    """Re-derive rows from every resource in the archive (or those created or issued since
    `since`), `batch` per transaction. After each batch the last key is kept as a checkpoint:
    an interrupted rebuild started again with the same `since` carries on from there.
    `readers` threads read resources meanwhile (disk or S3 reads wait, they don't compute)."""
    run = since.isoformat() if since else "all"
    checkpoint = None if restart else index.get_state(REBUILD_CHECKPOINT)
    started = time.monotonic()  # after the migration: the rate is the rebuild's own
    resume_after = None
    if checkpoint:
        kept_run, _, kept_key = checkpoint.partition(" ")
        resume_after = kept_key if kept_run == run else None
    todo = [k for k in resource_keys(archive) if resume_after is None or k > resume_after]
    bar = progress(len(todo)) if progress else None
    indexed = skipped = 0
    pool = ThreadPoolExecutor(readers, thread_name_prefix="index-rebuild")

    def read(key: str) -> dict | None:
        try:
            return row_of(json.loads(archive.get(key)))
        except NotFound:  # listed, then gone: an S3 delete marker; `docsvc archive check` reports it
            return None

    try:
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            if since is not None:
                known = index.dates_of(_doc_id(k) for k in chunk)
                chunk_keys = [k for k in chunk if not _older(known.get(_doc_id(k)), since)]
            else:
                chunk_keys = chunk
            rows = [row for row in pool.map(read, chunk_keys) if row is not None and (
                since is None or row["issue_date"] >= since or row["created_at"].date() >= since)]
            index.upsert_rows(rows)
            index.set_state(REBUILD_CHECKPOINT, f"{run} {chunk[-1]}")
            indexed += len(rows)
            skipped += len(chunk) - len(rows)
            if bar:
                bar.step(len(rows), len(chunk) - len(rows))
    finally:
        pool.shutdown()
    if bar:
        bar.step(0, final=True)
    index.set_state(REBUILD_CHECKPOINT, None)
    return RebuildResult(indexed, skipped, resume_after, time.monotonic() - started)


def _older(known: tuple[datetime, date] | None, since: date) -> bool:
    """An indexed row created and issued before `since` needn't be read again."""
    if known is None:
        return False
    created, issued = known
    issued = issued if isinstance(issued, date) else date.fromisoformat(str(issued))
    return created.date() < since and issued < since


@dataclass
class CheckReport:
    archived: int
    indexed: int
    missing: list[str]  # in the archive, not in the index
    orphans: list[str]  # in the index, with no original in the archive

    @property
    def consistent(self) -> bool:
        return not self.missing and not self.orphans


def check(index: DocumentIndex, archive: Archive) -> CheckReport:
    archived = {_doc_id(k) for k in resource_keys(archive)}
    indexed = set(index.all_ids())
    return CheckReport(len(archived), len(indexed), sorted(archived - indexed), sorted(indexed - archived))
