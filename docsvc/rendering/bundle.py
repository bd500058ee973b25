"""One template version: a folder with template.toml, HTML + CSS, DOCX, labels, assets.

Loading a bundle compiles everything once (Jinja, CSS, fonts, the DOCX bytes); each
render then only fills in a document. The SHA-256 of a canonical listing of the files
identifies exactly what rendered an original.
"""
from __future__ import annotations

import gc
import hashlib
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jinja2 import FileSystemLoader
from weasyprint import Document

from . import page_plan
from .context import render_context
from .docx import DocxEngine
from .environment import make_environment
from .errors import UnsupportedFormat
from .html_pdf import PdfEngine
from .parts import PartsPolicy, lay_out_in_parts

#: One render at a time per process: docsvc serve runs a few threads per worker, WeasyPrint
#: (Pango, fontconfig) is not documented thread-safe, and rendering is CPU-bound anyway.
_RENDERING = threading.Lock()


#: The collector's thresholds while a document renders (bench/render.py measures it): a layout
#: allocates hundreds of thousands of boxes that live until the end of the render, and with
#: Python's default (700, 10, 10) the collector walks them again and again for nothing.
#: Raised, not disabled, so that the garbage a long render leaves stays bounded.
RENDER_GC_THRESHOLDS = (100_000, 50, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(*RENDER_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


#: Shipped bundles that print a retention as its amount and the cumulative retention only, both
#: true when a situation catches up what earlier ones could not withhold (classic 1.0.0): they
#: predate `retention_caught_up` in template.toml, and a shipped bundle is never edited.
PLAIN_RETENTION = frozenset({"8d809fea720b36f9d36f97cc07d9461c2b4f6dea0d4ab94e1fb6dd52b92ccda2"})


class Pages:
    """The PDF of one document, kept between its formats (see Bundle.render): hold one per
    document being issued, never across documents."""

    def __init__(self) -> None:
        self.pdf: bytes | None = None


def bundle_files(path: Path) -> list[Path]:
    return sorted((p for p in path.rglob("*") if p.is_file() and not any(
        part.startswith(".") or part == "__pycache__" for part in p.relative_to(path).parts)),
        key=lambda p: p.relative_to(path).as_posix())


def bundle_sha256(path: Path) -> str:
    """SHA-256 of "relative/path\\0sha256(bytes)\\n" for every file, in path order."""
    listing = hashlib.sha256()
    for file in bundle_files(path):
        listing.update(f"{file.relative_to(path).as_posix()}\0{hashlib.sha256(file.read_bytes()).hexdigest()}\n"
                       .encode())
    return listing.hexdigest()


class Bundle:
    def __init__(self, path: Path, parts: PartsPolicy | None = None):
        self.path = Path(path)
        manifest = tomllib.loads((self.path / "template.toml").read_text())
        self.name: str = manifest["name"]
        self.version: str = manifest["version"]
        self.description: str = manifest.get("description", "")
        self.formats: tuple[str, ...] = tuple(manifest.get("formats", ["pdf"]))
        self.languages: tuple[str, ...] = tuple(manifest.get("languages", ["fr"]))
        # a template that can be laid out in parts (its `part` and `numbers` modes, see parts.py)
        self.parts = parts if manifest.get("parts", False) else None
        self.sha256 = bundle_sha256(self.path)
        # its retention line reads true for a situation catching up what earlier ones could not withhold
        self.retention_caught_up = bool(manifest.get("retention_caught_up", False)) or self.sha256 in PLAIN_RETENTION
        self.labels = {lang: tomllib.loads((self.path / "labels" / f"{lang}.toml").read_text())
                       for lang in self.languages}
        # loaded by name so errors carry "document.html" and the template's line number
        self.html_env = make_environment(loader=FileSystemLoader(str(self.path)), autoescape=True)
        self.html_template = self.html_env.get_template("document.html") if "pdf" in self.formats else None
        self._pdf = PdfEngine(self.path, (self.path / "style.css").read_text()) if "pdf" in self.formats else None
        self._docx = (DocxEngine((self.path / "document.docx").read_bytes(), make_environment(autoescape=False),
                                 self.sha256)
                      if "docx" in self.formats else None)

    def context(self, document: dict, carry: dict | None = None, closing_split: bool = False,
                part: dict | None = None, numbers: int | None = None) -> dict:
        """The render context: the enriched document, the labels of its language, the template."""
        return render_context(document, self, carry, closing_split, part, numbers)

    def html(self, document: dict, carry: dict | None = None, closing_split: bool = False,
             part: dict | None = None, numbers: int | None = None) -> str:
        assert self.html_template is not None, f"template {self.name} {self.version} renders no PDF"
        return self.html_template.render(self.context(document, carry, closing_split, part, numbers))

    def lay_out(self, document: dict, part: dict | None = None, numbers: int | None = None) -> Document:
        """The PDF pages of the document (or of one part of it, or its page numbers alone)."""
        assert self._pdf is not None, f"template {self.name} {self.version} renders no PDF"
        return self._pdf.layout_carried(lambda carry, split: self.html(document, carry, split, part, numbers))

    def write(self, laid_out: Document, variant: str | None) -> bytes:
        assert self._pdf is not None, f"template {self.name} {self.version} renders no PDF"
        return self._pdf.write(laid_out, variant)

    def part_spans(self, document: dict) -> list[tuple[int, int]]:
        """The parts an invoice or credit note is laid out in (none: in one piece): about
        equal, each boundary where the document is guessed to turn a page (page_plan.py)."""
        if self.parts is None or document.get("type") not in ("invoice", "credit_note"):
            return []
        spans = self.parts.parts_for(len(document.get("lines") or ()))
        return page_plan.snap(spans, page_plan.page_starts(self, document, spans[-2][1])) if spans else []

    def supports(self, fmt: str) -> bool:
        """facturx is made from the PDF, so any bundle that renders PDF renders it."""
        return (fmt if fmt != "facturx" else "pdf") in self.formats

    def render(self, fmt: str, document: dict, pages: Pages | None = None) -> bytes:
        """pdf, docx, or facturx: the PDF the Factur-X is made from (einvoice.facturx.embed
        makes it PDF/A-3b and embeds the XML), which is the PDF itself.

        With `pages` (one per document), the first PDF format lays the document out (in
        parts when it is long, see parts.py) and writes it, and the next one takes the same
        bytes: the PDF and the Factur-X of an issue cost one layout and one write. The PDF's
        bytes depend on the document and the template only, so each format has the bytes
        it would have rendered alone."""
        if not self.supports(fmt):
            raise UnsupportedFormat(f"template {self.name} {self.version} does not render {fmt}")
        if fmt in ("pdf", "facturx"):
            if pages is not None and pages.pdf is not None:
                return pages.pdf
            with _RENDERING, fewer_collections():
                assert self._pdf is not None, "supports() said it renders PDF"
                spans = self.part_spans(document)
                data = lay_out_in_parts(self, document, spans) if spans else self.write(self.lay_out(document), None)
            if pages is not None:
                pages.pdf = data
            return data
        with _RENDERING, fewer_collections():
            assert self._docx is not None, "supports() said it renders DOCX"
            return self._docx.render(self.context(document))
