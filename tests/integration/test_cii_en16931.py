"""Factur-X CII of the whole EN 16931 invoice (issue 18): header allowances and charges
(BG-20/21), line allowances and charges (BG-27/28), gross price and price discount (BT-147/148),
base quantity (BT-149), rounding amount (BT-114), VAT accounting currency (BT-6, BT-111).
The XML is parsed back and its figures checked against the hand-worked figures of
tests/unit/test_en16931_billing.py; every case passes the XSD, the EN 16931 schematron and the
French CTC rules with 0 failures, and a tampered total fails with its rule id."""
import copy

import pytest
from lxml import etree

from docsvc.einvoice.cii import NS, build_cii
from docsvc.einvoice.validate import validate
from docsvc.usecases.checking import validate as validate_payload
from tests.conftest import cycle_payload
from tests.unit.test_en16931_billing import everything


def cii(raw) -> tuple[bytes, str]:
    return build_cii(validate_payload(raw).document)


def in_usd(raw: dict) -> dict:
    raw = copy.deepcopy(raw)
    raw["currency"] = "USD"
    raw["vat_currency"] = {"code": "EUR", "rate": "0.9214"}
    return raw


def exempt_work(raw: dict) -> dict:
    """An exempt training line (E) with a 10 % allowance at E, beside the taxed lines."""
    raw = copy.deepcopy(raw)
    reason = "Exonération de TVA, article 261-4-4° a du CGI"
    raw["lines"].append({"description": "Formation", "quantity": "1", "unit_price": "300.00", "vat_rate": "0",
                         "vat_category": "E", "vat_exemption_reason": reason})
    raw["allowances"].append({"percent": "10", "base": "300.00", "reason_code": "95", "vat_rate": "0",
                              "vat_category": "E", "vat_exemption_reason": reason})
    return raw


def credit_note(raw: dict) -> dict:
    raw = copy.deepcopy(raw)
    raw.update(type="credit_note", number="A-2026-0003", corrects={"number": "F-2026-0007", "issue_date": "2026-10-01"},
               settlement={"method": "refund", "means": "transfer"})
    raw["payment"] = {"late_penalty_rate": "12.00"}  # no terms: a credit note has no due date
    return raw


def deposit_on_a_gross_price_quote() -> dict:
    """A 30 % deposit on a quote whose lines use gross price, price discount, base quantity and
    line allowances and charges: the quote lines are priced like invoice lines."""
    quote = {"number": "D-2026-0031", "date": "2026-10-01", "lines": copy.deepcopy(everything()["lines"])}
    return cycle_payload("deposit_invoice", "FA-2026-0031", quote=quote, deposit={"percent": "30"})


CASES = {"everything": everything, "usd": lambda: in_usd(everything()), "exempt": lambda: exempt_work(everything()),
         "credit_note": lambda: credit_note(everything()), "deposit": deposit_on_a_gross_price_quote}


@pytest.mark.parametrize("name", CASES)
def test_every_case_is_a_valid_e_invoice(name):
    xml, level = cii(CASES[name]())
    failures = validate(xml, level, french_rules=True)
    assert failures == [], [(f.rule, f.message[:200]) for f in failures]


def text(tree, path):
    return [e.text for e in tree.iterfind(path, NS)]


def test_header_allowances_charges_and_totals():
    tree = etree.fromstring(cii(everything())[0])
    header = tree.find(".//ram:ApplicableHeaderTradeSettlement", NS)
    parts = header.findall("ram:SpecifiedTradeAllowanceCharge", NS)
    # the 2 % global allowance on 100.00 at 10 %, then shipping 15.00 at 20 %
    allowance, charge = parts
    assert allowance.findtext("ram:ChargeIndicator/udt:Indicator", namespaces=NS) == "false"
    assert [allowance.findtext(f"ram:{n}", namespaces=NS) for n in (
        "CalculationPercent", "BasisAmount", "ActualAmount", "ReasonCode", "Reason")] == [
        "2", "100.00", "2.00", "95", "Remise globale"]
    assert [allowance.findtext(f"ram:CategoryTradeTax/ram:{n}", namespaces=NS) for n in (
        "TypeCode", "CategoryCode", "RateApplicablePercent")] == ["VAT", "S", "10"]
    assert charge.findtext("ram:ChargeIndicator/udt:Indicator", namespaces=NS) == "true"
    assert charge.find("ram:CalculationPercent", NS) is None  # an amount: no percent, no base
    assert [charge.findtext(f"ram:{n}", namespaces=NS) for n in ("ActualAmount", "ReasonCode", "Reason")] == [
        "15.00", "FC", "Frais de port"]
    sums = header.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    # BT-106 168.40, BT-108 15.00, BT-107 2.00, BT-109 181.40, BT-110 22.44, BT-114 0.01, BT-112 203.84,
    # BT-115 = 203.84 + 0.01 = 203.85
    assert [(etree.QName(e).localname, e.text) for e in sums] == [
        ("LineTotalAmount", "168.40"), ("ChargeTotalAmount", "15.00"), ("AllowanceTotalAmount", "2.00"),
        ("TaxBasisTotalAmount", "181.40"), ("TaxTotalAmount", "22.44"), ("RoundingAmount", "0.01"),
        ("GrandTotalAmount", "203.84"), ("DuePayableAmount", "203.85")]
    # VAT rows: S 20 % 43.00 -> 8.60, S 10 % 138.40 -> 13.84
    assert [(t.findtext("ram:BasisAmount", namespaces=NS), t.findtext("ram:CalculatedAmount", namespaces=NS))
            for t in header.iterfind("ram:ApplicableTradeTax", NS)] == [("43.00", "8.60"), ("138.40", "13.84")]
    assert header.find("ram:TaxCurrencyCode", NS) is None


def test_line_prices_allowances_and_charges():
    tree = etree.fromstring(cii(everything())[0])
    cable, power, labour = tree.iterfind(".//ram:IncludedSupplyChainTradeLineItem", NS)
    agreement = cable.find("ram:SpecifiedLineTradeAgreement", NS)
    gross = agreement.find("ram:GrossPriceProductTradePrice", NS)
    # BT-148 12.50 per BT-149 100 m, BT-147 2.50; BT-146 10.00 per 100 m on the net price too
    assert gross.findtext("ram:ChargeAmount", namespaces=NS) == "12.50"
    assert gross.find("ram:BasisQuantity", NS).text == "100" and gross.find("ram:BasisQuantity", NS).get(
        "unitCode") == "MTR"
    assert gross.findtext("ram:AppliedTradeAllowanceCharge/ram:ChargeIndicator/udt:Indicator",
                          namespaces=NS) == "false"
    assert gross.findtext("ram:AppliedTradeAllowanceCharge/ram:ActualAmount", namespaces=NS) == "2.50"
    assert text(agreement, "ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["10.00"]
    assert text(agreement, "ram:NetPriceProductTradePrice/ram:BasisQuantity") == ["100"]
    settlement = cable.find("ram:SpecifiedLineTradeSettlement", NS)
    parts = settlement.findall("ram:SpecifiedTradeAllowanceCharge", NS)
    # 5 % of 25.00 = 1.25 (code 95), then the 3.00 packaging charge (ABL); net 26.75
    assert [(p.findtext("ram:ChargeIndicator/udt:Indicator", namespaces=NS), p.findtext(
        "ram:CalculationPercent", namespaces=NS), p.findtext("ram:BasisAmount", namespaces=NS),
             p.findtext("ram:ActualAmount", namespaces=NS), p.findtext("ram:ReasonCode", namespaces=NS))
            for p in parts] == [("false", "5", "25.00", "1.25", "95"), ("true", None, None, "3.00", "ABL")]
    assert text(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount") == ["26.75"]
    # 0.00101 a kWh kept to its 6 decimals, net 1.25; no gross price given: none written
    assert text(power, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == ["0.00101"]
    assert power.find(".//ram:GrossPriceProductTradePrice", NS) is None
    assert power.find(".//ram:BasisQuantity", NS) is None  # base quantity 1: not written
    # the `discount` shorthand: 10 % of 156.00 = 15.60, reason "Remise"
    assert text(labour, ".//ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount") == ["15.60"]
    assert text(labour, ".//ram:SpecifiedTradeAllowanceCharge/ram:Reason") == ["Remise"]


def test_vat_accounting_currency():
    tree = etree.fromstring(cii(in_usd(everything()))[0])
    header = tree.find(".//ram:ApplicableHeaderTradeSettlement", NS)
    assert header.findtext("ram:TaxCurrencyCode", namespaces=NS) == "EUR"
    assert header.findtext("ram:InvoiceCurrencyCode", namespaces=NS) == "USD"
    # BT-110 22.44 USD; BT-111 = 0.9214 x 22.44 = 20.676216 -> 20.68 EUR
    assert [(e.get("currencyID"), e.text) for e in header.iterfind(".//ram:TaxTotalAmount", NS)] == [
        ("USD", "22.44"), ("EUR", "20.68")]


def test_exempt_allowance_lowers_the_exempt_base():
    tree = etree.fromstring(cii(exempt_work(everything()))[0])
    rows = {t.findtext("ram:CategoryCode", namespaces=NS): t for t in tree.iterfind(
        ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)}
    # E: 300.00 - 10 % of 300.00 (30.00) = 270.00, VAT 0, with its exemption wording (BR-E-08, BR-E-10)
    assert rows["E"].findtext("ram:BasisAmount", namespaces=NS) == "270.00"
    assert rows["E"].findtext("ram:CalculatedAmount", namespaces=NS) == "0.00"
    assert rows["E"].findtext("ram:ExemptionReason", namespaces=NS).startswith("Exonération")
    # BT-107 = 2.00 + 30.00 = 32.00; BT-109 = 468.40 - 32.00 + 15.00 = 451.40
    assert text(tree, ".//ram:AllowanceTotalAmount") == ["32.00"]
    assert text(tree, ".//ram:TaxBasisTotalAmount") == ["451.40"]


def test_a_deposit_on_a_gross_price_quote():
    tree = etree.fromstring(cii(deposit_on_a_gross_price_quote())[0])
    # quote: S 20 % 26.75 + 1.25 = 28.00, S 10 % 140.40; deposit 30 %: 8.40 and 42.12
    assert [(t.findtext("ram:RateApplicablePercent", namespaces=NS), t.findtext("ram:BasisAmount", namespaces=NS))
            for t in tree.iterfind(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)] == [
        ("20", "8.40"), ("10", "42.12")]


def _tamper(xml: bytes, paths: str, value: str | None) -> bytes:
    """Set the first node of each path (separated by |) to value, or remove it (None)."""
    tree = etree.fromstring(xml)
    for path in paths.split("|"):
        node = tree.find(path, NS)
        if value is None:
            node.getparent().remove(node)
        else:
            node.text = value
    return etree.tostring(tree)


@pytest.mark.parametrize("case, path, value, rule", [
    ("everything", ".//ram:AllowanceTotalAmount", "2.01", "BR-CO-11"),
    ("everything", ".//ram:ChargeTotalAmount", "15.01", "BR-CO-12"),
    ("everything", ".//ram:RoundingAmount", "0.02", "BR-CO-16"),
    ("everything", ".//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount",
     "2.50", "BR-CO-11"),
    ("everything", ".//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:Reason|"
     ".//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ReasonCode", None, "BR-CO-21"),
    ("usd", ".//ram:TaxTotalAmount[@currencyID='EUR']", None, "BR-53"),
])
def test_a_tampered_figure_fails_with_its_rule(case, path, value, rule):
    xml, level = cii(CASES[case]())
    failures = validate(_tamper(xml, path, value), level)
    assert rule in {f.rule for f in failures}, [(f.rule, f.message[:80]) for f in failures]
