"""Originals that tell the whole truth (issue 10), on classic 1.2.0 and on 1.7.1, which lays the
same pages out in one pass and shows the carried-forward subtotals in the page margins (issue 16),
and a situation's retention as it is worked out (1.7.1; otherwise 1.7.0's pages).

For every document type the PDF text and the Factur-X XML must tell one story: the same
numbers, dates and references. The page-layout rules are checked on a 60-line invoice
built so that every subtotal can be worked out by hand, and on each cycle fixture.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from babel.dates import format_date
from babel.numbers import format_currency
from lxml import etree

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.einvoice.cii import NS, build_cii
from docsvc.rendering.registry import TemplateRegistry
from docsvc.schemas.payload import load_payload
from tests.conftest import DEPOSIT_30, FIXTURES, ROOT, cycle_payload, load_fixture
from tests.originals import docx_text as docx_paragraphs
from tests.originals import pdf_pages

VERSIONS = ["1.2.0", "1.7.1"]
ALL = ["invoice", "credit_note"] + json.loads((FIXTURES / "cycle.json").read_text())


@pytest.fixture(scope="module", params=VERSIONS)
def bundle(request):
    return TemplateRegistry([ROOT / "templates"]).get("classic", request.param)


def flat(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def pages_of(pdf: bytes) -> list[str]:
    return pdf_pages(pdf, layout=True, clean=flat)


def render(bundle, raw: dict) -> tuple[list[str], etree._Element, object]:
    doc = enrich(load_payload(raw))
    pdf = bundle.render("pdf", as_plain(doc))
    xml, _ = build_cii(doc)
    return pages_of(pdf), etree.fromstring(xml), doc


def money(value, lang="fr") -> str:
    return flat(format_currency(D(value), "EUR", locale="fr_FR" if lang == "fr" else "en_GB")).replace("-", "\u2212")


def xml_day(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()


def long_day(day: date, lang="fr") -> str:
    return flat(format_date(day, "long", locale="fr_FR" if lang == "fr" else "en_GB"))


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# ------------------------------------------------------------------ PDF and XML tell one story


@pytest.mark.parametrize("name", ALL)
def test_pdf_and_xml_carry_the_same_numbers_dates_and_references(bundle, name):
    pages, tree, doc = render(bundle, load_fixture(name))
    text = "\n".join(pages)
    flat_text = one_line(text)
    x = lambda path: tree.findtext(path, namespaces=NS)  # noqa: E731
    assert x(".//rsm:ExchangedDocument/ram:ID") == doc.number and doc.number in text
    assert long_day(xml_day(x(".//ram:IssueDateTime/udt:DateTimeString"))) in text
    for path in ("ram:TaxBasisTotalAmount", "ram:TaxTotalAmount", "ram:GrandTotalAmount"):
        value = x(f".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/{path}")
        assert money(value) in text, (path, value)
    # every VAT row of the XML, base and amount, is printed
    for tax in tree.iterfind(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS):
        assert money(tax.findtext("ram:BasisAmount", namespaces=NS)) in text
        assert money(tax.findtext("ram:CalculatedAmount", namespaces=NS)) in text
    # the preceding invoices (BT-25) are the ones the PDF names, and the PDF names no other
    refs = [e.text for e in tree.iterfind(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", NS)]
    for ref in refs:
        assert ref in text
    named = set(re.findall(r"\b(?:FA|F)-\d{4}-\d{4}\b", text)) - {doc.number}
    if doc.type.value in ("progress_invoice", "final_invoice"):
        assert named == set(refs), (named, refs)
    due = [xml_day(e.text) for e in tree.iterfind(".//ram:DueDateDateTime/udt:DateTimeString", NS)]
    if doc.type.value == "credit_note":
        # the money runs the other way: no due date, no seller IBAN, no "Net à payer"
        assert due == [] and "Échéance" not in text and "IBAN" not in text and "Net à payer" not in text
        assert x(".//ram:IBANID") is None
        assert "Montant de l'avoir" in text and money(doc.totals.gross_total) in text
        kind = {"progress_invoice": " de situation", "deposit_invoice": " d'acompte"}.get(doc.corrects.type, "")
        corrected = f"N° {doc.corrects.number} du {long_day(doc.corrects.issue_date)}"
        assert f"Avoir sur la facture{kind} {corrected}" in flat_text
        assert x(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == doc.corrects.number
    else:
        # one due date: the header's, the payment block's and the XML's first term agree
        assert due[0] == doc.due_date
        assert len(re.findall(re.escape(long_day(doc.due_date)), text)) >= 2  # header and payment block
        assert money(x(".//ram:DuePayableAmount") if not doc.retention else doc.totals.amount_due) in text
    # no sale / service date printed when none was given, nor BT-72 sent
    delivery = x(".//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString")
    if doc.delivery_date is None:
        assert delivery is None and "Date de la vente" not in text
    else:
        assert xml_day(delivery) == doc.delivery_date and long_day(doc.delivery_date) in text


def test_a_situation_names_each_deposit_it_deducts_and_each_earlier_situation(bundle):
    pages, tree, doc = render(bundle, load_fixture("progress_invoice_3"))
    text = one_line("\n".join(pages))
    # deposits by number and date, per rate: FA-2026-0101 of 20/09/2026 at 10 %: 6 067,20 €
    assert "Acompte N° FA-2026-0101 du 20/09/2026 : 6 067,20 €" in text
    assert "Acompte N° FA-2026-0105 du 01/10/2026 : 2 266,76 €" in text
    assert "Situation N° F-2026-0120 du 31/10/2026" in text and "Situation N° F-2026-0131 du 30/11/2026" in text
    # the steps from works to amount: works 8 600,60 - deposits deducted 3 544,16 = total HT 5 056,44
    # (deductions now: 1 318,67 + 2 225,49 + 0,00 = 3 544,16)
    assert D("8600.60") - D("3544.16") == doc.totals.net_total
    for label, value in (("Travaux de cette situation HT", "8 600,60 €"), ("Acomptes déduits HT", "\u22123 544,16 €"),
                         ("Total HT", "5 056,44 €")):
        assert re.search(re.escape(label) + r" +" + re.escape(value), "\n".join(pages)), label
    # retention: 5 % of this situation's works incl. VAT (9 780,66 €) = 489,033 -> 489,03 €, released on
    # 18 December 2027; 1.7.1 shows how it is worked out: 5 % of the cumulative 40 284,79 € = 2 014,2395 ->
    # 2 014,24 €, less the 1 525,21 € situations 1 and 2 withheld = 489,03 €
    if bundle.version == "1.2.0":
        assert "Retenue de garantie 5 % des travaux TTC de cette situation (9 780,66 €) : 489,03 €" in text
    else:
        assert ("Retenue de garantie 5 % du cumul des travaux TTC (40 284,79 €) : 2 014,24 €, moins 1 525,21 € "
                "retenus sur les situations précédentes : 489,03 € sur cette situation") in text
    assert "libérable le 18 décembre 2027" in text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_situation_retention_shows_how_it_is_worked_out_in_the_pdf_and_the_docx(language):
    """Situation 2 withholds 1 048,20 €, which is not 5 % of its own works (20 963,89 € -> 1 048,19):
    classic 1.7.0 printed the two side by side; 1.7.1 prints the cumulative working, and the
    first situation, where both agree, keeps the short sentence."""
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", "1.7.1")
    # cumulative works incl. VAT 30 504,13 € x 5 % = 1 525,2065 -> 1 525,21; situation 1 withheld 477,01
    # (9 540,24 x 5 % = 477,012); 1 525,21 - 477,01 = 1 048,20
    assert D("1525.21") - D("477.01") == D("1048.20")
    expected = {
        "fr": ("Retenue de garantie 5 % du cumul des travaux TTC (30 504,13 €) : 1 525,21 €, moins 477,01 € "
               "retenus sur les situations précédentes : 1 048,20 € sur cette situation · libérable le "
               "18 décembre 2027.",
               "Retenue de garantie 5 % des travaux TTC de cette situation (9 540,24 €) : 477,01 € · "
               "libérable le 18 décembre 2027."),
        "en": ("Retention 5% of the cumulative works incl. VAT (€30,504.13): €1,525.21, less €477.01 withheld "
               "by the earlier progress invoices: €1,048.20 on this invoice · released on 18 December 2027.",
               "Retention 5% of this invoice's works incl. VAT (€9,540.24): €477.01 · released on "
               "18 December 2027."),
    }[language]
    for name, sentence in zip(("progress_invoice_2", "progress_invoice_1"), expected, strict=True):
        raw = load_fixture(name)
        raw["language"] = language
        document = as_plain(enrich(load_payload(raw)))
        pdf_text = one_line("\n".join(pages_of(bundle.render("pdf", document))))
        docx_text = one_line(flat(docx_paragraphs(bundle.render("docx", document))))
        assert sentence in pdf_text, name
        assert sentence in docx_text, name
        assert "Retenue cumulée" not in pdf_text + docx_text and "Cumulative retention" not in pdf_text


def test_a_retention_without_release_date_says_so(bundle):
    raw = cycle_payload("progress_invoice", "F-2026-0301", previous_invoices=[DEPOSIT_30],
                        progress=[{"line": "L1", "percent": "40"}, {"line": "L2", "percent": "100"}],
                        retention={"percent": "5"}, template={"name": "classic", "version": bundle.version})
    pages, tree, _ = render(bundle, raw)
    text = one_line("\n".join(pages))
    # 5 % of 3 054,00 € (works incl. VAT, DOMAIN.md) = 152,70 €
    assert "(3 054,00 €) : 152,70 €" in text and "date de libération non fixée" in text
    assert " le -" not in text and "libérable le ." not in text
    notes = [e.text for e in tree.iterfind(".//ram:IncludedNote/ram:Content", NS)]
    assert any("date de libération non fixée" in n for n in notes) and not any(n.endswith("le -.") for n in notes)


def test_the_final_invoice_shows_credit_notes_and_the_retention_still_owed(bundle):
    pages, tree, doc = render(bundle, load_fixture("final_invoice"))
    text = one_line("\n".join(pages))
    # the credit note A-2026-0011 on F-2026-0131: 20 x 21,00 = 420,00 € + 42,00 € VAT = 462,00 €, negative
    assert "Avoir N° A-2026-0011 sur F-2026-0131 05/12/2026 \u2212420,00 € \u221242,00 € (10 %) \u2212462,00 €" in text
    # total already billed: 12 162,60 + 4 544,05 + 5 154,39 + 11 483,91 + 5 056,44 - 420,00 = 37 981,39 net
    assert "Total déjà facturé 37 981,39 €" in text
    # retention per situation 477,01 + 1 048,20 + 489,03 = 2 014,24 €, released on 18/12/2027
    for number, amount in (("F-2026-0120", "477,01 €"), ("F-2026-0131", "1 048,20 €"), ("F-2026-0140", "489,03 €")):
        assert re.search(re.escape(number) + r" du \d\d/\d\d/2026 libérable le 18/12/2027 " + re.escape(amount), text)
    assert "Total retenu, restant dû libérable le 18/12/2027 2 014,24 €" in text
    assert D("477.01") + D("1048.20") + D("489.03") == doc.final.retention_total
    # the per-rate table has a title, a legend and a total row: 44 609,89 - 41 605,09 = 3 004,80
    assert "SOLDE PAR TAUX DE TVA" in text and "Total du devis − déjà facturé" in text
    assert "Total 44 609,89 € 41 605,09 € 3 004,80 €" in text
    # 20 %: remaining base 1 881,34 x 20 % = 376,268 -> 376,27, but VAT by difference is 376,26: explained
    assert "1 881,34 € × 20 % donnerait 376,27 €" in text


def test_words_not_codes_and_a_row_for_every_rate(bundle):
    raw = cycle_payload("invoice", "F-2026-0302", template={"name": "classic", "version": bundle.version})
    del raw["quote"]
    raw["lines"] = [
        {"description": "Formation professionnelle", "quantity": "1", "unit_price": "500.00", "vat_rate": "0",
         "vat_category": "E", "vat_exemption_reason": "Exonération de TVA, article 261-4-4° a du CGI"},
        {"description": "Pose", "quantity": "1", "unit_price": "100.00", "vat_rate": "20"}]
    pages, tree, _ = render(bundle, raw)
    text = "\n".join(pages)
    assert "Exonéré(1)" in text.replace(" ", "")
    assert "(1) Exonéré : Exonération de TVA, article 261-4-4° a du CGI" in one_line(text)
    assert not re.search(r"\s E\s", text)  # never a bare category code
    # a final invoice whose 20 % rate is fully billed keeps its row: base 0,00, VAT 0,00 (BR-S-08)
    situation = {"type": "progress_invoice", "number": "F-2026-0031", "issue_date": "2026-10-31",
                 "net_total": "1837.50", "gross_total": "2137.80",
                 "vat": [{"rate": "20", "base": "1165.50", "amount": "233.10"},
                         {"rate": "10", "base": "672.00", "amount": "67.20"}]}
    raw = cycle_payload("final_invoice", "F-2026-0303", previous_invoices=[DEPOSIT_30, situation],
                        template={"name": "classic", "version": bundle.version})
    pages, tree, _ = render(bundle, raw)
    assert re.search(r"20 % +0,00 € +0,00 €", "\n".join(pages))
    rows = [(t.findtext("ram:RateApplicablePercent", namespaces=NS), t.findtext("ram:BasisAmount", namespaces=NS))
            for t in tree.iterfind(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)]
    assert ("20", "0.00") in rows


def test_typography_no_breaks_one_minus_grouped_identifiers(bundle):
    pages, _, _ = render(bundle, load_fixture("progress_invoice_2"))
    text = "\n".join(pages)
    assert "IBAN FR76 3000 6000 0112 3456 7890 189" in text
    assert "SIRET 912 345 675 00017" in text and "RCS Lyon 912 345 675" in text
    assert not re.search(r"\d\s*\n\s*%", text)  # "10 %" never split over two lines
    assert "\u22121 048,20 €" in text  # the retention, with a true minus sign
    assert not re.search(r"(?<![\w/])-\s?\d[\d ]*,\d\d", text)  # no hyphen-minus before an amount
    pages, _, _ = render(bundle, load_fixture("final_invoice"))
    text = "\n".join(pages)
    assert "\u22121 " in text  # the deductions' quantity -1
    assert not re.search(r"(?<![\w/])-\d", text)  # no hyphen-minus before any figure


def test_a_deposit_shows_its_basis_and_the_date_it_was_received(bundle):
    pages, _, doc = render(bundle, load_fixture("deposit_invoice"))
    text = one_line("\n".join(pages))
    # quote D-2026-0098: net 40 542,00 €, gross 44 609,89 €; 30 % -> 13 382,97 € gross
    assert "Devis HT 40 542,00 €" in text and "Devis TTC 44 609,89 €" in text and "30 % du devis" in text
    # left to invoice: 44 609,89 - 13 382,97 = 31 226,92 € gross; 40 542,00 - 12 162,60 = 28 379,40 € net
    assert "Reste à facturer sur le devis 28 379,40 € HT 31 226,92 € TTC" in text
    assert "Acompte reçu le 18 septembre 2026" in text
    pages, _, _ = render(bundle, load_fixture("deposit_invoice_2"))
    text = one_line("\n".join(pages))
    # a fixed 5 000,00 € of 44 609,89 €: 11,208..% -> 11,21 %
    assert "5 000,00 € TTC, soit 11,21 % du devis TTC" in text


def test_credit_note_settlement_is_printed(bundle):
    pages, _, _ = render(bundle, load_fixture("credit_note"))
    text = one_line("\n".join(pages))
    # 85,00 + 72,00 + 39,90 = 196,90 HT; VAT 8,50 + 22,38 (111,90 x 20 %) = 30,88; 227,78 TTC
    assert "Montant remboursé par virement le 4 décembre 2026 : 227,78 €" in text
    assert "pénalités" not in text  # no late-payment terms on a credit


# ------------------------------------------------------------------ pages a person would print


def sixty_lines(version: str) -> dict:
    raw = load_fixture("invoice")
    raw["template"] = {"name": "classic", "version": version}
    raw["payments"] = []
    # line i: 1 x i,00 € at 20 %, so the subtotal after line k is 1 + 2 + ... + k = k(k+1)/2
    raw["lines"] = [{"id": str(i), "description": f"Article numéro {i}", "quantity": "1", "unit": "C62",
                     "unit_price": f"{i}.00", "vat_rate": "20"} for i in range(1, 61)]
    return raw


def euros(text: str) -> D:
    return D(text.replace(" ", "").replace("\u2212", "-").replace(",", ".").replace("€", ""))


def carried(page: str, label: str) -> D | None:
    found = re.search(label + r" +([\d ]+,\d\d) €", page)
    return euros(found.group(1)) if found else None


def test_sixty_lines_carry_subtotals_that_add_up(bundle):
    pages, _, doc = render(bundle, sixty_lines(bundle.version))
    assert len(pages) >= 2
    # total 1 + ... + 60 = 60 x 61 / 2 = 1 830,00 € HT
    assert doc.totals.net_total == D("1830.00") and "1 830,00 €" in pages[-1]
    for n, page in enumerate(pages):
        numbers = [int(k) for k in re.findall(r"Article numéro (\d+)", page)]
        if n < len(pages) - 1:
            last = max(numbers)
            # "À reporter" at the foot of the page: the sum of every line so far, k(k+1)/2
            assert carried(page, "À reporter") == D(last * (last + 1) // 2), (n, last)
            assert carried(pages[n + 1], "Report") == carried(page, "À reporter")
            # the running header: the number and the buyer, from page 2 on
            head = pages[n + 1].strip().splitlines()[0]
            assert "F-2026-0125" in head and "SCI Les Tilleuls" in head
    assert "À reporter" not in pages[-1]
    assert "SCI Les Tilleuls" not in pages[0].strip().splitlines()[0]  # no running header on page 1
    # the closing block stays with the end of the table
    closing_page = pages[-1]
    for words in ("Article numéro 60", "Récapitulatif TVA".upper(), "Net à payer", "RÈGLEMENT",
                  "Indemnité forfaitaire"):
        assert words in closing_page, words


def test_english_carries_brought_forward(bundle):
    raw = sixty_lines(bundle.version)
    raw["language"] = "en"
    pages, _, _ = render(bundle, raw)

    def carried_en(page, label):
        found = re.search(label + r" +€([\d,]+\.\d\d)", page)
        return D(found.group(1).replace(",", "")) if found else None

    last = max(int(k) for k in re.findall(r"Article numéro (\d+)", pages[0]))
    assert carried_en(pages[0], "Carried forward") == D(last * (last + 1) // 2)
    assert carried_en(pages[1], "Brought forward") == carried_en(pages[0], "Carried forward")
    assert not re.search(r"\d\s*\n\s*%", "\n".join(pages))


def _last_row_words(doc) -> str:
    if doc.progress is not None:
        return doc.progress.rows[-1].description[:20]
    return doc.lines[-1].description[:20]


@pytest.mark.parametrize("name", json.loads((FIXTURES / "cycle.json").read_text()) + ["invoice", "credit_note"])
def test_cycle_pages_keep_the_closing_block_and_repeat_the_header(bundle, name):
    raw = load_fixture(name)
    pages, _, doc = render(bundle, raw)
    due_label = "Montant de l'avoir" if doc.type.value == "credit_note" else "Net à payer"
    closing = [i for i, p in enumerate(pages) if due_label in p]
    assert len(closing) == 1
    page = one_line(pages[closing[0]])
    # VAT breakdown, totals, payment and legal mentions on one page
    assert "RÉCAPITULATIF TVA" in page and "Nature de l'opération" in page
    assert ("RÈGLEMENT" in page) and closing[0] == len(pages) - 1
    # with the end of its table, unless the closing figures had to move on to a page of their own recaps
    if doc.final is None and doc.progress is None:
        assert one_line(_last_row_words(doc)) in page
    for n, p in enumerate(pages[1:], start=2):
        head = p.strip().splitlines()[0]
        assert doc.number in head and doc.buyer.name in head, (n, head)
    # every subtotal carried is a sum of the rows before it
    amounts = [r.this_amount for r in doc.progress.rows] if doc.progress else [ln.net for ln in doc.lines]
    partial, sums = D(0), set()
    for value in amounts:
        partial += value
        sums.add(partial)
    for n, p in enumerate(pages[:-1]):
        value = carried(p, "À reporter")
        if value is not None:
            assert value in sums and carried(pages[n + 1], "Report") == value


def test_a_caption_never_ends_a_page_without_its_table(bundle):
    """deposit_invoice_2: its deposit lines go with the closing figures onto page 2, under
    their caption ("ACOMPTE"), never left alone at the foot of page 1."""
    pages, _, _ = render(bundle, load_fixture("deposit_invoice_2"))
    for page in pages:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        for i, line in enumerate(lines):
            if line == "ACOMPTE":
                assert any(later.startswith("Désignation") for later in lines[i + 1:]), page


def test_legal_mentions_are_readable_in_print(bundle):
    css = (bundle.path / "style.css").read_text()
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)pt", css)]
    mentions = re.search(r"\.mentions \{[^}]*font-size: ([\d.]+)pt", css).group(1)
    footer = re.search(r"\.footer \{[^}]*font-size: ([\d.]+)pt", css).group(1)
    assert float(mentions) >= 7.5 and float(footer) >= 7.5
    assert min(s for s in sizes if s != 6.5) >= 7.5  # 6.5 pt is only the superscript mark
