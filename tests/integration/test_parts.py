"""A long invoice laid out in parts, in parallel processes (issue 16, item 4), on classic 1.7.2
(1.7.0 and 1.7.1 lay out the same pages, but for the bottom margin of a part's pages).

The threshold is lowered to 40 lines so that a 90-line invoice (4 pages) shows everything a
2 000-line one would: the pages of two parts put end to end, numbered "Page x / N" over the
whole document, the running head and "Report" at the top of the second part's first page,
every carried subtotal a sum worked out by hand, the same bytes on every run.
"""
from __future__ import annotations

import io
import re
import subprocess
from decimal import Decimal as D

import pikepdf
import pytest
from PIL import ImageChops

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering.bundle import Pages
from docsvc.rendering.parts import PartsPolicy, lay_out_in_parts
from docsvc.rendering.registry import TemplateRegistry
from docsvc.schemas.payload import load_payload
from docsvc.usecases.checking import einvoice, validate
from docsvc.usecases.issuing import render_format
from tests.conftest import ROOT, load_fixture
from tests.integration.test_borders import pixels
from tests.integration.test_facturx_pdfa import differences, document_tree, former
from tests.integration.test_originals import carried, flat
from tests.integration.test_page_plan import invoice, laid_out_starts
from tests.originals import pdf_pages

LINES = 90
VERSION = "1.7.2"
POLICY = PartsPolicy(min_lines=40, processes=2)


def ninety_lines() -> dict:
    raw = load_fixture("invoice")
    raw["template"] = {"name": "classic", "version": VERSION}
    raw["payments"] = []
    # line i: 1 x i,00 € at 20 %, so the subtotal after line k is 1 + 2 + ... + k = k(k+1)/2
    raw["lines"] = [{"id": str(i), "description": f"Article numéro {i}", "quantity": "1", "unit": "C62",
                     "unit_price": f"{i}.00", "vat_rate": "20"} for i in range(1, LINES + 1)]
    return raw


@pytest.fixture(scope="module")
def document() -> dict:
    return as_plain(enrich(load_payload(ninety_lines())))


@pytest.fixture(scope="module")
def parted():
    return TemplateRegistry([ROOT / "templates"], parts=POLICY).get("classic", VERSION)


@pytest.fixture(scope="module")
def pdf(parted, document) -> bytes:
    return parted.render("pdf", document)


def test_the_parts_are_the_halves_of_the_lines():
    assert POLICY.parts_for(90) == [(0, 45), (45, 90)]
    assert POLICY.parts_for(40) == []  # at the threshold: one piece
    assert PartsPolicy(min_lines=40, processes=3).parts_for(100) == [(0, 33), (33, 67), (67, 100)]
    assert PartsPolicy(min_lines=40, processes=1).parts_for(1000) == []


def whole_page_starts(document: dict) -> list[int]:
    """The index of the first line on each page of the document laid out whole."""
    return laid_out_starts(TemplateRegistry([ROOT / "templates"]).get("classic", VERSION), document)


def test_only_invoices_and_credit_notes_of_a_template_that_can_are_parted(parted, document):
    # laid out whole, the document turns its pages before articles 26 and 62 (the first page
    # holds 25 lines under the head, the next 36): of the halves' boundary, 45 lines, 61 is
    # the nearest page start (16 lines away, 25 is 20), and the parts meet there
    assert whole_page_starts(document)[:3] == [0, 25, 61]
    assert parted.part_spans(document) == [(0, 61), (61, 90)]
    assert parted.part_spans(dict(document, type="progress_invoice")) == []
    older = TemplateRegistry([ROOT / "templates"], parts=POLICY).get("classic", "1.5.0")
    assert older.parts is None and older.part_spans(document) == []


def test_pages_are_numbered_over_the_whole_document(pdf):
    pages = pdf_pages(pdf, layout=True, clean=flat)
    assert len(pages) >= 4
    for n, page in enumerate(pages, start=1):
        assert re.findall(r"Page \d+ / \d+", page) == [f"Page {n} / {len(pages)}"], n


def test_every_line_once_in_order_and_the_subtotals_add_up(pdf):
    pages = pdf_pages(pdf, layout=True, clean=flat)
    seen = [int(k) for page in pages for k in re.findall(r"Article numéro (\d+)", page)]
    assert seen == list(range(1, LINES + 1))
    # the second part starts a page: article 62 opens it, under the running head and "Report"
    second = next(i for i, page in enumerate(pages) if "Article numéro 62 " in page)
    assert min(int(k) for k in re.findall(r"Article numéro (\d+)", pages[second])) == 62
    # carried from the first part: 1 + ... + 61 = 61 x 62 / 2 = 1 891,00 €
    assert carried(pages[second - 1], "À reporter") == D("1891.00")
    assert carried(pages[second], "Report") == D("1891.00")
    for n, page in enumerate(pages[:-1]):
        last = max(int(k) for k in re.findall(r"Article numéro (\d+)", page))
        assert carried(page, "À reporter") == D(last * (last + 1) // 2), n
        assert carried(pages[n + 1], "Report") == carried(page, "À reporter"), n
        head = pages[n + 1].strip().splitlines()[0]
        assert "F-2026-0125" in head and "SCI Les Tilleuls" in head, n
    assert "À reporter" not in pages[-1] and "Report" not in pages[0]
    # the closing figures once, on the last page: 90 x 91 / 2 = 4 095,00 € HT; VAT 819,00; 4 914,00 TTC
    text = "\n".join(pages)
    assert text.count("Net à payer") == 1 and "Net à payer" in pages[-1]
    assert "4 095,00 €" in pages[-1] and "4 914,00 €" in pages[-1]
    assert "Article numéro 90" in pages[-1]  # the last lines stay with the closing figures


def same_pages_as_whole(parted_pdf: bytes, whole_pdf: bytes, folder, margin: bool = True) -> None:
    """The pages look the same, pixel for pixel, and hold the same words; without `margin`,
    the bottom margin is left out of the pixels (where classic 1.7.0 and 1.7.1 print a
    part's "À reporter" half a line lower than the whole document's)."""
    ours, theirs = pixels(parted_pdf, folder, "parts"), pixels(whole_pdf, folder, "whole")
    assert len(ours) == len(theirs) >= 4
    content = round((297 - 22) / 25.4 * 100)  # 100 dpi; A4 less classic's 22 mm bottom margin
    for number, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        box = (0, 0, a.width, a.height if margin else content)
        assert ImageChops.difference(a.crop(box), b.crop(box)).getbbox() is None, f"page {number} differs"
    words = [sorted(page.split()) for page in pdf_pages(parted_pdf, clean=flat)]
    assert words == [sorted(page.split()) for page in pdf_pages(whole_pdf, clean=flat)]


@pytest.fixture(scope="module")
def whole(document) -> bytes:
    return TemplateRegistry([ROOT / "templates"]).get("classic", VERSION).render("pdf", document)


def test_the_pages_are_those_of_the_document_laid_out_whole(pdf, whole, tmp_path):
    """Every part but the last ends on a full page: where the whole document turns its page."""
    same_pages_as_whole(pdf, whole, tmp_path)


@pytest.mark.parametrize("version", ["1.7.0", "1.7.1"])
def test_older_versions_lay_out_the_same_pages_but_for_the_bottom_margin(document, version, tmp_path):
    """Their part pages leave the page number's line empty, and WeasyPrint centres the one
    line left: "À reporter" half a line (6 pt) lower than on the whole document's pages."""
    parted = TemplateRegistry([ROOT / "templates"], parts=POLICY).get("classic", version).render("pdf", document)
    whole = TemplateRegistry([ROOT / "templates"]).get("classic", version).render("pdf", document)
    same_pages_as_whole(parted, whole, tmp_path, margin=False)
    (tmp_path / "margin").mkdir()
    with pytest.raises(AssertionError, match="page 1 differs"):
        same_pages_as_whole(parted, whole, tmp_path / "margin", margin=True)


def test_the_designer_guides_example_lays_out_its_parts_as_1_7_2_does(document, tmp_path):
    """bundles/classic/1.8.0, which designers copy, is 1.7.2 with a mark and an accent: its
    parted pages equal its whole pages, bottom margin included (on 1.7.1 it printed a part's
    "À reporter" half a line lower)."""
    example = ROOT / "bundles"
    parted = TemplateRegistry([example], parts=POLICY).get("classic", "1.8.0").render("pdf", document)
    whole = TemplateRegistry([example]).get("classic", "1.8.0").render("pdf", document)
    same_pages_as_whole(parted, whole, tmp_path)


def placed_words(pdf: bytes) -> list[list[tuple[str, float, float, float, float]]]:
    """Each page's words with their boxes (points), as pdftotext -bbox reads them."""
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    word = re.compile(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<')
    return [[(w[4], *map(float, w[:4])) for w in word.findall(page)] for page in out.split("<page ")[1:]]


def test_three_parts_with_details_in_smaller_type_have_the_whole_documents_pages(tmp_path):
    """300 lines of descriptions from 1 to 12 lines, details at 7.5 pt under some, in 3
    parts: the same pages as laid out whole, every word where the whole document has it, to
    within 0.05 pt. Not always to the pixel: WeasyPrint writes a glyph's width as it first
    draws it, rounded at that size, and a part may first meet a glyph at another size than
    the whole document did (0.026 pt at most here, a few edge pixels at 50 dpi)."""
    document = invoice(9, lines=300, long=True)
    three = TemplateRegistry([ROOT / "templates"], parts=PartsPolicy(40, 3)).get("classic", VERSION)
    spans = three.part_spans(document)
    assert len(spans) == 3
    starts = whole_page_starts(document)
    assert all(start in starts for start, _ in spans)  # each part starts a page of the whole document
    parted = placed_words(three.render("pdf", document))
    whole = placed_words(TemplateRegistry([ROOT / "templates"]).get("classic", VERSION).render("pdf", document))
    assert len(parted) == len(whole) >= 20
    for number, (ours, theirs) in enumerate(zip(parted, whole, strict=True), start=1):
        assert [w[0] for w in ours] == [w[0] for w in theirs], f"page {number}"
        moved = [abs(a - b) for o, t in zip(ours, theirs, strict=True) for a, b in zip(o[1:], t[1:], strict=True)]
        assert max(moved, default=0) < 0.05, f"page {number}"


def test_a_boundary_guessed_wrong_is_moved_to_where_the_page_turns(parted, document, pdf, whole, tmp_path):
    """Article 51 shares a page with articles 26 to 50: the first part, laid out with it,
    says so, and the second part is laid out again from article 26. Same pages; other bytes
    than the right guess's (another boundary)."""
    moved = lay_out_in_parts(parted, document, [(0, 50), (50, LINES)])
    same_pages_as_whole(moved, whole, tmp_path)
    pages = pdf_pages(moved, layout=True, clean=flat)
    # article 26 opens the second page, under "Report" 1 + ... + 25 = 25 x 26 / 2 = 325,00 €
    assert min(int(k) for k in re.findall(r"Article numéro (\d+)", pages[1])) == 26
    assert carried(pages[1], "Report") == D("325.00")
    assert moved != pdf


def test_a_boundary_guessed_before_the_first_page_turns_lays_the_document_out_whole(parted, document, whole):
    """Lines 1 to 6 all fit on the first page: the first part keeps no page, and the document
    is laid out whole, in this process (numbered by WeasyPrint itself: its very bytes)."""
    assert lay_out_in_parts(parted, document, [(0, 5), (5, LINES)]) == whole


def test_the_same_bytes_every_time(parted, document, pdf):
    assert parted.render("pdf", document) == pdf


def test_pdf_and_facturx_of_one_issue_are_laid_out_and_written_once(parted, document, pdf):
    pages = Pages()
    assert parted.render("pdf", document, pages) == pdf
    assert parted.render("facturx", document, pages) is pages.pdf  # the same bytes, not written again
    assert parted.render("facturx", document) == pdf  # which are those it renders alone


def test_the_facturx_of_a_parted_invoice_is_pdfa3b_and_holds_what_the_former_path_wrote(parted, pdf):
    raw = ninety_lines()
    raw["formats"] = ["pdf", "facturx"]
    validated = validate(raw)
    validated.einvoice = einvoice(validated)
    made = render_format(parted, "facturx", validated)
    with pikepdf.open(io.BytesIO(made)) as archive_pdf:
        assert len(archive_pdf.pages) == len(pdf_pages(pdf))
        intent = archive_pdf.Root.OutputIntents[0]
        assert intent.S == pikepdf.Name.GTS_PDFA1 and pikepdf.Name.DestOutputProfile in intent
        xmp = archive_pdf.open_metadata()
        assert xmp["pdfaid:part"] == "3" and xmp["pdfaid:conformance"] == "B"
    numbers = pdf_pages(made, layout=True, clean=flat)
    assert [re.search(r"Page (\d+) / (\d+)", p).groups() for p in numbers] == [
        (str(n), str(len(numbers))) for n in range(1, len(numbers) + 1)]
    # the former path: the parts written as PDF/A-3b (page numbers included), then the factur-x package
    plain = as_plain(validated.document)
    pdf_a3 = lay_out_in_parts(parted, plain, parted.part_spans(plain), "pdf/a-3b")
    assert differences(document_tree(former(parted, validated, pdf_a3)), document_tree(made)) == []


def test_without_parts_the_same_document_reads_the_same(whole, pdf):
    one = "\n".join(pdf_pages(whole, layout=True, clean=flat))
    two = "\n".join(pdf_pages(pdf, layout=True, clean=flat))
    for words in ("Net à payer", "RÈGLEMENT", "Indemnité forfaitaire"):
        assert one.count(words) == two.count(words) == 1, words
    # Total HT and the VAT summary's base: 4 095,00 € twice; Total TTC and Net à payer: 4 914,00 € twice
    assert one.count("4 095,00 €") == two.count("4 095,00 €") == 2
    assert one.count("4 914,00 €") == two.count("4 914,00 €") == 2
    assert re.findall(r"Article numéro \d+", one) == re.findall(r"Article numéro \d+", two)


def test_a_dead_worker_process_costs_the_parallelism_of_one_document_not_the_document(parted, document, pdf):
    """A worker process killed (out of memory, by an operator): that document is laid out
    whole and still issued; the next one gets a new pool and its parts again."""
    import os
    import signal

    from docsvc.rendering import parts

    pool = parts.POOL.get(POLICY.processes)
    for process in list(pool._processes.values()):  # what the kernel's OOM killer would do
        os.kill(process.pid, signal.SIGKILL)
    whole = parted.render("pdf", document)
    assert whole != pdf  # laid out in one piece: no part boundary, numbered by WeasyPrint itself
    pages = pdf_pages(whole, layout=True, clean=flat)
    assert [re.search(r"Page (\d+) / (\d+)", p).groups() for p in pages] == [
        (str(n), str(len(pages))) for n in range(1, len(pages) + 1)]
    assert re.findall(r"Article numéro (\d+)", "\n".join(pages)) == [str(i) for i in range(1, LINES + 1)]
    assert parts.POOL.current() is not pool
    assert parted.render("pdf", document) == pdf  # a new pool: in parts, the same bytes as before


def test_a_pool_stopped_meanwhile_costs_the_parallelism_not_the_document(parted, document, pdf, whole):
    """Another request's end may stop the processes as too big (processes.recycle_bloated)
    between this document taking the pool and giving it its parts: laid out whole, here."""
    from docsvc.rendering import parts

    pool = parts.POOL.get(POLICY.processes)
    pool.shutdown(wait=False)  # what drop_if_bigger does, the pool still handed out
    assert parted.render("pdf", document) == whole
    assert parts.POOL.current() is not pool
    assert parted.render("pdf", document) == pdf  # a new pool: in parts again
