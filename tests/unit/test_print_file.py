"""The print file: page copying, duplex blanks and separator sheets, read back with pdftotext and pypdf."""
import io

import pikepdf
from pypdf import PdfReader

from docsvc.jobs.printing import build_print_file
from tests.originals import pdf_pages


def pdf_with(pages: int, size=(595, 842)) -> bytes:
    """A PDF whose page i carries the text mark `p<i>` so copied pages can be recognised."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    for i in range(1, pages + 1):
        page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, *size],
                                  Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
                                  Contents=pdf.make_stream(f"BT /F1 12 Tf 72 720 Td (p{i} of {pages}) Tj ET".encode()))
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def texts(data: bytes) -> list[str]:
    return [page.strip() for page in pdf_pages(data, blank=True)]


def test_duplex_pads_odd_documents_so_each_starts_on_a_recto():
    # 1 page + blank, 2 pages, 3 pages + blank: 2 + 2 + 4 = 8 pages; starts 1, 3, 5 (all odd: rectos)
    printed = build_print_file([("A", pdf_with(1)), ("B", pdf_with(2)), ("C", pdf_with(3))],
                               duplex=True, separator=False, title="t")
    assert printed.pages == 8 and printed.starts == [1, 3, 5]
    assert texts(printed.data) == ["p1 of 1", "", "p1 of 2", "p2 of 2", "p1 of 3", "p2 of 3", "p3 of 3", ""]


def test_simplex_copies_pages_only():
    printed = build_print_file([("A", pdf_with(1)), ("C", pdf_with(3))], duplex=False, separator=False, title="t")
    assert printed.pages == 4 and printed.starts == [1, 2]


def test_separator_sheets_keep_documents_on_rectos():
    # duplex: separator + its blank back, then the document (+ blank if odd): 2 + 2 + 2 + 2 = 8
    printed = build_print_file([("F-1 — Dupont", pdf_with(1)), ("F-2 — Martin", pdf_with(2))],
                               duplex=True, separator=True, title="t")
    pages = texts(printed.data)
    assert printed.pages == 8 and printed.starts == [3, 7]
    assert pages[0].startswith("Intercalaire") and "F-1 — Dupont" in pages[0] and pages[1] == ""
    assert pages[2] == "p1 of 1" and pages[3] == "" and "F-2 — Martin" in pages[4] and pages[7] == "p2 of 2"


def test_the_print_file_says_it_is_a_copy_and_keeps_page_sizes():
    printed = build_print_file([("L", pdf_with(1, size=(612, 792)))], duplex=True, separator=False, title="batch x")
    reader = PdfReader(io.BytesIO(printed.data))
    assert reader.metadata["/DocsvcKind"] == "print-copy" and reader.metadata["/Title"] == "batch x"
    assert [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages] == [(612, 792)] * 2
