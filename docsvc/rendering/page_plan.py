"""Where a long invoice's pages will break, guessed before it is laid out (issue 16).

Laying a long invoice out in parts (parts.py) keeps the whole document's pages only if
every part but the last ends where the whole document turns a page. That place is guessed
here, in a few tens of milliseconds, and checked by the part itself once laid out: a wrong
guess costs time, never a page.

The guess comes from one small layout, the probe: the document's head followed by one line
of each shape, where a shape is what sets a row's height in the line table: the number of
lines the description takes at its column's width (counted by Pango, in the style
WeasyPrint gave it), the details under it (gross price, allowances and charges) and whether
its price is for a base quantity. The probe gives each shape's height, where the rows start
on the first page and on the next ones, and where a page ends; the rows are then stacked
page by page as WeasyPrint does (a row that does not fit starts the next page).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from weasyprint.formatting_structure.boxes import TableBox
from weasyprint.text.ffi import ffi, pango
from weasyprint.text.line_break import create_layout

from .environment import nobreak

if TYPE_CHECKING:
    from .bundle import Bundle

#: what sets a row's height: its description's lines, its details, whether its price is per a base quantity
Shape = tuple[int, int, bool]
#: a template keeps its last lines with the closing figures (classic: 2, or all of 4 or fewer)
KEPT_AT_END = 4


@dataclass(frozen=True)
class _Column:
    """The description column, as WeasyPrint lays it out: its width and its text's style."""
    width: float
    style: Any


def item_rows(laid_out):
    """(page index, row box) of each row of the line table (`tr` with `data-out`), first fragment only."""
    seen = set()
    for index, page in enumerate(laid_out.pages):
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            element = getattr(box, "element", None)
            if getattr(box, "element_tag", None) == "tr" and element is not None and element.get("data-out"):
                if id(element) not in seen:
                    seen.add(id(element))
                    yield index, box
                continue
            stack.extend(reversed(getattr(box, "children", None) or ()))


def _description_column(row) -> _Column | None:
    """The row's `td.desc` cell: its content width and the style of its first text."""
    for cell in row.children:
        element = getattr(cell, "element", None)
        if element is not None and "desc" in (element.get("class") or "").split():
            text = _first_text(cell)
            return _Column(cell.width, text.style) if text is not None else None
    return None


def _first_text(box):
    if hasattr(box, "text"):
        return box
    for child in getattr(box, "children", None) or ():
        found = _first_text(child)
        if found is not None:
            return found
    return None


def _probe_part(count: int) -> dict:
    """A first part of `count` lines: the document's head and its first rows, nothing after."""
    return {"index": 0, "count": 2, "start": 0, "stop": count, "first": True, "last": False}


class _LineCounter:
    """Lines a description takes in its column, by Pango, one layout reused for every text."""

    def __init__(self, column: _Column):
        self.layout = create_layout("", column.style, None, column.width, 0)

    def __call__(self, text: str) -> int:
        if not text:
            return 1
        self.layout.set_text(" ".join(text.split()))  # white-space: normal, as the cell has it
        lines = 1
        while pango.pango_layout_get_line_readonly(self.layout.layout, lines) != ffi.NULL:
            lines += 1
        return lines


def shape(line: dict, description_lines: int) -> Shape:
    """What sets the height of a line's row: its description's lines, its details, a base quantity."""
    allowances, charges = line.get("allowances") or [], line.get("charges") or []
    details = (line.get("gross_price") is not None) + (len(allowances) + len(charges)
                                                        if charges or len(allowances) > 1 else 0)
    return description_lines, details, (line.get("base_quantity") or 1) != 1


#: what a line's row shows besides its description and details, the same in every probe:
#: the geometry depends on the template and the language only, never on a document
_SPECIMEN = {"quantity": Decimal(1), "unit": "C62", "unit_price": Decimal("1.00"), "discount_percent": None,
             "discount_amount": Decimal("0.00"), "net": Decimal("1.00"), "vat_category": "S",
             "vat_rate": Decimal(20), "exemption_mark": None, "price_discount": None}


def _specimen(line: dict, words: str, details: int = 0, per: bool = False) -> dict:
    """A row of the given shape for the probe (`line` only fills what the row does not show)."""
    allowance = {"reason": "Remise", "reason_code": "95", "percent": None, "base": None, "amount": Decimal("1.00")}
    charge = {"reason": "Port", "reason_code": "FC", "percent": None, "base": None, "amount": Decimal("1.00")}
    return dict(line, **_SPECIMEN, description=words, base_quantity=Decimal(100 if per else 1),
                gross_price=Decimal("1.00") if details in (1, 3) else None,
                allowances=[allowance] if details >= 2 else [], charges=[charge] if details >= 2 else [])


@dataclass(frozen=True)
class _Geometry:
    """A template's line table, for one language: the description column, each probed
    shape's row height, where rows start on a page after the first and where a page ends."""
    column: _Column
    heights: dict[Shape, float]
    next_top: float
    bottom: float

    def height(self, s: Shape) -> float:
        """A probed shape's height; beyond the probed ones, the last step repeated."""
        if s in self.heights:
            return self.heights[s]
        lines, details, per = s
        top_lines, top_details = max(k[0] for k in self.heights), max(k[1] for k in self.heights)
        if lines > top_lines:
            base = self.height((top_lines, details, per))
            return base + (lines - top_lines) * (base - self.height((top_lines - 1, details, per)))
        base = self.height((lines, top_details, per))
        return base + (details - top_details) * (base - self.height((lines, top_details - 1, per)))


#: each template's geometry, per language, measured on its first long invoice in this process
_GEOMETRY: dict[tuple[str, str], _Geometry | None] = {}


def _measure(bundle: Bundle, document: dict) -> _Geometry | None:
    """The template's geometry for the document's language, from a probe whose rows are
    specimens of every shape up to 3 description lines and 3 details."""
    line = document["lines"][0]
    first = bundle.lay_out(dict(document, lines=[_specimen(line, "Ligne")]), part=_probe_part(1))
    rows = [row for _, row in item_rows(first)]
    column = _description_column(rows[0]) if rows else None
    if column is None:
        return None
    count = _LineCounter(column)
    words = {1: "Ligne"}
    for n in (2, 3):
        text = words[n - 1]
        while count(text) < n:
            text += " ligne"
        words[n] = text
    shapes = [(n, details, per) for n in (1, 2, 3) for details in range(4) for per in (False, True)]
    specimens = [_specimen(line, words[n], details, per) for n, details, per in shapes]
    probe = bundle.lay_out(dict(document, lines=specimens), part=_probe_part(len(specimens)))
    rows_on = list(item_rows(probe))
    if len(rows_on) != len(shapes) or [count(words[n]) for n in (1, 2, 3)] != [1, 2, 3]:
        return None
    page, first_row = rows_on[0]
    page_box = probe.pages[page]._page_box
    top = page_box.content_box_y()
    table = _table_of(page_box, first_row)
    return _Geometry(column, {s: row.margin_height() for s, (_, row) in zip(shapes, rows_on, strict=True)},
                     top + (first_row.position_y - table.position_y), top + page_box.height)


def page_starts(bundle: Bundle, document: dict, until: int | None = None) -> list[int]:
    """The index of the first line of each page of the line table, as guessed (the first
    page's first line, 0, included), up to the first after `until`; [] when the template's
    rows can't be probed.

    Costs one layout of the document's head and first line (where the table starts on the
    first page), and Pango's line breaking of each description up to there."""
    lines = document.get("lines") or []
    if not lines:
        return []
    key = (bundle.sha256, document.get("language") or "fr")
    if key not in _GEOMETRY:
        _GEOMETRY[key] = _measure(bundle, document)
    geometry = _GEOMETRY[key]
    if geometry is None:
        return []
    head = bundle.lay_out(dict(document, lines=lines[:1]), part=_probe_part(1))
    rows = list(item_rows(head))
    if not rows or rows[0][0] != 0:  # the head fills the first page: not guessed
        return []
    count, counted = _LineCounter(geometry.column), {}
    starts, y = [0], rows[0][1].position_y
    for index, line in enumerate(lines):
        text = nobreak(line.get("description"))
        if text not in counted:
            counted[text] = count(text)
        height = geometry.height(shape(line, counted[text]))
        if index and y + height > geometry.bottom + 0.01:  # a row that does not fit starts the next page
            starts.append(index)
            if until is not None and index > until:
                break
            y = geometry.next_top
        y += height
    return starts


def snap(spans: list[tuple[int, int]], starts: list[int], keep: int = KEPT_AT_END) -> list[tuple[int, int]]:
    """`spans` (consecutive parts of the lines) with each boundary moved to the nearest
    page start of `starts`, so that every part but the last ends on a full page. A start
    among the last `keep` lines is never used (the template keeps them with the closing
    figures, on a page the guess does not know); a boundary that finds no start is dropped."""
    if not spans:
        return []
    end = spans[-1][1]
    candidates = [s for s in starts if 0 < s < end - keep]
    bounds = [0]
    for _, stop in spans[:-1]:
        left = [s for s in candidates if s > bounds[-1]]
        if left:
            bounds.append(min(left, key=lambda s: (abs(s - stop), s)))
    bounds.append(end)
    return list(zip(bounds, bounds[1:], strict=False)) if len(bounds) > 2 else []


def _table_of(page_box, row):
    """The table box holding `row` (its position is where a page after the first starts the table)."""
    stack = [page_box]
    while stack:
        box = stack.pop()
        if isinstance(box, TableBox) and _holds(box, row):
            return box
        stack.extend(getattr(box, "children", None) or ())
    raise LookupError("row outside any table")


def _holds(box, target) -> bool:
    return box is target or any(_holds(child, target) for child in getattr(box, "children", None) or ())
