"""One layout per document (issue 16): issuing the PDF and the Factur-X lays the pages out
once and writes the PDF once (the Factur-X is made from the PDF's bytes), and each file
has exactly the bytes it has when rendered alone."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from docsvc.billing.model import as_plain
from docsvc.einvoice.facturx import read_back
from docsvc.rendering import TemplateRegistry
from docsvc.rendering.bundle import Pages
from docsvc.usecases.checking import CheckDocument, bundle_for, einvoice, validate
from docsvc.usecases.issuing import IssueDocument, RenderDocument, render_format
from tests.conftest import FIXTURES, ROOT, load_fixture
from tests.fakes import InMemoryArchive

VERSIONS = ["1.0.0", "1.2.0", "1.3.0", "1.5.0"]
ALL = sorted(p.stem for p in FIXTURES.glob("*.json") if p.stem != "cycle")


@pytest.fixture(scope="module")
def templates():
    return TemplateRegistry([ROOT / "templates"])


def payload(name: str, version: str, lines: int | None = None) -> dict:
    raw = load_fixture(name)
    raw["template"] = {"name": "classic", "version": version}
    raw["formats"] = ["pdf", "facturx"]
    if lines is not None:  # 5 lines: one page; 60: several pages, carried-forward subtotals, several layouts
        base = raw["lines"]
        raw["lines"] = [dict(base[i % len(base)], id=f"L{i + 1}") for i in range(lines)]
        raw["payments"] = []
    return raw


@pytest.fixture
def layouts(templates, monkeypatch):
    """Counts the WeasyPrint layouts (HTML.render) of every classic version's engine: 1 per
    layout, and "write" per PDF written."""
    count: list[int | str] = []
    for version in VERSIONS:
        engine = templates.get("classic", version)._pdf
        layout, write = engine._layout, engine.write

        def counting(html, _layout=layout):
            count.append(1)
            return _layout(html)

        def counting_writes(document, variant=None, _write=write):
            count.append("write")
            return _write(document, variant)
        monkeypatch.setattr(engine, "_layout", counting)
        monkeypatch.setattr(engine, "write", counting_writes)
    return count


@pytest.mark.parametrize("lines", [5, 60])
def test_issuing_pdf_and_facturx_lays_the_document_out_once(templates, layouts, lines):
    raw = payload("invoice", "1.2.0", lines)
    alone = RenderDocument(templates)
    pdf_alone = alone(raw, "pdf")[0]
    pdf_layouts = layouts.count(1)
    facturx_alone = alone(raw, "facturx")[0]
    assert layouts.count(1) == 2 * pdf_layouts  # rendered one at a time: the same layouts twice
    assert layouts.count("write") == 2  # and two writes of the same PDF
    layouts.clear()

    archive = InMemoryArchive()
    issued = IssueDocument(archive, CheckDocument(archive, templates))(raw)
    assert layouts.count(1) == pdf_layouts  # issued together: laid out once
    assert layouts.count("write") == 1  # and written once, the Factur-X made from the PDF's bytes
    if lines == 5:
        assert pdf_layouts == 1  # one page, no subtotal carried: one layout
    else:
        assert pdf_layouts > 1  # the carried subtotals are planned from a first layout
    files = {f["format"]: archive.get(f["key"]) for f in issued.resource["files"]}
    assert files["pdf"] == pdf_alone and files["facturx"] == facturx_alone
    assert files["pdf"] != files["facturx"]  # not one file twice: the PDF/A-3b has its XML and output intent
    assert b"/GTS_PDFA1" in files["facturx"] and b"/GTS_PDFA1" not in files["pdf"]
    assert read_back(files["facturx"])[:2] == ("factur-x.xml", files["xml"])  # the archived XML, embedded


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ALL)
def test_each_format_has_the_bytes_it_has_alone_in_either_order(templates, name, version):
    raw = payload(name, version)
    validated = validate(raw)
    validated.einvoice = einvoice(validated)
    bundle = bundle_for(templates, validated.payload)
    plain = as_plain(validated.document)
    alone = {fmt: render_format(bundle, fmt, validated, plain) for fmt in ("pdf", "facturx")}
    for order in (("pdf", "facturx"), ("facturx", "pdf")):
        pages = Pages()
        shared = {fmt: render_format(bundle, fmt, validated, plain, None, pages) for fmt in order}
        assert shared == alone, order


def test_the_fixtures_cover_every_document_type():
    """The byte comparison above is not over one kind of page only."""
    types = {json.loads((FIXTURES / f"{n}.json").read_text(), parse_float=Decimal)["type"] for n in ALL}
    assert types == {"invoice", "credit_note", "deposit_invoice", "progress_invoice", "final_invoice"}
