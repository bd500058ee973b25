"""The rendering package on its own: filters, context, bundle identity, registry, the
asset fetcher, and the classic bundle's PDF and DOCX read back as text.

Babel's French output uses U+202F (narrow no-break space) between thousands and U+00A0
before "€" and "%": `flat()` turns both into plain spaces before comparing.
tests/integration/test_templates.py covers the 45-line fixture, every document type and
the sandbox; this file keeps to the engine's contract.
"""
from __future__ import annotations

import html
import io
import shutil
import subprocess
import zipfile
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from docx import Document as Docx
from docx.oxml.ns import qn

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering import (
    AssetRefused,
    Bundle,
    RenderError,
    TemplateNotFound,
    TemplateRegistry,
    UnsupportedFormat,
    render_context,
)
from docsvc.rendering.bundle import bundle_sha256
from docsvc.rendering.html_pdf import BUNDLE_BASE
from docsvc.schemas.payload import load_payload
from tests import originals
from tests.conftest import ROOT, load_fixture, quote_example

CLASSIC = ROOT / "templates" / "classic" / "1.0.0"


def flat(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def plain(raw: dict) -> dict:
    return as_plain(enrich(load_payload(raw)))


def pdf_pages(pdf: bytes) -> list[str]:
    return originals.pdf_pages(pdf, layout=True, clean=flat)


def docx_text(data: bytes) -> str:
    """Every w:t of the body and footer, nested tables included, one paragraph a line."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = [z.read(n) for n in z.namelist() if n == "word/document.xml" or n.startswith("word/footer")]
    from lxml import etree
    lines = []
    for xml in parts:
        for p in etree.fromstring(xml).iter(qn("w:p")):
            lines.append("".join(t.text or "" for t in p.iter(qn("w:t"))))
    return flat("\n".join(lines))


@pytest.fixture(scope="module")
def classic() -> Bundle:
    return TemplateRegistry([ROOT / "templates"]).get("classic", "1.0.0")


@pytest.fixture(scope="module")
def quote() -> dict:
    """DOMAIN.md's quote as an invoice. By hand:
    L1 1 x 2400.00 = 2400.00 at 10 %; L2 1 x 1850.00 - 10 % = 1665.00 at 20 %;
    L3 12.5 h x 52.00 = 650.00 at 10 %.  10 %: base 3050.00, VAT 305.00;
    20 %: base 1665.00, VAT 333.00.  Net 4715.00, VAT 638.00, gross 5353.00, nothing paid."""
    return plain(quote_example())


@pytest.fixture(scope="module")
def quote_pdf(classic, quote) -> list[str]:
    return pdf_pages(classic.render("pdf", quote))


# ---------------------------------------------------------------- filters

def render(bundle: Bundle, source: str, language: str = "fr", **values) -> str:
    """A one-line template through the bundle's HTML environment (autoescaped: unescaped here)."""
    ctx = {"doc": {"language": language, "currency": "EUR"}, "labels": bundle.labels[language]}
    return flat(html.unescape(bundle.html_env.from_string(source).render(**ctx, **values)))


@pytest.mark.parametrize("source, value, fr, en", [
    ("{{ v | money }}", D("1234.56"), "1 234,56 €", "€1,234.56"),
    ("{{ v | money }}", D("-120.00"), "-120,00 €", "-€120.00"),
    ("{{ v | money('USD') }}", D("1234.5"), "1 234,50 $US", "US$1,234.50"),
    ("{{ v | percent }}", D("20.00"), "20 %", "20%"),
    ("{{ v | percent }}", D("5.5"), "5,5 %", "5.5%"),
    ("{{ v | quantity }}", D("12.5000"), "12,5", "12.5"),
    ("{{ v | quantity }}", D("1.0000"), "1", "1"),
    ("{{ v | quantity }}", D("0.3333"), "0,3333", "0.3333"),
    ("{{ v | quantity }}", D("1500"), "1 500", "1,500"),
    ("{{ v | date }}", date(2026, 11, 22), "22 novembre 2026", "22 November 2026"),  # en_GB: day first
    ("{{ v | short_date }}", date(2026, 11, 2), "02/11/2026", "02/11/2026"),
    ("{{ v | unit }}", "HUR", "h", "h"),
    ("{{ v | unit }}", "DAY", "jour", "day"),
    ("{{ v | unit }}", "MTK", "m²", "m²"),
    ("{{ v | unit }}", "ZZZ", "ZZZ", "ZZZ"),  # not in [units]: the code itself
    ("{{ v | money }}", None, "", ""),
])
def test_filters_format_in_the_document_language(classic, source, value, fr, en):
    assert render(classic, source, "fr", v=value) == fr
    assert render(classic, source, "en", v=value) == en


@pytest.mark.parametrize("mention, expected", [
    ({"code": "credit_note_reference", "values": {"number": "F-2026-0125", "issue_date": date(2026, 11, 20)}},
     "Avoir sur la facture n° F-2026-0125 du 20 novembre 2026."),
    ({"code": "operation_services", "values": {}}, "Nature de l'opération : prestation de services."),
    ({"code": "vat_on_debits", "values": {}}, "Option pour le paiement de la TVA d'après les débits."),
    ({"code": "vat_exemption", "values": {"category": "E", "reason": "TVA non applicable, art. 293 B du CGI"}},
     "TVA non applicable, art. 293 B du CGI"),
    ({"code": "early_payment_discount", "values": {"percent": D("2"), "days": 10}},
     "Escompte de 2 % pour paiement sous 10 jours."),
    ({"code": "no_early_payment_discount", "values": {}}, "Pas d'escompte pour paiement anticipé."),
    ({"code": "late_penalty", "values": {"rate": D("12.00")}},
     "En cas de retard de paiement, pénalités au taux annuel de 12 %, exigibles dès le lendemain de l'échéance."),
    ({"code": "recovery_indemnity", "values": {"amount": D("40.00")}},
     "Indemnité forfaitaire pour frais de recouvrement due en cas de retard : 40,00 € "
     "(art. L441-10 et D441-5 du Code de commerce)."),
])
def test_mentions_are_sentences_with_their_figures_formatted(classic, mention, expected):
    assert render(classic, "{{ m | mention }}", m=mention) == expected


def test_every_mention_code_and_unit_has_wording_in_both_languages(classic):
    fr, en = classic.labels["fr"], classic.labels["en"]
    for table in ("titles", "mentions", "units", "means", "status", "fields"):
        assert fr[table].keys() == en[table].keys(), table
    assert fr["titles"] == {"invoice": "Facture", "deposit_invoice": "Facture d'acompte",
                            "progress_invoice": "Facture de situation", "final_invoice": "Facture de solde",
                            "credit_note": "Avoir"}
    assert en["titles"]["credit_note"] == "Credit note"


# ---------------------------------------------------------------- context, formats, errors

def test_render_context_is_the_document_its_labels_and_the_template(classic, quote):
    ctx = render_context(quote, classic)
    assert ctx["doc"] is quote
    assert ctx["labels"] is classic.labels["fr"]
    assert ctx["template"] == {"name": "classic", "version": "1.0.0", "sha256": classic.sha256}
    assert isinstance(quote["totals"]["gross_total"], D) and isinstance(quote["issue_date"], date)


def test_a_language_the_bundle_lacks_is_a_render_error(classic, quote):
    with pytest.raises(RenderError, match="no de labels"):
        render_context({**quote, "language": "de"}, classic)


def test_a_format_the_bundle_does_not_declare_is_refused(classic, quote, tmp_path):
    with pytest.raises(UnsupportedFormat, match="odt"):
        classic.render("odt", quote)
    copy = tmp_path / "pdfonly" / "1.0.0"
    shutil.copytree(CLASSIC, copy)
    toml = copy / "template.toml"
    toml.write_text(toml.read_text().replace('formats = ["pdf", "docx"]', 'formats = ["pdf"]'))
    pdf_only = Bundle(copy)
    assert pdf_only.formats == ("pdf",)
    with pytest.raises(UnsupportedFormat) as refused:
        pdf_only.render("docx", quote)
    assert isinstance(refused.value, RenderError)


def test_unknown_templates_and_versions_are_not_found():
    registry = TemplateRegistry([ROOT / "templates"])
    with pytest.raises(TemplateNotFound) as missing:
        registry.get("nope")
    assert (missing.value.name, missing.value.version) == ("nope", None)
    with pytest.raises(TemplateNotFound, match="classic 9.9.9"):
        registry.get("classic", "9.9.9")


# ---------------------------------------------------------------- bundle identity and registry

def listing_sha256(folder: Path) -> str:
    """The documented formula, written out independently of bundle.py."""
    import hashlib
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())
    files = [p for p in files if not any(part.startswith(".") or part == "__pycache__"
                                         for part in p.relative_to(folder).parts)]
    text = "".join(f"{p.relative_to(folder).as_posix()}\0{hashlib.sha256(p.read_bytes()).hexdigest()}\n" for p in files)
    return hashlib.sha256(text.encode()).hexdigest()


def test_sha256_is_the_canonical_listing_and_ignores_dotfiles_and_caches(tmp_path, classic):
    copy = tmp_path / "classic" / "1.0.0"
    shutil.copytree(CLASSIC, copy)
    assert bundle_sha256(copy) == listing_sha256(copy) == classic.sha256
    (copy / ".DS_Store").write_bytes(b"finder")
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (copy / "assets" / ".hidden").write_text("x")
    assert bundle_sha256(copy) == classic.sha256


@pytest.mark.parametrize("change", ["labels/en.toml", "assets/fonts/LICENSE-Inter.txt", "document.docx", "rename"])
def test_sha256_changes_when_any_file_changes(tmp_path, classic, change):
    copy = tmp_path / "classic" / "1.0.0"
    shutil.copytree(CLASSIC, copy)
    if change == "rename":
        (copy / "style.css").rename(copy / "style2.css")
    else:
        (copy / change).write_bytes((copy / change).read_bytes() + b"\n")
    assert bundle_sha256(copy) != classic.sha256


def test_registry_picks_the_highest_version_and_ignores_other_folders(tmp_path):
    for version in ("1.0.0", "2.0.0", "10.0.0", "draft"):
        shutil.copytree(CLASSIC, tmp_path / "classic" / version)
        toml = tmp_path / "classic" / version / "template.toml"
        toml.write_text(toml.read_text().replace('version = "1.0.0"', f'version = "{version}"'))
    registry = TemplateRegistry([tmp_path])
    assert registry.get("classic").version == "10.0.0"
    assert registry.get("classic", "2.0.0").version == "2.0.0"
    assert registry.list() == [{"name": "classic", "versions": ["1.0.0", "2.0.0", "10.0.0"], "latest": "10.0.0"}]


def test_bundles_load_lazily_and_compile_once(monkeypatch):
    import docsvc.rendering.registry as registry_module

    loads = []

    class CountingBundle(Bundle):
        def __init__(self, path, parts=None):
            loads.append(path)
            super().__init__(path, parts)

    monkeypatch.setattr(registry_module, "Bundle", CountingBundle)
    registry = TemplateRegistry([ROOT / "templates"])
    assert registry.list()[0]["name"] == "classic" and loads == []  # listing loads nothing
    first = registry.get("classic", "1.0.0")
    template, css, fonts = first.html_template, first._pdf.css, first._pdf.fonts
    document = plain(quote_example())
    first.render("pdf", document)
    second = registry.get("classic", "1.0.0")
    second.render("pdf", document)
    assert second is first and len(loads) == 1
    assert (second.html_template, second._pdf.css, second._pdf.fonts) == (template, css, fonts)


# ---------------------------------------------------------------- the fetcher

@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1:9/leak?x=1",
    "https://example.com/logo.png",
    "data:text/plain,hello",
    BUNDLE_BASE + "../../../etc/passwd",
    BUNDLE_BASE + "template.toml",  # inside the bundle but not under assets/
    BUNDLE_BASE + "assets/missing.png",
])
def test_the_fetcher_refuses_everything_but_the_bundle_assets(classic, url):
    with pytest.raises(AssetRefused):
        classic._pdf.fetcher.fetch(url)


def test_the_fetcher_serves_the_bundle_fonts(classic):
    font = classic._pdf.fetcher.fetch(BUNDLE_BASE + "assets/fonts/Inter-Regular.otf")
    assert font.read() == (CLASSIC / "assets" / "fonts" / "Inter-Regular.otf").read_bytes()


@pytest.mark.parametrize("reference", ["file:///etc/passwd", "http://127.0.0.1:9/x.css"])
def test_a_template_referencing_outside_files_does_not_render(tmp_path, quote, reference):
    copy = tmp_path / "evil" / "1.0.0"
    shutil.copytree(CLASSIC, copy)
    (copy / "style.css").write_text(f'@import url("{reference}");\n' + (copy / "style.css").read_text())
    from weasyprint.urls import FatalURLFetchingError

    with pytest.raises(FatalURLFetchingError) as refused:  # WeasyPrint wraps our refusal
        Bundle(copy).render("pdf", quote)
    assert isinstance(refused.value.__cause__ or refused.value.__context__, AssetRefused)


# ---------------------------------------------------------------- PDF

def test_pdf_shows_the_invoice_in_french(quote_pdf):
    (page,) = quote_pdf
    assert "Facture" in page and "N° F-2026-0007" in page and "SCI Les Tilleuls" in page
    assert "1 octobre 2026" in page and "31 octobre 2026" in page  # issued, due at 30 days
    assert "2 400,00 €" in page and "1 665,00 €" in page and "650,00 €" in page  # line nets
    assert "12,5" in page and "10 %" in page and "20 %" in page
    assert "3 050,00 €" in page and "305,00 €" in page and "333,00 €" in page  # VAT per rate
    assert "4 715,00 €" in page and "638,00 €" in page and "5 353,00 €" in page
    assert "Net à payer" in page and "Page 1 / 1" in page
    assert "Pas d'escompte pour paiement anticipé." in page and "40,00 €" in page
    assert "Acquittée" not in page


def test_pdf_metadata_is_dated_from_the_issue_date(classic, quote):
    info = subprocess.run(["pdfinfo", "-isodates", "-"], input=classic.render("pdf", quote),
                          capture_output=True, check=True).stdout.decode()
    fields = dict(line.split(":", 1) for line in info.splitlines())
    assert fields["CreationDate"].strip() == fields["ModDate"].strip() == "2026-10-01T00:00:00Z"
    assert fields["Title"].strip() == "Facture F-2026-0007"


def test_a_two_page_invoice_numbers_its_pages_and_repeats_the_header(classic):
    raw = quote_example()
    raw["lines"] = [dict(raw["lines"][i % 3], description=f"{raw['lines'][i % 3]['description']} {i + 1}")
                    for i in range(30)]
    first, second = pdf_pages(classic.render("pdf", plain(raw)))
    assert "Page 1 / 2" in first and "Page 2 / 2" in second
    for page in (first, second):
        assert "Désignation" in page and "PU HT" in page and "Total HT" in page
    # 10 of each line: 10 %: 24 000,00 + 6 500,00 = 30 500,00 -> 3 050,00; 20 %: 16 650,00 -> 3 330,00
    # net 47 150,00, VAT 6 380,00, gross 53 530,00
    assert "30 500,00 €" in second and "16 650,00 €" in second and "3 330,00 €" in second
    assert "47 150,00 €" in second and "6 380,00 €" in second and "53 530,00 €" in second
    assert "Plomberie 1" in first and "Main-d'œuvre 30" in second


def test_pdf_in_english(classic):
    raw = quote_example()
    raw["language"] = "en"
    (page,) = pdf_pages(classic.render("pdf", plain(raw)))
    assert "Invoice" in page and "No. F-2026-0007" in page and "Amount due" in page
    assert "€5,353.00" in page and "€4,715.00" in page and "€638.00" in page and "12.5" in page
    assert "Facture" not in page and "Net à payer" not in page


def test_credit_note_names_the_invoice_it_corrects(classic):
    (page,) = pdf_pages(classic.render("pdf", plain(load_fixture("credit_note"))))
    assert "Avoir" in page and "A-2026-0007" in page and "Montant de l'avoir" in page
    assert "Avoir sur la facture n° F-2026-0125 du 20 novembre" in page


# ---------------------------------------------------------------- DOCX

def test_docx_has_the_same_figures_and_no_tag_left(classic, quote):
    text = docx_text(classic.render("docx", quote))
    assert "Facture" in text and "N° F-2026-0007" in text and "SCI Les Tilleuls" in text
    assert "2 400,00 €" in text and "1 665,00 €" in text and "650,00 €" in text
    assert "305,00 €" in text and "333,00 €" in text  # VAT breakdown sits in a nested table
    assert "4 715,00 €" in text and "638,00 €" in text and "5 353,00 €" in text and "Net à payer" in text
    assert "1 octobre 2026" in text and "Pas d'escompte pour paiement anticipé." in text
    assert "{{" not in text and "{%" not in text


def test_docx_in_english(classic):
    raw = quote_example()
    raw["language"] = "en"
    text = docx_text(classic.render("docx", plain(raw)))
    assert "Invoice" in text and "Amount due" in text and "€5,353.00" in text and "1 October 2026" in text


def test_docx_repeats_the_lines_header_and_numbers_pages(classic, quote):
    doc = Docx(io.BytesIO(classic.render("docx", quote)))
    lines = next(t for t in doc.tables if "Désignation" in t.rows[0].cells[0].text)
    assert lines.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [r.cells[0].text for r in lines.rows[1:]] == ["Plomberie", "Chauffe-eau", "Main-d'œuvre"]
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in lines.rows[1:])
    footer = doc.sections[0].footer._element.xml
    assert "PAGE" in footer and "NUMPAGES" in footer and "SIREN 912345675" in flat(footer)


def test_docx_bytes_are_deterministic_and_dated_from_the_issue_date(classic, quote):
    first = classic.render("docx", quote)
    assert classic.render("docx", quote) == first
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 10, 1, 0, 0, 0)}
    props = Docx(io.BytesIO(first)).core_properties
    assert props.created.date() == date(2026, 10, 1) and props.title == "Facture F-2026-0007"
    assert props.author == "Atelier Durand Rénovation"
