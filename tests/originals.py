"""One story in three formats: read an original's PDF, DOCX and Factur-X XML back as a
user's software would, and list the facts (numbers, dates, references, amounts) the XML
states so a test can check the PDF and the DOCX print each of them.

Formatting is done here by hand (French "1 234,56 €", English "€1,234.56", dates long or
dd/mm/yyyy), not with the templates' filters, so a filter bug shows up as a failure.
"""
from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from docx import Document as Docx
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from docsvc.einvoice.cii import NS

MONTHS = {"fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                 "novembre", "décembre"],
          "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                 "November", "December"]}


def plain_spaces(text: str) -> str:
    """No-break and narrow no-break spaces as spaces, nothing else."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def flat(text: str) -> str:
    """No-break and narrow no-break spaces as spaces, the minus sign as a hyphen, runs of blanks as one."""
    return re.sub(r"[ \t]+", " ", plain_spaces(text).replace("\u2212", "-"))


# The one way tests read a PDF's text: poppler's pdftotext, as a user's tools would.


def _pdftotext(pdf: bytes, layout: bool) -> str:
    """pdftotext's output: reading order, or with `layout` the text as placed on the page; a
    form feed ends each page."""
    args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    return subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode()


def pdf_text(pdf: bytes, *, layout: bool = False, clean: Callable[[str], str] = flat) -> str:
    """The whole text of `pdf` (pages ended by form feeds), through `clean`."""
    return clean(_pdftotext(pdf, layout))


def pdf_pages(pdf: bytes, *, layout: bool = False, clean: Callable[[str], str] = flat,
              blank: bool = False) -> list[str]:
    """The text of each page of `pdf`, through `clean`; blank pages are left out unless `blank`
    (then there is one string per page, "" or only blanks for a blank one)."""
    pages = _pdftotext(pdf, layout).split("\f")[:-1]  # the last form feed ends the last page
    return [clean(page) for page in pages if blank or page.strip()]


def docx_text(data: bytes) -> str:
    """What Word shows: body paragraphs and tables in order (nested tables too), then every
    section's headers and footers, one paragraph a line; a table row is one line with its
    cells joined by " | " (a cell of several paragraphs spans several lines); a layout
    table holding tables side by side gives its cells one after the other."""
    doc = Docx(io.BytesIO(data))
    out: list[str] = []

    def walk(container):
        for block in container.iter_inner_content():
            if isinstance(block, Paragraph):
                out.append(block.text)
            elif isinstance(block, Table) and any(cell.tables for row in block.rows for cell in row.cells):
                for row in block.rows:  # a layout table (tables side by side): each cell in turn
                    for cell in row.cells:
                        walk(cell)
            elif isinstance(block, Table):
                for row in block.rows:
                    cells, seen = [], []
                    for cell in row.cells:
                        if any(cell._tc is tc for tc in seen):  # a merged cell is listed once per column it spans
                            continue
                        seen.append(cell._tc)
                        inner: list[str] = []
                        out_len = len(out)
                        walk(cell)
                        inner, out[out_len:] = out[out_len:], []
                        cells.append("\n".join(inner))
                    out.append(" | ".join(cells))

    walk(doc)
    for section in doc.sections:
        for part in (section.header, section.first_page_header, section.footer, section.first_page_footer):
            if not part.is_linked_to_previous or part is section.footer:
                walk(part)
    return flat("\n".join(out))


def money(value: Decimal, language: str) -> str:
    """Decimal to the printed amount, by hand: 1234.5 -> "1 234,50 €" (fr) or "€1,234.50" (en)."""
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    if language == "fr":
        return f"{sign}{' '.join(groups)},{cents} €"
    return f"{sign}€{','.join(groups)}.{cents}"


def dates(day: date, language: str) -> tuple[str, ...]:
    """The ways a document may print a date: long ("30 novembre 2026", "30 November 2026") or dd/mm/yyyy."""
    long = f"{day.day} {MONTHS[language][day.month - 1]} {day.year}"
    if language == "fr" and day.day == 1:
        long = f"1er {MONTHS[language][day.month - 1]} {day.year}"
    return (long, f"{day.day} {MONTHS[language][day.month - 1]} {day.year}", day.strftime("%d/%m/%Y"))


def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


@dataclass
class Facts:
    """What the XML says, as the strings a reader must find on paper."""
    number: str
    issue_date: date
    due_date: date | None
    preceding: list[tuple[str, date]]  # BT-25 / BT-26
    amounts: dict[str, Decimal]  # BT-109, BT-110, BT-112, BT-115 and each BT-116 / BT-117
    seller_siren: str
    buyer_name: str
    iban: str | None
    type_code: str = "380"


def xml_facts(xml: bytes) -> Facts:
    tree = etree.fromstring(xml)

    def text(path):
        return tree.findtext(path, namespaces=NS)

    settlement = ".//ram:ApplicableHeaderTradeSettlement"
    summation = settlement + "/ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
    amounts = {name: Decimal(text(summation + "ram:" + name))
               for name in ("TaxBasisTotalAmount", "TaxTotalAmount", "GrandTotalAmount", "DuePayableAmount")}
    for tax in tree.iterfind(settlement + "/ram:ApplicableTradeTax", NS):
        amounts[f"base {tax.findtext('ram:RateApplicablePercent', namespaces=NS)} %"] = Decimal(
            tax.findtext("ram:BasisAmount", namespaces=NS))
        amounts[f"VAT {tax.findtext('ram:RateApplicablePercent', namespaces=NS)} %"] = Decimal(
            tax.findtext("ram:CalculatedAmount", namespaces=NS))
    due = text(settlement + "/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString")
    preceding = [(ref.findtext("ram:IssuerAssignedID", namespaces=NS),
                  _day(ref.findtext("ram:FormattedIssueDateTime/qdt:DateTimeString", namespaces=NS)))
                 for ref in tree.iterfind(settlement + "/ram:InvoiceReferencedDocument", NS)]
    return Facts(number=text(".//rsm:ExchangedDocument/ram:ID"),
                 issue_date=_day(text(".//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString")),
                 due_date=_day(due) if due else None, preceding=preceding, amounts=amounts,
                 seller_siren=text(".//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID"),
                 buyer_name=text(".//ram:BuyerTradeParty/ram:Name"),
                 iban=text(settlement + "/ram:SpecifiedTradeSettlementPaymentMeans"
                                        "/ram:PayeePartyCreditorFinancialAccount/ram:IBANID"),
                 type_code=text(".//rsm:ExchangedDocument/ram:TypeCode"))


def missing_facts(facts: Facts, text: str, language: str) -> list[str]:
    """Every fact of the XML that `text` does not print (empty when the stories agree)."""
    missing = []
    compact = re.sub(r"\s", "", text)
    text = re.sub(r"\s+", " ", text)  # a value wrapped at the end of a line still reads as one
    text = re.sub(r"(?<=\w)- (?=\w)", "-", text)  # "FA-2026-" wrapped before "0105"

    def need(label, *ways):
        if not any(way in text for way in ways):
            missing.append(f"{label}: {ways[0]!r}")

    need("BT-1 number", facts.number)
    need("BT-2 issue date", *dates(facts.issue_date, language))
    if facts.due_date:
        need("BT-9 due date", *dates(facts.due_date, language))
    for number, day in facts.preceding:
        need("BT-25 preceding invoice", number)
        need(f"BT-26 date of {number}", *dates(day, language))
    for name, value in facts.amounts.items():
        need(name, money(value, language))
    siren = facts.seller_siren
    need("seller SIREN", siren, f"{siren[:3]} {siren[3:6]} {siren[6:]}")
    need("buyer", facts.buyer_name)
    if facts.iban and facts.type_code not in ("381", "503") and facts.iban not in compact:
        missing.append(f"IBAN {facts.iban}")
    return missing
