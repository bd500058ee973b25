"""Billing figures, each expected value computed by hand in the comment beside it."""
from datetime import date
from decimal import Decimal as D

from docsvc.billing.document import enrich
from docsvc.billing.lines import price_line
from docsvc.billing.mentions import missing_mentions
from docsvc.billing.model import Discount, Line
from docsvc.billing.money import round_money
from docsvc.billing.vat import vat_breakdown
from docsvc.schemas.payload import load_payload
from tests.conftest import quote_example


def line(q, p, rate="20", discount=None, category="S", reason=None, id="1"):
    return Line(id, "x", D(q), "C62", D(p), D(rate), category, reason, discount)


def test_round_money_is_half_up_not_bankers():
    # 1.005 -> 1.01 (banker's rounding would give 1.00); 2.665 -> 2.67
    assert round_money(D("1.005")) == D("1.01")
    assert round_money(D("2.665")) == D("2.67")
    assert round_money(D("-1.005")) == D("-1.01")


def test_line_gross_discount_net():
    # 3 x 0.335 = 1.005 -> gross 1.01
    assert price_line(line("3", "0.335")).net == D("1.01")
    # 19.99 gross, 15 % = 2.9985 -> 3.00, net 16.99
    priced = price_line(line("1", "19.99", discount=Discount(percent=D("15"))))
    assert (priced.gross, priced.discount_amount, priced.net) == (D("19.99"), D("3.00"), D("16.99"))
    # 12.5 h x 52.00 = 650.00; fixed discount 50.00 -> 600.00
    priced = price_line(line("12.5", "52.00", discount=Discount(amount=D("50"))))
    assert (priced.gross, priced.net) == (D("650.00"), D("600.00"))
    # 0.3333 kg x 17.49 = 5.829417 -> 5.83 (quantity keeps its 4 decimals)
    assert price_line(line("0.3333", "17.49")).net == D("5.83")


def test_vat_is_computed_on_the_base_never_summed_per_line():
    # Three lines of 0.13 at 20 %: per line 0.026 -> 0.03, summed 0.09 (wrong);
    # on the base: 0.39 x 20 % = 0.078 -> 0.08 (BR-CO-17).
    rows = vat_breakdown([price_line(line("1", "0.13", id=str(i))) for i in range(3)])
    assert len(rows) == 1
    assert (rows[0].base, rows[0].amount) == (D("0.39"), D("0.08"))


def test_breakdown_one_row_per_category_and_rate_highest_rate_first():
    lines = [price_line(x) for x in (
        line("1", "100", "5.5"), line("1", "200", "20"), line("1", "50", "20"),
        line("1", "80", "0", category="E", reason="TVA non applicable, art. 293 B du CGI"),
        line("1", "30", "0", category="Z"),
    )]
    rows = vat_breakdown(lines)
    # S 20 %: 250.00 -> 50.00; S 5.5 %: 100.00 -> 5.50; Z: 30.00 -> 0; E: 80.00 -> 0
    assert [(r.category, r.rate, r.base, r.amount) for r in rows] == [
        ("S", D("20.00"), D("250"), D("50.00")), ("S", D("5.50"), D("100"), D("5.50")),
        ("Z", D("0.00"), D("30"), D("0.00")), ("E", D("0.00"), D("80"), D("0.00")),
    ]
    assert rows[3].exemption_reason == "TVA non applicable, art. 293 B du CGI"


def test_worked_quote_of_domain_md():
    doc = enrich(load_payload(quote_example()))
    # L1 1 x 2400.00 = 2400.00 at 10 %; L2 1850.00 - 10 % (185.00) = 1665.00 at 20 %;
    # L3 12.5 x 52.00 = 650.00 at 10 %.
    assert [ln.net for ln in doc.lines] == [D("2400.00"), D("1665.00"), D("650.00")]
    # 10 %: 2400 + 650 = 3050.00 -> 305.00; 20 %: 1665.00 -> 333.00
    assert [(r.rate, r.base, r.amount) for r in doc.vat_breakdown] == [
        (D("20.00"), D("1665.00"), D("333.00")), (D("10.00"), D("3050.00"), D("305.00"))]
    # net 3050 + 1665 = 4715.00; VAT 305 + 333 = 638.00; gross 5353.00
    t = doc.totals
    assert (t.net_total, t.vat_total, t.gross_total, t.amount_due) == (
        D("4715.00"), D("638.00"), D("5353.00"), D("5353.00"))
    # due: 2026-10-01 + 30 days = 2026-10-31
    assert doc.due_date == date(2026, 10, 31)
    assert doc.type_code == "380"
    assert doc.payment.recovery_indemnity == D("40.00")


def test_fixture_invoice_totals(invoice_payload):
    doc = enrich(load_payload(invoice_payload))
    rates = {r.rate: (r.base, r.amount) for r in doc.vat_breakdown}
    # 5.5 %: isolation 42 x 28.00 = 1176.00; fenêtre 1150.00; VMC 890.00 - 5 % (44.50) = 845.50
    #        base 1176 + 1150 + 845.50 = 3171.50; VAT 3171.50 x 5.5 % = 174.4325 -> 174.43
    assert rates[D("5.50")] == (D("3171.50"), D("174.43"))
    # 20 %: benne 3 x 95 = 285.00; protection 120.00; nettoyage 4 x 38 = 152.00; déplacement 12 x 18 = 216.00;
    #       accessoires 149.90; rideau 39.90; gravats 0.5 x 160 = 80.00; diagnostic 290.00;
    #       coordination 5 x 60 = 300.00; DOE 150.00; remise -1 x 120 = -120.00
    #       base = 285 + 120 + 152 + 216 + 149.90 + 39.90 + 80 + 290 + 300 + 150 - 120 = 1662.80
    #       VAT 1662.80 x 20 % = 332.56
    assert rates[D("20.00")] == (D("1662.80"), D("332.56"))
    # 10 %: the rest; checked through the totals: VAT 10 % = round(base x 10 %)
    base10, vat10 = rates[D("10.00")]
    assert vat10 == round_money(base10 / 10)
    assert doc.totals.net_total == base10 + D("3171.50") + D("1662.80")
    assert doc.totals.gross_total == doc.totals.net_total + vat10 + D("174.43") + D("332.56")
    # one payment of 2000.00 received: amount due = gross - 2000.00, partially paid
    assert doc.totals.prepaid_total == D("2000.00")
    assert doc.totals.amount_due == doc.totals.gross_total - D("2000.00")
    assert doc.payment_status == "partially_paid"


def test_payment_status_and_amount_due():
    raw = quote_example()
    raw["payments"] = [{"date": "2026-10-05", "amount": "5000.00"}, {"date": "2026-10-20", "amount": "353.00"}]
    doc = enrich(load_payload(raw))
    # gross 5353.00 - (5000.00 + 353.00) = 0.00 -> paid
    assert doc.totals.amount_due == D("0.00")
    assert doc.payment_status == "paid"
    raw["payments"] = []
    assert enrich(load_payload(raw)).payment_status == "unpaid"


def test_currency_without_minor_units():
    raw = quote_example()
    raw["currency"] = "JPY"
    raw["lines"] = [{"description": "x", "quantity": "3", "unit_price": "333.5", "vat_rate": "10"}]
    doc = enrich(load_payload(raw), currency_places=0)
    # 3 x 333.5 = 1000.5 -> 1001 (half-up to the yen); VAT 100.1 -> 100; gross 1101
    assert doc.lines[0].net == D("1001")
    assert (doc.totals.vat_total, doc.totals.gross_total) == (D("100"), D("1101"))


def test_credit_note_references_the_corrected_invoice(credit_note_payload):
    doc = enrich(load_payload(credit_note_payload))
    assert doc.type_code == "381"
    assert doc.corrects.number == "F-2026-0125"
    # 20 %: 4 x 18.00 + 39.90 = 111.90 -> 22.38; 10 %: 85.00 -> 8.50
    # net 196.90, VAT 30.88, gross 227.78 (amounts positive in a 381)
    assert (doc.totals.net_total, doc.totals.vat_total, doc.totals.gross_total) == (
        D("196.90"), D("30.88"), D("227.78"))
    assert doc.mentions[0].code == "credit_note_reference"


def test_missing_french_mentions_are_each_named():
    raw = quote_example()
    for key in ("siren", "legal_form", "vat_id"):
        del raw["seller"][key]
    del raw["buyer"]["siren"]
    del raw["operation"]
    raw["payment"] = {}
    missing = missing_mentions(load_payload(raw))
    assert sorted(missing) == ["buyer.siren", "due_date", "operation", "payment.late_penalty_rate",
                               "seller.legal_form", "seller.siren", "seller.vat_id"]


def test_company_must_state_capital_but_an_ei_need_not():
    raw = quote_example()
    del raw["seller"]["share_capital"]
    assert list(missing_mentions(load_payload(raw))) == ["seller.share_capital"]
    raw["seller"]["legal_form"] = "EI"
    assert missing_mentions(load_payload(raw)) == {}


def test_franchise_seller_needs_no_vat_id_and_gets_the_exemption_mention():
    raw = quote_example()
    del raw["seller"]["vat_id"]
    raw["lines"] = [{"description": "Cours", "quantity": "2", "unit": "HUR", "unit_price": "40", "vat_rate": "0",
                     "vat_category": "E", "vat_exemption_reason": "TVA non applicable, art. 293 B du CGI"}]
    payload = load_payload(raw)
    assert missing_mentions(payload) == {}
    doc = enrich(payload)
    assert doc.totals.gross_total == D("80.00")  # 2 x 40.00, no VAT
    assert ("vat_exemption", "TVA non applicable, art. 293 B du CGI") in [
        (m.code, m.values.get("reason")) for m in doc.mentions]


def test_consumer_buyer_gets_no_b2b_mentions():
    raw = quote_example()
    raw["buyer"] = {"name": "Mme Claire Petit", "kind": "consumer",
                    "address": {"lines": ["5 rue Neuve"], "postcode": "69001", "city": "Lyon"}}
    raw["payment"] = {"terms_days": 0}
    payload = load_payload(raw)
    assert missing_mentions(payload) == {}
    codes = [m.code for m in enrich(payload).mentions]
    assert "recovery_indemnity" not in codes and "late_penalty" not in codes


def test_mentions_listed_for_a_b2b_invoice():
    raw = quote_example()
    raw["vat_on_debits"] = True
    raw["payment"]["early_payment_discount"] = {"percent": "2", "days": 10}
    codes = [(m.code, m.values) for m in enrich(load_payload(raw)).mentions]
    assert codes == [
        ("operation_mixed", {}), ("vat_on_debits", {}),
        ("early_payment_discount", {"percent": D("2"), "days": 10}),
        ("late_penalty", {"rate": D("12.00")}), ("recovery_indemnity", {"amount": D("40.00")}),
    ]
