"""Factur-X XML: every fixture passes the XSD, the EN 16931 schematron and the French CTC
rules, run locally with saxonche; deliberately broken XML fails with the expected rule ids."""
import json

import pytest
from lxml import etree

from docsvc.billing.document import enrich
from docsvc.einvoice.cii import NS, build_cii
from docsvc.einvoice.validate import validate
from docsvc.schemas.payload import load_payload
from tests.conftest import FIXTURES, franchise_invoice, load_fixture

ALL = ["invoice", "credit_note"] + json.loads((FIXTURES / "cycle.json").read_text())


def xml_of(name):
    return build_cii(enrich(load_payload(load_fixture(name))))


@pytest.mark.parametrize("name", ALL)
def test_every_fixture_is_a_valid_e_invoice(name):
    xml, level = xml_of(name)
    failures = validate(xml, level, french_rules=True)
    assert failures == [], [(f.rule, f.message) for f in failures]


def test_type_codes_levels_and_references():
    def root(name):
        xml, level = xml_of(name)
        return etree.fromstring(xml), level

    tree, level = root("deposit_invoice")
    assert tree.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "386" and level == "en16931"
    tree, _ = root("credit_note")
    assert tree.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"
    assert tree.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS) == "F-2026-0125"
    tree, level = root("final_invoice")
    assert level == "extended"  # five earlier invoices referenced: EN 16931 allows one BT-25
    assert [e.text for e in tree.iterfind(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", NS)] == [
        "FA-2026-0101", "FA-2026-0105", "F-2026-0120", "F-2026-0131", "F-2026-0140"]
    # deposits are deducted as negative lines, never as a prepaid amount: no VAT deducted twice
    assert tree.find(".//ram:TotalPrepaidAmount", NS) is None
    assert tree.findtext(".//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID", namespaces=NS) == "M4"
    seller = tree.find(".//ram:SellerTradeParty", NS)
    assert seller.find("ram:SpecifiedLegalOrganization/ram:ID", NS).get("schemeID") == "0002"
    assert seller.findtext("ram:SpecifiedLegalOrganization/ram:ID", namespaces=NS) == "912345675"


def _tamper(xml: bytes, xpath: str, value=None, remove=False) -> bytes:
    tree = etree.fromstring(xml)
    node = tree.find(xpath, NS)
    if remove:
        node.getparent().remove(node)
    elif value is not None and value.startswith("@"):
        name, val = value[1:].split("=")
        node.set(name, val)
    else:
        node.text = value
    return etree.tostring(tree)


@pytest.mark.parametrize("xpath, value, remove, rule", [
    (".//ram:DuePayableAmount", "999.99", False, "BR-CO-16"),  # wrong total
    (".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration", None, True, "BR-S-02"),  # no seller VAT id
    (".//ram:BilledQuantity", "@unitCode=ZZZZ", False, "FX-SCH-A-000613"),  # a bad unit code (Factur-X code list rule)
    (".//ram:TaxBasisTotalAmount", "1.00", False, "BR-CO-13"),
])
def test_broken_xml_fails_with_the_expected_rule(xpath, value, remove, rule):
    xml, level = xml_of("invoice")
    failures = validate(_tamper(xml, xpath, value, remove), level)
    assert rule in {f.rule for f in failures}, [(f.rule, f.message[:80]) for f in failures]


def test_each_failure_names_the_schematron_that_found_it():
    """Both schematrons run on one parse of the XML: a document broken for each reports both."""
    xml, level = xml_of("invoice")
    broken = _tamper(_tamper(xml, ".//ram:DuePayableAmount", "999.99"),  # EN 16931: BR-CO-16, wrong amount due
                     ".//ram:SellerTradeParty/ram:SpecifiedLegalOrganization", remove=True)  # French: no SIREN
    failures = {(f.source, f.rule) for f in validate(broken, level, french_rules=True)}
    assert failures == {("en16931", "BR-CO-16"), ("fr-ctc", "BR-FR-10_BT-30")}
    assert {(f.source, f.rule) for f in validate(broken, level)} == {("en16931", "BR-CO-16")}


def test_a_credit_on_a_deposit_is_503_and_valid():
    raw = load_fixture("credit_note")
    raw["corrects"] = {"number": "FA-2026-0101", "issue_date": "2026-09-20", "type": "deposit_invoice"}
    xml, level = build_cii(enrich(load_payload(raw)))
    tree = etree.fromstring(xml)
    assert tree.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "503"
    assert tree.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS) == "FA-2026-0101"
    assert validate(xml, level, french_rules=True) == []


def _tree(name):
    return etree.fromstring(xml_of(name)[0])


def test_preceding_invoices_are_every_deposit_and_earlier_situation():
    path = ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID"
    refs = [e.text for e in _tree("progress_invoice_2").iterfind(path, NS)]
    assert refs == ["FA-2026-0101", "FA-2026-0105", "F-2026-0120"]
    refs = [e.text for e in _tree("progress_invoice_3").iterfind(path, NS)]
    assert refs == ["FA-2026-0101", "FA-2026-0105", "F-2026-0120", "F-2026-0131"]


def test_no_invented_delivery_date():
    # the cycle fixtures give no delivery date: no BT-72; the invoice gives 2026-11-13
    assert _tree("progress_invoice_1").find(".//ram:ActualDeliverySupplyChainEvent", NS) is None
    assert _tree("invoice").findtext(".//ram:ActualDeliverySupplyChainEvent//udt:DateTimeString",
                                     namespaces=NS) == "20261113"


def test_one_due_date_with_a_schedule_and_none_on_a_credit_note():
    # situation 3: two instalments from 31/01/2027, end of month, then the retention on 18/12/2027
    days = [e.text for e in _tree("progress_invoice_3").iterfind(".//ram:DueDateDateTime/udt:DateTimeString", NS)]
    assert days == ["20270131", "20270228", "20271218"]
    for name in ("credit_note", "credit_note_progress"):
        tree = _tree(name)
        assert tree.find(".//ram:DueDateDateTime", NS) is None
        assert tree.find(".//ram:IBANID", NS) is None  # no seller account inviting the buyer to pay
    terms = _tree("credit_note").findtext(".//ram:SpecifiedTradePaymentTerms/ram:Description", namespaces=NS)
    assert terms == "Avoir remboursé le 4 décembre 2026."  # as the PDF writes it


def test_a_final_invoice_on_a_quote_with_exempt_work_keeps_its_exemption_wording():
    raw = load_fixture("final_invoice")
    reason = "Exonération de TVA, article 261-4-4° a du CGI"
    raw["quote"]["lines"].append({"id": "9", "description": "Formation à l'usage de la pompe à chaleur",
                                  "quantity": "1", "unit": "C62", "unit_price": "300.00", "vat_rate": "0",
                                  "vat_category": "E", "vat_exemption_reason": reason})
    doc = enrich(load_payload(raw))
    xml, level = build_cii(doc)
    assert validate(xml, level, french_rules=True) == []
    tree = etree.fromstring(xml)
    exempt = [t for t in tree.iterfind(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)
              if t.findtext("ram:CategoryCode", namespaces=NS) == "E"]
    # nothing billed before at 0 %: the whole 300.00 is billed now, VAT 0.00, with its wording
    assert [(t.findtext("ram:BasisAmount", namespaces=NS), t.findtext("ram:ExemptionReason", namespaces=NS))
            for t in exempt] == [("300.00", reason)]
    assert [e.mark for e in doc.exemptions] == [1] and doc.lines[8].exemption_mark == 1


def test_a_fourth_address_line_reaches_the_xml_as_the_pdf_prints_it():
    """CII has three address lines (BT-35, BT-36, BT-162); the payload allows four. The third and
    fourth share the third, so nothing the PDF prints is missing from the e-invoice."""
    from docsvc.billing.model import as_plain
    from docsvc.rendering.registry import TemplateRegistry
    from tests.conftest import ROOT
    from tests.originals import pdf_text

    raw = load_fixture("invoice")
    raw["buyer"]["address"]["lines"] = ["Résidence Bellevue", "Bâtiment C", "Escalier 2", "3 avenue Jean Jaurès"]
    doc = enrich(load_payload(raw))
    xml, level = build_cii(doc)
    assert validate(xml, level, french_rules=True) == []
    address = etree.fromstring(xml).find(".//ram:BuyerTradeParty/ram:PostalTradeAddress", NS)
    assert [address.findtext(f"ram:{n}", namespaces=NS) for n in ("LineOne", "LineTwo", "LineThree")] == [
        "Résidence Bellevue", "Bâtiment C", "Escalier 2, 3 avenue Jean Jaurès"]
    # three lines or fewer are written as they are
    seller = etree.fromstring(xml).find(".//ram:SellerTradeParty/ram:PostalTradeAddress", NS)
    assert seller.findtext("ram:LineOne", namespaces=NS) == raw["seller"]["address"]["lines"][0]
    assert seller.find("ram:LineThree", NS) is None
    text = pdf_text(TemplateRegistry([ROOT / "templates"]).get("classic").render("pdf", as_plain(doc)))
    for line in raw["buyer"]["address"]["lines"]:
        assert line in text


def test_the_notes_write_amounts_and_dates_as_the_pdf_does():
    """An accountant's review: the XML said "152.7 €, libérée le 2027-11-30" where the PDF says
    "152,70 €, libérable le 30 novembre 2027" (the retention is released later, not already)."""
    from docsvc.usecases.checking import validate as check

    def notes(name: str) -> list[str]:
        root = etree.fromstring(build_cii(check(load_fixture(name)).document)[0])
        return [" ".join(n.findtext("{*}Content").split()) for n in root.iter("{*}IncludedNote")]

    # situation 1: 5 % of 9 540,24 € of works incl. VAT = 477,012 -> 477,01 €, releasable on 18/12/2027
    assert "Retenue de garantie de 5 % : 477,01 €, libérable le 18 décembre 2027." in notes("progress_invoice_1")
    # the final invoice: 477,01 + 1 048,20 + 489,03 = 2 014,24 € still owed
    held = [n for n in notes("final_invoice") if n.startswith("Retenue de garantie retenue")]
    assert held == ["Retenue de garantie retenue sur les situations : 2 014,24 €, restant due, libérable le "
                    "18 décembre 2027."]  # the spaces babel writes (narrow and no-break) read as spaces here
    assert "Indemnité forfaitaire pour frais de recouvrement : 40,00 € (art. L441-10 et D441-5 du Code de " \
           "commerce)." in notes("invoice")


def test_a_seller_without_a_vat_number_is_named_by_its_tax_registration():
    """An accountant's review: a micro-entrepreneur in franchise en base could not issue a Factur-X:
    BR-E-02 wants the seller's VAT number (BT-31), tax registration (BT-32) or representative (BT-63),
    and docsvc had no BT-32. Without either, the refusal names the field to give."""
    from docsvc.einvoice.cii import seller_tax_id_missing

    unnamed = enrich(load_payload(franchise_invoice()))
    assert seller_tax_id_missing(unnamed) == {"seller.tax_registration_id": [
        "A Factur-X names the seller for VAT (BR-E-02): give seller.vat_id, or, for a seller without a VAT "
        "number (franchise en base, art. 293 B du CGI), its tax registration identifier (BT-32)."]}
    xml, _ = build_cii(unnamed)
    assert {f.rule for f in validate(xml, "en16931", french_rules=True)} >= {"BR-E-02"}  # what the check spares

    named = enrich(load_payload(franchise_invoice(tax_registration_id="1234567890123")))
    assert seller_tax_id_missing(named) == {}
    xml, level = build_cii(named)
    assert validate(xml, level, french_rules=True) == []
    tree = etree.fromstring(xml)
    seller = tree.find(".//ram:SellerTradeParty", NS)
    assert [(e.get("schemeID"), e.text) for e in seller.iterfind("ram:SpecifiedTaxRegistration/ram:ID", NS)] == [
        ("FC", "1234567890123")]
    assert tree.find(".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", NS).get("schemeID") == "VA"
