"""A long invoice laid out in parts, in parallel processes (issue 16, item 4).

WeasyPrint lays pages out one after the other in one thread, about 4 ms per line of the
classic table: a 2 000-line invoice is 7 s on one core. Above `PartsPolicy.min_lines`
lines, a template that can (`parts = true` in its template.toml) is laid out as
`processes` consecutive parts of its lines, each in a process of its own:

- the first part has the document's head and the first lines, the last part the last
  lines and the closing figures; every part but the first starts on a new page with the
  running head and "Report" (the subtotal of the lines before it), every part but the
  last ends with "À reporter": the carried-forward subtotals stay right because each row
  carries its own running subtotal (classic 1.7.0's named strings);
- the parts are written as PDF (the Factur-X is made from that PDF, see einvoice/facturx.py)
  and put end to end with pikepdf; "Page x / N" is only known then, so the template lays out
  N pages that hold nothing but the page numbers (`numbers`), at the place its own page
  margins print them, and each is stamped over its page;
- the parts meet where the whole document turns a page: page_plan.py guesses where, and
  each part checks the guess on its own layout (`_lay_out_part`); a wrong guess costs the
  next part laid out again, never a page that is not full. So the pages are the whole
  document's (tests/integration/test_parts.py compares them pixel for pixel, and word by
  word to within 0.05 pt where type sizes vary; classic 1.7.0 and 1.7.1 print a part's
  "À reporter" half a line lower, 1.7.2 where the whole does);
- the result is byte-identical from run to run (pikepdf's deterministic /ID; the guess
  depends on the document and the template only).

The processes are started once per process that renders (spawned: no lock or thread of
the parent is inherited), on the first long invoice, and kept.

A daemonic process may not start processes: the job queue's worker processes (Celery
prefork children) lay documents out whole, one per process, as the queue already runs
one document per core.
"""
from __future__ import annotations

import io
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf

from ..processes import SpawnedPool

if TYPE_CHECKING:
    from .bundle import Bundle

#: a worker process renders this many parts before it is replaced (bounds its memory)
PARTS_PER_PROCESS = 50


@dataclass(frozen=True)
class PartsPolicy:
    """When a document is laid out in parts: above `min_lines` lines, in `processes` parts
    at once. `processes` <= 1 never does."""
    min_lines: int = 100
    processes: int = os.cpu_count() or 1

    def parts_for(self, lines: int) -> list[tuple[int, int]]:
        """[start, stop) of each part's lines: as many parts as processes, the same number
        of lines each (the first has the head, the last the closing figures, about equal).
        No parts in a daemonic process, which may not start any."""
        if self.processes <= 1 or lines <= self.min_lines or multiprocessing.current_process().daemon:
            return []
        count = self.processes
        bounds = [round(i * lines / count) for i in range(count + 1)]
        return list(zip(bounds, bounds[1:], strict=False))


def part_context(index: int, spans: list[tuple[int, int]]) -> dict:
    """What the template sees as `part`: which lines, and whether it opens or closes the document."""
    start, stop = spans[index]
    return {"index": index, "count": len(spans), "start": start, "stop": stop,
            "first": index == 0, "last": index == len(spans) - 1}


# ---------------------------------------------------------------- the worker processes

#: the processes laying parts out, one pool per process that renders (docsvc/processes.py)
POOL = SpawnedPool(max_tasks_per_child=PARTS_PER_PROCESS)

_BUNDLES: dict[tuple[str, str], Bundle] = {}


def _lay_out_part(path: str, sha256: str, document: dict, part: dict,
                  variant: str | None) -> tuple[bytes, int, int | None]:
    """In a worker process: one part, written; its number of pages; and, for a part that
    another follows, the line the next part must start at.

    A part that another follows is laid out with one line more, the next part's first: when
    that line starts a page of its own, the whole document turns a page there too (what
    comes before it is the same), and the part is written without that last page. When the
    line shares a page with lines of this part, the document turns its page before them: the
    part is written without that page, and the next part must start at its first line."""
    from .bundle import Bundle, fewer_collections
    from .page_plan import item_rows

    bundle = _BUNDLES.get((path, sha256))
    if bundle is None:
        bundle = _BUNDLES[(path, sha256)] = Bundle(Path(path))
        if bundle.sha256 != sha256:  # never seen: bundles are immutable once shipped or published
            raise RuntimeError(f"template at {path} changed while it rendered")
    with fewer_collections():
        if part["last"]:
            laid_out = bundle.lay_out(document, part=part)
            return bundle.write(laid_out, variant), len(laid_out.pages), None
        laid_out = bundle.lay_out(document, part=dict(part, stop=part["stop"] + 1))
        pages = [page for page, _ in item_rows(laid_out)]
        kept = pages[-1]  # the pages before the one holding the next part's first line
        following = part["start"] + pages.index(kept)
        laid_out.pages = laid_out.pages[:kept]
        return (bundle.write(laid_out, variant) if kept else b""), kept, following


def lay_out_in_parts(bundle: Bundle, document: dict, spans: list[tuple[int, int]], variant: str | None = None) -> bytes:
    """The document (the PDF, or another of WeasyPrint's variants), its parts laid out in
    parallel in the bundle's PartsPolicy processes, numbered afterwards.

    Each part tells where the next one must start (see `_lay_out_part`): a next part laid
    out from another line is laid out again from there, so the pages are always the whole
    document's; a guessed boundary (page_plan.py) that was right costs nothing more.
    A part that could keep no page (a boundary guessed far too early) has the document
    laid out whole, here. So is it if a worker process died (killed, out of memory): the
    pool is dropped for a new one next time, and the document is issued all the same."""
    assert bundle.parts is not None, "a bundle laid out in parts has a PartsPolicy"
    pool = POOL.get(bundle.parts.processes)
    spans = list(spans)
    try:
        futures = [pool.submit(_lay_out_part, str(bundle.path), bundle.sha256, document, part_context(i, spans),
                               variant) for i in range(len(spans))]
        results = [future.result() for future in futures]
        for i in range(len(spans) - 1):
            _, kept, following = results[i]
            if not kept:
                return bundle.write(bundle.lay_out(document), variant)
            assert following is not None, "a part that another follows says where that one starts"
            if following != spans[i + 1][0]:
                spans[i + 1] = (following, spans[i + 1][1])
                results[i + 1] = pool.submit(_lay_out_part, str(bundle.path), bundle.sha256, document,
                                             part_context(i + 1, spans), variant).result()
    except RuntimeError:  # BrokenProcessPool (a process died), or the pool stopped meanwhile (recycle_bloated)
        POOL.drop(pool)
        return bundle.write(bundle.lay_out(document), variant)
    total = sum(pages for _, pages, _ in results)
    numbers = bundle.lay_out(document, numbers=total)
    assert len(numbers.pages) == total, "the numbers template lays out one page per page"
    return assemble([written for written, _, _ in results], bundle.write(numbers, variant))


def _stamp(page: pikepdf.Page, stamp: pikepdf.Page, number: int) -> None:
    """`stamp` drawn over `page`: pikepdf's add_overlay, with a name of our own instead of a
    random one (the same bytes every time), one per page (WeasyPrint's pages share one
    resource dictionary, where the names would otherwise collide)."""
    form = stamp.as_form_xobject()
    name = page.add_resource(form, pikepdf.Name.XObject, pikepdf.Name(f"/DocsvcPage{number}"))
    page.contents_add(b"q\n", prepend=True)
    page.contents_add(b"Q\n")
    page.contents_add(page.calc_form_xobject_placement(form, name, pikepdf.Rectangle(page.trimbox)))
    page.contents_coalesce()


def assemble(parts: list[bytes], numbers: bytes) -> bytes:
    """The parts end to end, the first one's catalogue (metadata, output intent) kept, and
    each page's number stamped over it."""
    opened = [pikepdf.open(io.BytesIO(data)) for data in parts]
    stamps = pikepdf.open(io.BytesIO(numbers))
    try:
        out = opened[0]
        for other in opened[1:]:
            out.pages.extend(other.pages)
        for number, (page, stamp) in enumerate(zip(out.pages, stamps.pages, strict=True), start=1):
            _stamp(page, stamp, number)
        buffer = io.BytesIO()
        out.save(buffer, deterministic_id=True)
        return buffer.getvalue()
    finally:
        for pdf in [*opened, stamps]:
            pdf.close()
