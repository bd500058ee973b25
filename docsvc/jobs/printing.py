"""A batch's print file: the archived PDFs joined by copying their pages, never re-rendered.

With duplex, a document with an odd page count is followed by a blank page, so every
document starts on a recto. A separator sheet (optional) names the document that follows;
with duplex its back is left blank. The file says in its metadata that it is a print copy.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import pikepdf
from pikepdf import Dictionary, Name

KIND = "print-copy"
A4 = (595.28, 841.89)


@dataclass(frozen=True)
class Printed:
    data: bytes
    pages: int
    starts: list[int]  # 1-based page where each document starts


def build_print_file(documents: list[tuple[str, bytes]], *, duplex: bool, separator: bool, title: str) -> Printed:
    """`documents`: (label for the separator, PDF bytes), in print order."""
    out = pikepdf.new()
    sources = []
    font = None
    starts = []
    try:
        for label, data in documents:
            src = pikepdf.open(io.BytesIO(data))
            sources.append(src)
            size = _size(src.pages[0]) if len(src.pages) else A4
            if separator:
                if font is None:
                    font = out.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica,
                                                        Encoding=Name.WinAnsiEncoding))
                out.pages.append(_separator_page(out, font, label, size))
                if duplex:
                    out.add_blank_page(page_size=size)
            starts.append(len(out.pages) + 1)
            out.pages.extend(src.pages)
            if duplex and len(src.pages) % 2:
                out.add_blank_page(page_size=_size(src.pages[-1]))
        out.docinfo[Name.Title] = title
        out.docinfo[Name.Subject] = "Print copy derived from the archived originals; not an original."
        out.docinfo[Name.Producer] = "docsvc"
        out.docinfo[Name("/DocsvcKind")] = KIND
        buffer = io.BytesIO()
        out.save(buffer)
        return Printed(buffer.getvalue(), len(out.pages), starts)
    finally:
        for src in sources:
            src.close()
        out.close()


def _size(page) -> tuple[float, float]:
    box = [float(v) for v in page.mediabox]
    return box[2] - box[0], box[3] - box[1]


def _separator_page(pdf, font, label: str, size: tuple[float, float]):
    width, height = size
    text = label.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = (f"BT /F1 16 Tf 56 {height - 120:.2f} Td (Intercalaire) Tj 0 -28 Td ({text}) Tj ET"
               ).encode("cp1252", "replace")
    page = Dictionary(Type=Name.Page, MediaBox=[0, 0, width, height],
                      Resources=Dictionary(Font=Dictionary(F1=font)), Contents=pdf.make_stream(content))
    return pikepdf.Page(page)
