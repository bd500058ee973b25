"""The DOCX is the same document as the PDF: for every fixture of the cycle, in French and
in English, the DOCX (read with python-docx: paragraphs, tables, headers, footers) and the
PDF (pdftotext) print every number, date and reference the Factur-X XML states; and the
DOCX package carries this document's metadata and nothing of another template's. On classic
1.2.0 and on the latest shipped, 1.7.1, the default (until now only 1.2.0 was read this way)."""
from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from decimal import Decimal

import pytest
from docx import Document as Docx

from docsvc.rendering import TemplateRegistry
from docsvc.usecases.issuing import RenderDocument
from tests.conftest import FIXTURES, ROOT, load_fixture
from tests.originals import docx_text, missing_facts, pdf_pages, pdf_text, xml_facts

CYCLE = json.loads((FIXTURES / "cycle.json").read_text())
ALL = ["invoice", "credit_note"] + CYCLE
class Rendering(RenderDocument):
    """The service, on one classic version: 1.2.0 (subtotals as rows) and the latest shipped."""

    def __init__(self, version: str):
        super().__init__(TemplateRegistry([ROOT / "templates"]))
        self.version = version


@pytest.fixture(scope="module", params=["1.2.0", "1.7.1"])
def service(request):
    return Rendering(request.param)


def payload(name: str, language: str, version: str) -> dict:
    raw = load_fixture(name)
    raw["template"] = {"name": "classic", "version": version}
    raw["language"] = language
    raw["formats"] = ["facturx"]
    return raw


def render(service, name: str, language: str, fmt: str) -> bytes:
    return service(payload(name, language, service.version), fmt)[0]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("name", ALL)
def test_docx_and_pdf_print_what_the_xml_says(service, name, language):
    facts = xml_facts(render(service, name, language, "xml"))
    docx = docx_text(render(service, name, language, "docx"))
    assert "{{" not in docx and "{%" not in docx
    assert missing_facts(facts, docx, language) == []
    assert missing_facts(facts, pdf_text(render(service, name, language, "pdf")), language) == []


def test_the_facts_are_those_of_the_fixture(service):
    """The comparison is not empty: situation 2's XML, read back, states the figures of
    fixtures/progress_invoice_2.json."""
    facts = xml_facts(render(service, "progress_invoice_2", "fr", "xml"))
    assert facts.number == "F-2026-0131"
    assert [n for n, _ in facts.preceding] == ["FA-2026-0101", "FA-2026-0105", "F-2026-0120"]
    # works of the situation 19 533,20, deposits deducted 0 + 3 263,37 + 4 785,92 = 8 049,29:
    # net 19 533,20 - 8 049,29 = 11 483,91
    assert facts.amounts["TaxBasisTotalAmount"] == Decimal("11483.91")
    # its VAT 465,58 + 375,54 = 841,12; gross 11 483,91 + 841,12 = 12 325,03
    assert facts.amounts["GrandTotalAmount"] == Decimal("12325.03")
    text = docx_text(render(service, "progress_invoice_2", "fr", "docx"))
    assert missing_facts(facts, text.replace("841,12", "841,13"), "fr") == ["TaxTotalAmount: '841,12 €'"]


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_addresses_one_line_per_line(service, language):
    text = docx_text(render(service, "progress_invoice_2", language, "docx"))
    # fixtures/progress_invoice_2.json: the buyer's two address lines, then postcode and city
    assert "\nRésidence Bellevue\n3 avenue Jean Jaurès\n69100 Villeurbanne" in text
    # the delivery address, the same way
    assert "\nChantier Bellevue, bâtiment B\n7 rue Francis de Pressensé\n69100 Villeurbanne" in text
    assert "\n14 rue des Tanneurs\n69007 Lyon" in text  # the seller's


def test_progress_invoice_steps_from_works_to_net_and_names_what_it_deducts(service):
    text = docx_text(render(service, "progress_invoice_2", "fr", "docx"))
    # works 19 533,20 - deposits deducted (0 + 3 263,37 + 4 785,92 = 8 049,29) = net 11 483,91,
    # in this order in the totals
    lines = lines_of(text)
    works = lines.index("Travaux de cette situation HT | 19 533,20 €", lines.index("Récapitulatif TVA"))
    assert lines[works + 1] == "Acomptes déduits HT | -8 049,29 €"
    assert lines[works + 2] == "Total HT | 11 483,91 €"
    assert "FA-2026-0101" in text and "20/09/2026" in text and "FA-2026-0105" in text and "01/10/2026" in text
    # the earlier situation, by number and date, with its net
    assert "Situation N° F-2026-0120 du 31/10/2026 (5 154,39 € HT)" in text
    # each rate's deposit base names its deposit invoices, one a line, with their base at that rate:
    # 10 %: 6 067,20 + 2 266,76 = 8 333,96
    assert ("10 %\nAcompte N° FA-2026-0101 du 20/09/2026 : 6 067,20 €\n"
            "Acompte N° FA-2026-0105 du 01/10/2026 : 2 266,76 € | 8 333,96 €") in text
    # the retention: 5 % of its base, and when it is released
    assert "Retenue de garantie" in text and "libérable le 18 décembre 2027" in text


@pytest.mark.parametrize("language, due, refund", [("fr", "Net à payer", "Montant de l'avoir"),
                                                   ("en", "Amount due", "Credit amount")])
def test_a_credit_note_reads_as_a_credit_note(service, language, due, refund):
    text = docx_text(render(service, "credit_note", language, "docx"))
    raw = load_fixture("credit_note")
    assert refund in text and due not in text
    assert raw["payment"].get("iban", "FR76") not in re.sub(r"\s", "", text)
    assert raw["corrects"]["number"] in text


def test_tables_have_their_total_rows(service):
    text = docx_text(render(service, "progress_invoice_3", "fr", "docx"))
    totals = [line for line in lines_of(text) if line.startswith("Total |")]
    # the progress table, the deposit deductions, the VAT summary (two rates: 1 881,33 + 3 175,11
    # = 5 056,44 net, 376,27 + 317,51 = 693,78 VAT) and the schedule each end with a total row;
    # the schedule's: two instalments 2 630,59 + 2 630,60 and the retention released later
    # 489,03 = 5 750,22, the gross (5 261,19 due now + 489,03 withheld)
    assert len(totals) == 4, totals
    assert totals[2] == "Total | 5 056,44 € | 693,78 €"
    assert totals[-1] == "Total | | 5 750,22 €"
    text = docx_text(render(service, "final_invoice", "fr", "docx"))
    assert [line for line in lines_of(text) if line.startswith("Total |")], text


def package(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize("name", ["invoice", "deposit_invoice", "final_invoice"])
def test_metadata_is_this_documents_and_no_other_templates(service, name):
    raw = load_fixture(name)
    data = render(service, name, "fr", "docx")
    parts = package(data)
    assert not [n for n in parts if n.startswith(("docProps/thumbnail", "customXml/"))]
    assert b"thumbnail" not in parts["_rels/.rels"]
    assert b"Microsoft" not in parts["docProps/app.xml"] and b"Normal.dotm" not in parts["docProps/app.xml"]
    props = Docx(io.BytesIO(data)).core_properties
    assert raw["number"] in props.title
    assert props.author == raw["seller"]["name"]
    assert raw["buyer"]["name"] in props.subject and raw["number"] in props.subject
    assert raw["number"] in props.keywords
    assert props.comments == "" and props.category == "" and "classic 1.0.0" not in props.last_modified_by
    assert props.created.date().isoformat() == raw["issue_date"]


def test_inter_falls_back_to_a_sans_serif(service, tmp_path):
    """Where Inter is absent (fontconfig sees only DejaVu here), LibreOffice sets the DOCX
    in a sans-serif, never a serif Times; Word reads the same fallback (Arial) from the font table."""
    data = render(service, "invoice", "fr", "docx")
    fonts = package(data)["word/fontTable.xml"].decode()
    assert re.search(r'<w:font w:name="Inter"><w:altName w:val="Arial"/>.*?<w:family w:val="swiss"/>', fonts)
    (tmp_path / "in.docx").write_bytes(data)
    (tmp_path / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>' + str(tmp_path / "cache") + '</cachedir>'
        '</fontconfig>')
    env = {"FONTCONFIG_FILE": str(tmp_path / "fonts.conf"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(tmp_path / "in.docx")], env=env, check=True, capture_output=True,
                   timeout=120)
    used = subprocess.run(["pdffonts", str(tmp_path / "in.pdf")], capture_output=True, check=True, text=True).stdout
    names = [line.split()[0].split("+")[-1] for line in used.splitlines()[2:]]
    assert "DejaVuSans" in names and "DejaVuSans-Bold" in names, used
    assert not [n for n in names if "Serif" in n or "Times" in n], used


def test_libreoffice_opens_every_type(service, tmp_path):
    """A user opens the DOCX: LibreOffice converts each type to PDF, with the same amount due."""
    for name in ["invoice", "credit_note", "deposit_invoice", "progress_invoice_3", "final_invoice"]:
        (tmp_path / f"{name}.docx").write_bytes(render(service, name, "fr", "docx"))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path)] + [str(p) for p in sorted(tmp_path.glob("*.docx"))],
                   check=True, capture_output=True, timeout=300)
    for name in ["invoice", "credit_note", "deposit_invoice", "progress_invoice_3", "final_invoice"]:
        facts = xml_facts(render(service, name, "fr", "xml"))
        text = pdf_text((tmp_path / f"{name}.pdf").read_bytes())
        assert missing_facts(facts, text, "fr") == [], name


@pytest.mark.parametrize("language, words", [("fr", "Exonéré (1)"), ("en", "Exempt (1)")])
def test_vat_categories_in_words_with_their_exemption_wording(service, language, words):
    raw = payload("invoice", language, service.version)
    raw["formats"] = ["docx"]
    raw["lines"][0].update(vat_rate="0", vat_category="E",
                           vat_exemption_reason="Exonération de TVA, article 261-4-4° du CGI")
    lines = lines_of(docx_text(service(raw, "docx")[0]))
    first = load_fixture("invoice")["lines"][0]
    # the line: its quantity 1 at 380,00 € (fixtures/invoice.json), exempt, net 380,00
    assert [line for line in lines if line.startswith(first["description"])][0].endswith(
        f"| {words} | " + ("380,00 €" if language == "fr" else "€380.00"))
    assert any(line.startswith(f"{words} | ") for line in lines)  # its row in the VAT summary
    colon = " : " if language == "fr" else ": "  # French typography puts a space before the colon
    assert f"(1) {words[:-4]}{colon}Exonération de TVA, article 261-4-4° du CGI" in lines  # the wording, once
    assert not [line for line in lines if re.search(r"\| E \|", line)]  # never the bare code


def test_classic_1_0_0_keeps_its_docx_as_archived(service):
    """1.0.0 is pinned: its bundle is the one whose originals predate the package cleaning,
    and it still renders the package it always did (its template's thumbnail included)."""
    from docsvc.rendering.bundle import bundle_sha256
    from docsvc.rendering.docx import LEGACY_PACKAGES

    assert bundle_sha256(ROOT / "templates" / "classic" / "1.0.0") in LEGACY_PACKAGES
    raw = load_fixture("invoice")  # pinned to 1.0.0
    raw["formats"] = ["docx"]
    parts = package(service(raw, "docx")[0])
    assert "docProps/thumbnail.jpeg" in parts
    assert b"<dc:subject/>" in parts["docProps/core.xml"] or b"<dc:subject></dc:subject>" in parts[
        "docProps/core.xml"]


def libreoffice_pages(tmp_path, docs: dict[str, bytes]) -> dict[str, list[str]]:
    """Each DOCX as LibreOffice lays it out: its PDF's pages, as text."""
    for name, data in docs.items():
        (tmp_path / f"{name}.docx").write_bytes(data)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path)] + [str(tmp_path / f"{n}.docx") for n in docs],
                   check=True, capture_output=True, timeout=300)
    return {name: pdf_pages((tmp_path / f"{name}.pdf").read_bytes(), layout=True) for name in docs}


def test_docx_pages_keep_the_closing_block_and_repeat_the_header(service, tmp_path):
    """Opened in LibreOffice: a 60-line invoice and the longest cycle documents run over
    pages; from page 2 each page starts with the running header (number and buyer), and
    the closing block (VAT summary, totals, payment, mentions: one row that never splits)
    sits whole on the last page after what precedes it, never alone."""
    from tests.integration.test_originals import sixty_lines

    raw = sixty_lines("1.2.0")
    raw["formats"] = ["docx"]
    docs = {"sixty": service(raw, "docx")[0],
            "final": render(service, "final_invoice", "fr", "docx"),
            "situation": render(service, "progress_invoice_3", "fr", "docx")}
    pages = libreoffice_pages(tmp_path, docs)
    # what comes right before the closing block and must share its page: the end of the lines,
    # the contract summary of a situation, the retention still held by a final invoice
    for name, number, before in (("sixty", "F-2026-0125", "Article numéro 60"),
                                 ("final", "F-2026-0152", "Total retenu, restant dû"),
                                 ("situation", "F-2026-0140", "Travaux de cette situation HT")):
        doc_pages = pages[name]
        assert len(doc_pages) >= 2, name
        assert "SCI Les Tilleuls" not in doc_pages[0].strip().splitlines()[0]
        for page in doc_pages[1:]:
            head = page.strip().splitlines()[0]
            assert number in head and "SCI Les Tilleuls" in head, (name, head)
        closing = [n for n, page in enumerate(doc_pages) if "Récapitulatif TVA".upper() in page.upper()]
        assert closing == [len(doc_pages) - 1], (name, closing)
        last = doc_pages[-1]
        for words in ("Net à payer", "Règlement".upper(), "Indemnité forfaitaire"):
            assert words.upper() in last.upper(), (name, words)
        assert before.upper() in last.upper().split("RÉCAPITULATIF TVA")[0], (name, before)
    # the 60 lines, 1 + 2 + ... + 60 = 1 830,00 € net, all there
    text = "\n".join(pages["sixty"])
    assert all(f"Article numéro {i}" in text for i in range(1, 61)) and "1 830,00 €" in pages["sixty"][-1]


def test_a_deposit_shows_its_basis(service):
    lines = lines_of(docx_text(render(service, "deposit_invoice_2", "fr", "docx")))
    # quote D-2026-0098: 40 542,00 € net, 44 609,89 € gross; a fixed 5 000,00 € gross is
    # 5 000 / 44 609,89 = 11,208..% -> 11,21 %
    assert "Devis N° D-2026-0098 du 15/09/2026 | Devis HT 40 542,00 € | Devis TTC 44 609,89 €" in lines
    assert "Pourcentage de l'acompte | 5 000,00 € TTC, soit 11,21 % du devis TTC" in lines
    # both deposits: 12 162,60 + 4 544,05 = 16 706,65 net, 13 382,97 + 5 000,00 = 18 382,97 gross;
    # left to invoice: 40 542,00 - 16 706,65 = 23 835,35 net, 44 609,89 - 18 382,97 = 26 226,92 gross
    assert "Acomptes facturés sur le devis, celui-ci compris | 16 706,65 € HT | 18 382,97 € TTC" in lines
    assert "Reste à facturer sur le devis | 23 835,35 € HT | 26 226,92 € TTC" in lines
    # the earlier deposit, this one, and their total
    assert "Acompte N° FA-2026-0101 | 20/09/2026 | 12 162,60 € | 13 382,97 €" in lines
    assert "Facture d'acompte N° FA-2026-0105 | 01/10/2026 | 4 544,05 € | 5 000,00 €" in lines
    assert "Total des acomptes, celui-ci compris | | 16 706,65 € | 18 382,97 €" in lines
