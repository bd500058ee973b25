"""HTML to PDF through WeasyPrint, fetching nothing but the bundle's own assets."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint import CSS, DEFAULT_OPTIONS, Document
from weasyprint.pdf import VARIANTS
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import borders, compression, line_cache, style_cache, subset_arrays
from .errors import AssetRefused
from .html_tree import Parser

# In every process that renders, so that a document's bytes don't depend on which one wrote it (issue 16):
borders.install()  # plain borders drawn as rectangles
compression.install()  # streams at zlib's default level
line_cache.install()  # lines of text measured once per process
subset_arrays.install()  # font subsetting's glyph arrays of a C type parsed once
style_cache.install()  # computed styles worked out once per template version

#: Base URL of every bundle: relative URLs resolve under it, and nothing is ever fetched
#: from this (reserved, unresolvable) host: the fetcher below serves it from disk.
BUNDLE_BASE = "https://bundle.invalid/"
#: a template with a closing block (see PdfEngine.layout_carried): only then is it measured
CLOSING = re.compile(r'class="(?:[^"]*\s)?closing[\s"]')


class BundleFetcher(URLFetcher):
    """Serves files under the bundle's `assets/` and refuses everything else, loudly:
    no file://, no http(s), no data: exfiltration, no `..` out of the bundle."""

    def __init__(self, assets: Path):
        super().__init__(fail_on_errors=True)
        self.root = assets.resolve()

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if f"{parsed.scheme}://{parsed.netloc}/" != BUNDLE_BASE:
            raise AssetRefused(f"template asked for {url!r}: only the bundle's assets/ are served")
        relative = unquote(parsed.path).lstrip("/")
        target = (self.root.parent / relative).resolve()
        if self.root not in target.parents:
            raise AssetRefused(f"template asked for {relative!r}: only assets/ is served")
        if not target.is_file():
            raise AssetRefused(f"template asked for {relative!r}, which the bundle lacks")
        return URLFetcherResponse(url, target.read_bytes(), {"Content-Type": _media_type(target)})


def _media_type(path: Path) -> str:
    return {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
            ".otf": "font/otf", ".ttf": "font/ttf", ".woff": "font/woff", ".woff2": "font/woff2",
            ".css": "text/css"}.get(path.suffix.lower(), "application/octet-stream")


class PdfEngine:
    """One per bundle: the parsed stylesheet and the font configuration are built once
    and reused, which keeps worker memory flat (DESIGN.md)."""

    def __init__(self, bundle_path: Path, css_text: str):
        self.fetcher = BundleFetcher(bundle_path / "assets")
        self.fonts = FontConfiguration()
        style_cache.keep_styles(self.fonts)
        self.css = CSS(string=css_text, base_url=BUNDLE_BASE, url_fetcher=self.fetcher, font_config=self.fonts)
        self.parser = Parser(f"{bundle_path.parent.name} {bundle_path.name}")  # HTML parsed in C (html_tree)

    def write(self, document: Document, variant: str | None = None) -> bytes:
        """The PDF (`variant=None`) or a variant such as the PDF/A-3b (`"pdf/a-3b"`) of pages
        laid out once. Factur-X no longer writes the pages as PDF/A-3b: einvoice.facturx.embed
        adds what that variant adds to the PDF's bytes; the variant is written only to compare
        with (tests/integration/test_facturx_pdfa.py, bench/facturx_cost.py).

        Laying out does not depend on the variant (pdf/a-3b adds no tags): only the output
        intent does, which WeasyPrint stores on the Document at layout, and writing adds
        the fonts it used and the sRGB profile to the Document. So each write gets a fresh
        Document over the same pages, with the variant's output intent: the bytes are those
        of a layout made for that variant alone (tests/unit/test_rendering.py checks it)."""
        intent = VARIANTS[variant][1].get("output_intent") if variant else None
        fresh = Document(document.pages, document.metadata, document.url_fetcher, document.font_config,
                         dict(document.color_profiles), intent)
        options = self._options(variant)
        return fresh.write_pdf(None, 1, None, **{k: options[k] for k in DEFAULT_OPTIONS})

    # ------------------------------------------------------------ carried-forward subtotals

    def layout_carried(self, html_for: Callable[[dict, bool], str]) -> Document:
        """The pages of a document, laid out once for every PDF variant written from them.

        A line table that runs over several pages shows "À reporter" at the foot of each
        page and "Report" at the head of the next, with the running subtotal.

        CSS can't add up what lands on a page, so the layout is read back: rows marked
        `data-row` (a key) and `data-carry` (the amount the subtotal adds) are laid out
        once; the page breaks are planned from their heights so that each page keeps room
        for its two subtotal rows; the template is filled again with `carry` = {row key:
        subtotal after that row}, and it puts a forced page break after each "À reporter"
        row. The result is checked against the new layout (every subtotal row on the page
        of the rows it adds up, no other break inside the table) and corrected a row at a
        time until it is stable. Templates without `data-carry` (classic 1.0.0, and 1.7.0,
        which shows the subtotals in the page margins from CSS named strings) are laid out once.

        The block of class `closing` (the table's last rows and the closing figures) is
        kept on one page; when it is taller than a page, `html_for` is asked for the
        `closing_split` variant, where only its parts are kept whole: the one case where a
        template without `data-carry` is laid out twice.
        """
        html = html_for({}, False)
        document = self._layout(html)
        height = _closing_height(document) if CLOSING.search(html) else None
        split = height is not None and height > document.pages[0]._page_box.height * 0.97
        if split:
            document = self._layout(html_for({}, True))
        if "data-carry=" not in html:
            return document
        rows = _rows(document)
        if len({r.page for r in rows}) <= 1:
            return document
        amounts = {r.key: r.amount for r in rows}
        order = [r.key for r in rows]
        breaks = _plan(document, rows, split)
        for _ in range(4 + 2 * len(document.pages)):
            carry = _subtotals(order, amounts, breaks)
            document = self._layout(html_for(carry, split))
            fixed = _check(_rows(document), _carry_rows(document), breaks, order)
            if fixed is None:
                return document
            breaks = fixed
        return document  # never seen: the last layout, checked as far as it went

    def _options(self, variant):
        options = DEFAULT_OPTIONS.copy()
        options.update(stylesheets=[self.css], pdf_variant=variant)
        return options

    def _layout(self, html: str) -> Document:
        document = self.parser.html(html, BUNDLE_BASE, self.fetcher)
        return document.render(font_config=self.fonts, **self._options(None))


@dataclass(frozen=True)
class _Row:
    key: str
    amount: Decimal
    page: int
    top: float
    height: float
    closing: bool  # inside the block kept with the closing figures (moves as one)


def _is_closing(box) -> bool:
    element = getattr(box, "element", None)
    return element is not None and "closing" in (element.get("class") or "").split()


def _boxes(box, closing: bool = False):
    """Every box under `box`, with whether it lies inside the closing block."""
    closing = closing or _is_closing(box)
    yield box, closing
    for child in getattr(box, "children", None) or ():
        yield from _boxes(child, closing)


def _marked(document, attribute: str):
    for index, page in enumerate(document.pages):
        for box, closing in _boxes(page._page_box):
            element = getattr(box, "element", None)
            if getattr(box, "element_tag", None) == "tr" and element is not None and element.get(attribute):
                yield index, box, element, closing


def _rows(document) -> list[_Row]:
    out, seen = [], set()
    for page, box, element, closing in _marked(document, "data-row"):
        key = element.get("data-row")
        if key in seen:  # a row split over two pages: its first part counts
            continue
        seen.add(key)
        out.append(_Row(key, Decimal(element.get("data-carry") or "0"), page, box.position_y,
                        box.margin_height(), closing))
    return out


def _carry_rows(document) -> dict[str, int]:
    """Page of each "À reporter" row, by the key of the row it follows."""
    return {element.get("data-carry-after"): page for page, _, element, _ in _marked(document, "data-carry-after")}


def _subtotals(order: list[str], amounts: dict[str, Decimal], breaks: list[str]) -> dict[str, Decimal]:
    out, running, wanted = {}, Decimal(0), set(breaks)
    for key in order:
        running += amounts[key]
        if key in wanted:
            out[key] = running
    return out


def _plan(document, rows: list[_Row], split: bool = False) -> list[str]:
    """Break points from the first layout's heights: a page takes rows while there is
    room left for its "À reporter" row; the next starts under its "Report" row. The rows
    kept with the closing block move as one (unless the block is split)."""
    if split:
        rows = [_Row(r.key, r.amount, r.page, r.top, r.height, False) for r in rows]
    page_box = document.pages[0]._page_box
    bottom = page_box.content_box_y() + page_box.height
    carry_h = min(r.height for r in rows)
    later = [r for r in rows if r.page > rows[0].page and not r.closing]
    next_top = later[0].top if later else page_box.content_box_y() + 2 * carry_h  # under the repeated header
    breaks: list[str] = []
    y = rows[0].top
    body = [r for r in rows if not r.closing]
    for previous, row in zip([None, *body], body, strict=False):
        if previous is not None and y + row.height + carry_h > bottom + 0.01:
            breaks.append(previous.key)
            y = next_top + carry_h
        y += row.height
    closing = [r for r in rows if r.closing]
    if body and closing:
        closing_h = _closing_height(document) or sum(r.height for r in closing)
        if closing[0].page != body[-1].page or y + closing_h > bottom + 0.01:
            if not breaks or breaks[-1] != body[-1].key:
                breaks.append(body[-1].key)
    return breaks


def _closing_height(document) -> float | None:
    """Height of the block kept with the closing figures, on the page where it starts, and
    of the table rows of class `k` kept with it from outside it (classic 1.7.0).

    The block ends the document: the pages are searched from the last one back to where it
    starts, and only that page and the one before (the kept rows) are measured."""
    pages = document.pages
    start = None
    for index in range(len(pages) - 1, -1, -1):
        if any(_is_closing(box) for box, _ in _boxes(pages[index]._page_box)):
            start = index
        elif start is not None:
            break
    if start is None:
        return None
    block, kept, seen = 0.0, 0.0, set()
    for index in (start - 1, start):
        for box, _ in _boxes(pages[index]._page_box) if index >= 0 else ():
            element = getattr(box, "element", None)
            if index == start and not block and _is_closing(box):
                block = box.margin_height()
            elif (getattr(box, "element_tag", None) == "tr" and element is not None and element not in seen
                  and "k" in (element.get("class") or "").split()):
                seen.add(element)
                kept += box.margin_height()
    return block + kept


def _check(rows: list[_Row], carried: dict[str, int], breaks: list[str], order: list[str]) -> list[str] | None:
    """None when the layout is as planned; otherwise the corrected break points."""
    page_of = {r.key: r.page for r in rows}
    position = {key: i for i, key in enumerate(order)}
    for i, key in enumerate(breaks):
        if carried.get(key) != page_of.get(key):  # "À reporter" slid to the next page: break a row earlier
            earlier = order[position[key] - 1] if position[key] > 0 else None
            return breaks[:i] + ([earlier] if earlier and earlier not in breaks[:i] else [])
    wanted = set(breaks)
    for previous, row in pairwise(rows):
        if row.page != previous.page and previous.key not in wanted:  # a break nobody planned
            return sorted(wanted | {previous.key}, key=position.__getitem__)
    return None
