"""The classic template and the rendering engines, on real WeasyPrint and docxtpl."""
import io
import shutil
from datetime import date
from decimal import Decimal as D

import pytest
from docx import Document as Docx

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering import AssetRefused, TemplateRegistry
from docsvc.rendering.bundle import Bundle, bundle_sha256
from docsvc.schemas.payload import load_payload
from tests.conftest import ROOT, load_fixture, quote_example
from tests.originals import pdf_pages, plain_spaces

TEMPLATES = ROOT / "templates"


def pages(pdf: bytes) -> list[str]:
    return pdf_pages(pdf, layout=True, clean=plain_spaces)


def docx_text(data: bytes) -> str:
    doc = Docx(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    parts += [p.text for p in doc.sections[0].footer.paragraphs]
    return "\n".join(parts).replace("\u202f", " ").replace("\u00a0", " ")


@pytest.fixture(scope="module")
def classic():
    return TemplateRegistry([TEMPLATES]).get("classic", "1.0.0")


def plain(raw):
    return as_plain(enrich(load_payload(raw)))


def test_two_page_invoice_in_french(classic):
    text = pages(classic.render("pdf", plain(load_fixture("invoice"))))
    assert len(text) == 3  # 45 lines: lines over two pages, mentions kept together on the third
    first, second = text[0], text[1]
    assert "Facture" in first and "F-2026-0125" in first and "SCI Les Tilleuls" in first
    assert "20 novembre 2026" in first  # issue date, long French format
    assert "Page 1 / 3" in first and "Page 2 / 3" in second
    assert "Désignation" in second and "PU HT" in second  # the lines header repeats on page 2
    # 5.5 %: 1176.00 + 1150.00 + 845.50 = 3171.50 -> VAT 174.43 (see tests/unit/test_billing.py)
    assert "3 171,50 €" in second and "174,43 €" in second
    # 20 %: 1662.80 -> 332.56; one payment of 2000.00 received
    assert "1 662,80 €" in second and "332,56 €" in second and "− 2 000,00 €" in second
    assert "Pas d'escompte pour paiement anticipé" in "".join(text)
    assert "40,00 €" in "".join(text)  # recovery indemnity
    assert "SIRET 91234567500017" in first  # seller identity in the footer


def test_english_labels_and_formats(classic):
    raw = quote_example()
    raw["language"] = "en"
    text = pages(classic.render("pdf", plain(raw)))[0]
    # net 4715.00, VAT 638.00, gross 5353.00 (DOMAIN.md's quote)
    assert "Invoice" in text and "Amount due" in text and "€5,353.00" in text and "€4,715.00" in text
    assert "1 October 2026" in text


def test_docx_has_the_same_figures(classic):
    text = docx_text(classic.render("docx", plain(quote_example())))
    assert "F-2026-0007" in text and "SCI Les Tilleuls" in text
    assert "5 353,00 €" in text and "638,00 €" in text and "Net à payer" in text
    assert "2 400,00 €" in text and "1 665,00 €" in text  # L1 and L2 nets
    assert "{{" not in text and "{%" not in text  # every tag rendered


def test_progress_invoice_shows_its_table(classic):
    raw = load_fixture("progress_invoice_1")
    pdf = "".join(pages(classic.render("pdf", plain(raw))))
    # captions are set in capitals by the stylesheet
    assert "Facture de situation n° 1" in pdf and "ÉTAT D'AVANCEMENT" in pdf
    assert "DÉDUCTION DES ACOMPTES" in pdf and "Retenue de garantie" in pdf
    docx = docx_text(classic.render("docx", plain(raw)))
    assert "Facture de situation n° 1" in docx and "{{" not in docx


def test_paid_invoice_is_marked(classic):
    raw = quote_example()
    raw["payments"] = [{"date": "2026-10-01", "amount": "5353.00", "means": "card"}]
    assert "Acquittée" in pages(classic.render("pdf", plain(raw)))[0]


def test_bundle_is_compiled_once_per_process():
    registry = TemplateRegistry([TEMPLATES])
    first = registry.get("classic")
    assert registry.get("classic", "1.7.3") is first  # the latest shipped
    assert first._pdf.css is registry.get("classic")._pdf.css


def test_sha256_is_stable_and_changes_with_any_file(tmp_path):
    copy = tmp_path / "classic" / "1.0.0"
    shutil.copytree(TEMPLATES / "classic" / "1.0.0", copy)
    original = bundle_sha256(copy)
    assert original == bundle_sha256(TEMPLATES / "classic" / "1.0.0")
    (copy / "style.css").write_text((copy / "style.css").read_text() + "\n/* */")
    assert bundle_sha256(copy) != original


def test_registry_resolves_the_highest_semantic_version(tmp_path):
    for version in ("1.2.0", "1.10.0", "1.9.3"):
        shutil.copytree(TEMPLATES / "classic" / "1.0.0", tmp_path / "classic" / version)
        toml = tmp_path / "classic" / version / "template.toml"
        toml.write_text(toml.read_text().replace('version = "1.0.0"', f'version = "{version}"'))
    registry = TemplateRegistry([tmp_path])
    assert registry.get("classic").version == "1.10.0"  # 10 > 9 as numbers, not as text
    assert registry.list() == [{"name": "classic", "versions": ["1.2.0", "1.9.3", "1.10.0"], "latest": "1.10.0"}]


@pytest.mark.parametrize("reference", [
    "file:///etc/passwd", "http://127.0.0.1:9/leak?x=1", "../../../../etc/passwd", "assets/missing.png",
    "https://bundle.invalid/template.toml",
])
def test_a_template_can_only_fetch_its_own_assets(tmp_path, reference):
    copy = tmp_path / "evil" / "1.0.0"
    shutil.copytree(TEMPLATES / "classic" / "1.0.0", copy)
    html = copy / "document.html"
    html.write_text(html.read_text().replace("<body>", f'<body><img src="{reference}">', 1))
    bundle = Bundle(copy)
    with pytest.raises(AssetRefused):
        bundle._pdf.fetcher.fetch(f"https://bundle.invalid/{reference}" if "://" not in reference else reference)
    from weasyprint.urls import FatalURLFetchingError
    with pytest.raises(FatalURLFetchingError):
        bundle.render("pdf", plain(quote_example()))


def test_the_sandbox_refuses_python_internals(tmp_path):
    from jinja2.exceptions import SecurityError

    copy = tmp_path / "evil" / "1.0.0"
    shutil.copytree(TEMPLATES / "classic" / "1.0.0", copy)
    html = copy / "document.html"
    html.write_text(html.read_text().replace("<body>", "<body>{{ doc.__class__.__mro__[1].__subclasses__() }}", 1))
    with pytest.raises(SecurityError):
        Bundle(copy).render("pdf", plain(quote_example()))


def test_an_undefined_variable_is_an_error_not_a_blank(tmp_path):
    from jinja2.exceptions import UndefinedError

    copy = tmp_path / "typo" / "1.0.0"
    shutil.copytree(TEMPLATES / "classic" / "1.0.0", copy)
    html = copy / "document.html"
    html.write_text(html.read_text().replace("{{ doc.number }}", "{{ doc.numbr }}", 1))
    with pytest.raises(UndefinedError):
        Bundle(copy).render("pdf", plain(quote_example()))


def test_filters_format_in_the_document_locale(classic):
    env = classic.html_env
    ctx = {"doc": {"language": "fr", "currency": "EUR"}, "labels": classic.labels["fr"]}
    render = lambda src, **kw: env.from_string(src).render(**ctx, **kw).replace("\u202f", " ").replace("\u00a0", " ")  # noqa: E731
    assert render("{{ v | money }}", v=D("1234.56")) == "1 234,56 €"
    assert render("{{ v | percent }}", v=D("5.50")) == "5,5 %"
    assert render("{{ v | quantity }}", v=D("12.5000")) == "12,5"
    assert render("{{ v | quantity }}", v=D("1.0000")) == "1"
    assert render("{{ d | date }}", d=date(2026, 11, 22)) == "22 novembre 2026"
    assert render("{{ d | short_date }}", d=date(2026, 11, 22)) == "22/11/2026"
    assert render("{{ u | unit }}", u="HUR") == "h"
    assert render("{{ m | mention }}", m={"code": "late_penalty", "values": {"rate": D("12.00")}}).startswith(
        "En cas de retard de paiement, pénalités au taux annuel de 12 %")


def test_pdf_is_deterministic_for_the_same_document(classic):
    document = plain(quote_example())
    assert classic.render("pdf", document) == classic.render("pdf", document)


def test_the_docx_sandbox_refuses_python_internals(tmp_path):
    from docx import Document as Docx
    from jinja2.exceptions import SecurityError

    copy = tmp_path / "evil" / "1.0.0"
    shutil.copytree(TEMPLATES / "classic" / "1.0.0", copy)
    doc = Docx(copy / "document.docx")
    doc.add_paragraph("{{ doc.__class__.__mro__[1].__subclasses__() }}")
    doc.save(copy / "document.docx")
    with pytest.raises(SecurityError):
        Bundle(copy).render("docx", plain(quote_example()))


def overprinted(pdf: bytes) -> list[tuple[str, str]]:
    """Pairs of words of the first page drawn over each other (their boxes overlap by more than
    half a point each way), as pdftotext -bbox reads them."""
    import re
    import subprocess
    out = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", "-", "-"], input=pdf,
                         capture_output=True, check=True).stdout.decode()
    found = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', out)
    words = [(w[4], *map(float, w[:4])) for w in found]
    return [(a[0], b[0]) for i, a in enumerate(words) for b in words[i + 1:]
            if min(a[3], b[3]) - max(a[1], b[1]) > 0.5 and min(a[4], b[4]) - max(a[2], b[2]) > 0.5]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_1_7_3_names_a_vat_category_briefly_where_its_wording_overran_the_amounts(language):
    """An intra-EU supply (K) to a German business: 1.7.2 printed "Livraison intracommunautaire
    exonérée" in the narrow VAT column, over the line totals; 1.7.3 prints "Intra-UE" and its note
    mark, and the wording stays in the note under the VAT summary."""
    raw = load_fixture("invoice")
    raw["language"] = language
    raw["buyer"] = {"name": "Bau GmbH", "vat_id": "DE136695976",
                    "address": {"lines": ["Hauptstr. 1"], "postcode": "10115", "city": "Berlin", "country": "DE"}}
    raw.pop("payments", None)
    raw["lines"] = [{"id": f"L{i}", "description": f"Article {i}", "quantity": "1", "unit_price": "380.00",
                     "vat_rate": "0", "vat_category": "K",
                     "vat_exemption_reason": "Exonération de TVA, art. 262 ter I du CGI"} for i in (1, 2, 3)]
    document = plain(raw)
    registry = TemplateRegistry([ROOT / "templates"])
    before, after = (registry.get("classic", v).render("pdf", document) for v in ("1.7.2", "1.7.3"))
    assert overprinted(before)  # the check can fail: 1.7.2's wording over the totals
    assert overprinted(after) == []
    lines = plain_spaces(pdf_pages(after)[0]).splitlines()
    # 1.7.3 also writes " · " only between the buyer's identifiers: this one has no SIREN
    assert [line for line in lines if line.strip().startswith("·")] == []
    assert [line for line in plain_spaces(pdf_pages(before)[0]).splitlines() if line.strip().startswith("·")]
    text = " ".join(" ".join(lines).split())
    brief, wording = {"fr": ("Intra-UE(1)", "Livraison intracommunautaire exonérée"),
                      "en": ("Intra-EU(1)", "Intra-EU supply, exempt")}[language]
    assert text.count(brief) == 3  # the three lines
    assert text.count(wording) == 2  # the VAT summary's row and the note under it


def test_1_7_3_s_running_header_and_an_exemption_that_repeats_its_category():
    """An accountant's review: the running header read "Facture N° F-2026-0125" (two labels run
    together) and a reverse charge whose wording is "Autoliquidation" read "Autoliquidation :
    Autoliquidation"."""
    registry = TemplateRegistry([ROOT / "templates"])
    two_pages = plain(load_fixture("invoice"))
    older, newer = (pdf_pages(registry.get("classic", v).render("pdf", two_pages)) for v in ("1.7.2", "1.7.3"))
    assert "Facture N° F-2026-0125 · SCI Les Tilleuls" in plain_spaces(older[1])
    assert "Facture · N° F-2026-0125 · SCI Les Tilleuls" in plain_spaces(newer[1])
    raw = load_fixture("invoice")
    raw["lines"] = raw["lines"][:1]
    raw["payments"] = []
    raw["lines"][0].update(vat_rate="0", vat_category="AE", vat_exemption_reason="Autoliquidation")
    document = plain(raw)
    older, newer = (" ".join(plain_spaces(pdf_pages(registry.get("classic", v).render("pdf", document))[0]).split())
                    for v in ("1.7.2", "1.7.3"))
    assert "Autoliquidation : Autoliquidation" in older
    # the VAT summary's row and the note, once each (the line's cell says "Autoliq.")
    assert "Autoliquidation : Autoliquidation" not in newer and newer.count("Autoliquidation") == 2
