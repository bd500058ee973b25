"""The whole EN 16931 invoice (issue 18): allowances and charges at document and line level,
gross price, price discount and base quantity, 6-decimal prices, rounding amount and the VAT
accounting currency. Each expected figure is worked out by hand in the comment beside it;
the refusals go through the validate use case and name the JSON path."""
from decimal import Decimal as D

import pytest

from docsvc.billing.allowances import apply_document, vat_in_accounting_currency
from docsvc.billing.lines import price_line
from docsvc.billing.model import AllowanceCharge, Discount, Line, LineAllowanceCharge, VatCurrency
from docsvc.billing.vat import vat_breakdown
from docsvc.errors import InvalidPayload
from docsvc.schemas.resources import DocumentSchema
from docsvc.usecases.checking import validate
from tests.conftest import quote_example


def line(q, price=None, rate="20", **extra):
    return Line("1", "x", D(q), "C62", D(price) if price is not None else None, D(rate), **extra)


def everything() -> dict:
    """A French invoice with every new field: a cable sold per 100 m at a gross price less a
    price discount, with a line allowance and a line charge; electricity at 0.00101 a kWh; labour
    with the `discount` shorthand; a 2 % global allowance on the 10 % work; shipping at 20 %."""
    raw = quote_example()
    raw["lines"] = [
        {"description": "Câble R2V 3G2,5", "quantity": "250", "unit": "MTR", "gross_price": "12.50",
         "price_discount": "2.50", "base_quantity": "100", "vat_rate": "20",
         "allowances": [{"percent": "5", "reason": "Remise fidélité", "reason_code": "95"}],
         "charges": [{"amount": "3.00", "reason": "Emballage", "reason_code": "ABL"}]},
        {"description": "Électricité de chantier", "quantity": "1234", "unit": "KWH", "unit_price": "0.00101",
         "vat_rate": "20"},
        {"description": "Pose", "quantity": "3", "unit": "HUR", "unit_price": "52.00", "vat_rate": "10",
         "discount": {"percent": "10"}},
    ]
    raw["allowances"] = [{"percent": "2", "base": "100.00", "reason": "Remise globale", "reason_code": "95",
                          "vat_rate": "10"}]
    raw["charges"] = [{"amount": "15.00", "reason": "Frais de port", "reason_code": "FC", "vat_rate": "20"}]
    raw["rounding_amount"] = "0.01"
    return raw


# ------------------------------------------------------------------ line level


def test_net_price_is_the_gross_price_less_the_price_discount_per_base_quantity():
    # BT-146 = BT-148 - BT-147 = 12.50 - 2.50 = 10.00 per BT-149 = 100 m;
    # 250 m x 10.00 / 100 = 25.00
    priced = price_line(line("250", gross_price=D("12.50"), price_discount=D("2.50"), base_quantity=D("100")))
    assert (priced.unit_price, priced.gross, priced.net) == (D("10.00"), D("25.00"), D("25.00"))
    assert (priced.gross_price, priced.price_discount, priced.base_quantity) == (D("12.50"), D("2.50"), D("100"))
    # a gross price without a discount is the net price: 4 x 7.25 = 29.00
    assert price_line(line("4", gross_price=D("7.25"))).net == D("29.00")


def test_base_quantity_divides_the_price():
    # 1500 kg at 18.90 per 1000 kg: 1500 x 18.90 / 1000 = 28.35
    assert price_line(line("1500", "18.90", base_quantity=D("1000"))).net == D("28.35")
    # 7 units at 0.55 per 3: 7 x 0.55 / 3 = 1.28333... -> 1.28
    assert price_line(line("7", "0.55", base_quantity=D("3"))).net == D("1.28")


def test_six_decimal_prices_and_the_line_net_to_the_cent_half_up():
    # 2500 kWh x 0.00101 = 2.525 -> 2.53 half-up (banker's rounding would give 2.52)
    assert price_line(line("2500", "0.00101")).net == D("2.53")
    # 1234 x 0.00101 = 1.24634 -> 1.25
    assert price_line(line("1234", "0.00101")).net == D("1.25")
    # 3 x 0.123456 = 0.370368 -> 0.37
    assert price_line(line("3", "0.123456")).net == D("0.37")


def test_several_line_allowances_and_charges():
    # 7 x 3.333333 = 23.333331 -> 23.33; allowances 10 % of 23.33 = 2.333 -> 2.33 and 1.00;
    # charge 2.5 % of 23.33 = 0.58325 -> 0.58; net = 23.33 - 2.33 - 1.00 + 0.58 = 20.58 (BT-131)
    priced = price_line(line("7", "3.333333", allowances=(
        LineAllowanceCharge(percent=D("10"), reason_code="95"), LineAllowanceCharge(amount=D("1.00"), reason="Lot")),
        charges=(LineAllowanceCharge(percent=D("2.5"), reason="Emballage"),)))
    assert priced.gross == D("23.33")
    assert [(a.percent, a.base, a.amount) for a in priced.allowances] == [
        (D("10"), D("23.33"), D("2.33")), (None, None, D("1.00"))]
    assert [(c.percent, c.base, c.amount) for c in priced.charges] == [(D("2.5"), D("23.33"), D("0.58"))]
    assert (priced.discount_amount, priced.charge_amount, priced.net) == (D("3.33"), D("0.58"), D("20.58"))
    assert priced.discount_percent is None  # two allowances: no one percent to print


def test_the_discount_shorthand_is_the_first_allowance():
    # 2 x 50.00 = 100.00; discount 10 % = 10.00 first, then 5.00: net 85.00
    priced = price_line(line("2", "50.00", discount=Discount(percent=D("10")),
                             allowances=(LineAllowanceCharge(amount=D("5.00"), reason="Geste commercial"),)))
    assert [(a.reason, a.amount) for a in priced.allowances] == [(None, D("10.00")), ("Geste commercial", D("5.00"))]
    assert priced.net == D("85.00")
    # alone, it prints its percent as before: 19.99, 15 % = 2.9985 -> 3.00
    alone = price_line(line("1", "19.99", discount=Discount(percent=D("15"))))
    assert (alone.discount_percent, alone.discount_amount, alone.net) == (D("15"), D("3.00"), D("16.99"))


# ------------------------------------------------------------------ document level


def test_a_percent_allowance_is_a_percent_of_its_base_rounded_half_up():
    # 2.5 % of 33.33 = 0.83325 -> 0.83; 12.5 % of 0.20 = 0.025 -> 0.03 (half-up)
    assert apply_document(AllowanceCharge(D("20"), percent=D("2.5"), base=D("33.33"))).amount == D("0.83")
    assert apply_document(AllowanceCharge(D("20"), percent=D("12.5"), base=D("0.20"))).amount == D("0.03")
    assert apply_document(AllowanceCharge(D("20"), amount=D("15"))).amount == D("15.00")


def test_allowances_and_charges_enter_the_base_of_their_category_and_rate():
    # BR-S-08: S 20 % = 100.00 + charge 12.00 = 112.00 -> VAT 22.40;
    # S 5.5 % = 40.00 - allowance 4.00 = 36.00 -> VAT 1.98;
    # E = 80.00 - allowance 8.00 = 72.00 (BR-E-08) -> VAT 0
    reason = "Exonération de TVA, article 261-4-4° du CGI"
    lines = [price_line(x) for x in (line("1", "100.00"), line("1", "40.00", rate="5.5"),
                                     line("1", "80.00", rate="0", vat_category="E", vat_exemption_reason=reason))]
    allowances = [apply_document(AllowanceCharge(D("5.5"), amount=D("4.00"), reason="Remise")),
                  apply_document(AllowanceCharge(D("0"), percent=D("10"), base=D("80.00"), reason="Remise",
                                                 vat_category="E", vat_exemption_reason=reason))]
    charges = [apply_document(AllowanceCharge(D("20"), amount=D("12.00"), reason_code="FC"))]
    rows = vat_breakdown(lines, 2, allowances, charges)
    assert [(r.category, r.rate, r.base, r.amount) for r in rows] == [
        ("S", D("20.00"), D("112.00"), D("22.40")), ("S", D("5.50"), D("36.00"), D("1.98")),
        ("E", D("0.00"), D("72.00"), D("0.00"))]
    assert rows[2].exemption_reason == reason


def test_a_charge_at_a_rate_no_line_uses_has_its_own_row():
    # lines at 5.5 %: 200.00 -> 11.00; shipping at 20 %: 9.90 -> 1.98 (its own row, BR-S-08)
    rows = vat_breakdown([price_line(line("1", "200.00", rate="5.5"))], 2, (),
                         [apply_document(AllowanceCharge(D("20"), amount=D("9.90"), reason="Frais de port"))])
    assert [(r.rate, r.base, r.amount) for r in rows] == [(D("20.00"), D("9.90"), D("1.98")),
                                                         (D("5.50"), D("200.00"), D("11.00"))]


def test_the_whole_invoice_totals():
    doc = validate(everything()).document
    # lines: 250 x (12.50 - 2.50) / 100 = 25.00, - 5 % (1.25) + 3.00 = 26.75;
    #        1234 x 0.00101 = 1.24634 -> 1.25; 3 x 52.00 = 156.00 - 10 % (15.60) = 140.40
    assert [ln.net for ln in doc.lines] == [D("26.75"), D("1.25"), D("140.40")]
    # BT-106 = 26.75 + 1.25 + 140.40 = 168.40; BT-107 = 2 % of 100.00 = 2.00; BT-108 = 15.00;
    # BT-109 = 168.40 - 2.00 + 15.00 = 181.40 (BR-CO-13)
    t = doc.totals
    assert (t.line_total, t.allowance_total, t.charge_total, t.net_total) == (
        D("168.40"), D("2.00"), D("15.00"), D("181.40"))
    # S 20 %: 26.75 + 1.25 + 15.00 = 43.00 -> 8.60; S 10 %: 140.40 - 2.00 = 138.40 -> 13.84
    assert [(r.rate, r.base, r.amount) for r in doc.vat_breakdown] == [
        (D("20.00"), D("43.00"), D("8.60")), (D("10.00"), D("138.40"), D("13.84"))]
    # BT-110 = 22.44; BT-112 = 181.40 + 22.44 = 203.84; BT-115 = 203.84 - 0 + 0.01 = 203.85 (BR-CO-16)
    assert (t.vat_total, t.gross_total, t.rounding_amount, t.amount_due) == (
        D("22.44"), D("203.84"), D("0.01"), D("203.85"))
    assert [(a.percent, a.base, a.amount, a.vat_rate) for a in doc.allowances] == [
        (D("2"), D("100.00"), D("2.00"), D("10"))]
    assert [(c.reason_code, c.amount) for c in doc.charges] == [("FC", D("15.00"))]


def test_rounding_amount_and_payments_in_the_amount_due():
    raw = quote_example()  # DOMAIN.md's quote: net 4715.00, VAT 638.00, gross 5353.00
    raw["payments"] = [{"date": "2026-09-28", "amount": "1000.00"}]  # before the invoice of 2026-10-01
    raw["rounding_amount"] = "-0.40"
    t = validate(raw).document.totals
    # BT-115 = 5353.00 - 1000.00 + (-0.40) = 4352.60 (BR-CO-16)
    assert (t.gross_total, t.prepaid_total, t.rounding_amount, t.amount_due) == (
        D("5353.00"), D("1000.00"), D("-0.40"), D("4352.60"))
    # no rounding given: BT-114 = 0, amount due 4353.00
    del raw["rounding_amount"]
    assert validate(raw).document.totals.amount_due == D("4353.00")


def test_vat_total_in_the_accounting_currency():
    # BT-111 = round(0.125 x 22.44) = round(2.805) = 2.81 half-up (banker's: 2.80)
    assert vat_in_accounting_currency(VatCurrency("EUR", D("0.125")), D("22.44")).vat_total == D("2.81")
    raw = everything()
    raw["currency"] = "USD"
    raw["vat_currency"] = {"code": "EUR", "rate": "0.9214"}
    doc = validate(raw).document
    # the same figures in USD; BT-111 = 0.9214 x 22.44 = 20.676216 -> 20.68 EUR
    assert doc.totals.vat_total == D("22.44")
    assert (doc.vat_currency.code, doc.vat_currency.rate, doc.vat_currency.vat_total) == (
        "EUR", D("0.9214"), D("20.68"))
    # a currency with no minor unit: JPY, 150.5 x 22.44 = 3377.22 -> 3377
    assert vat_in_accounting_currency(VatCurrency("JPY", D("150.5")), D("22.44"), 0).vat_total == D("3377")


def test_the_api_shows_every_new_figure():
    dumped = DocumentSchema().dump(validate(everything()).document)
    assert dumped["totals"]["line_total"] == "168.40" and dumped["totals"]["rounding_amount"] == "0.01"
    assert dumped["allowances"][0]["amount"] == "2.00" and dumped["charges"][0]["reason"] == "Frais de port"
    cable = dumped["lines"][0]
    assert (cable["gross_price"], cable["price_discount"], cable["base_quantity"], cable["unit_price"]) == (
        "12.50", "2.50", "100", "10.00")
    assert cable["allowances"][0]["amount"] == "1.25" and cable["charges"][0]["amount"] == "3.00"
    assert dumped["vat_currency"] is None


# ------------------------------------------------------------------ refusals: 422 naming the path


def errors_of(raw) -> dict:
    with pytest.raises(InvalidPayload) as caught:
        validate(raw)
    return caught.value.errors


def test_a_percent_needs_its_base():
    raw = everything()
    del raw["allowances"][0]["base"]
    assert "percent needs its base (BT-93)" in errors_of(raw)["allowances.0.base"][0]
    raw = everything()
    raw["charges"][0] = {"percent": "3", "reason": "Frais de dossier", "vat_rate": "20"}
    assert "(BT-100)" in errors_of(raw)["charges.0.base"][0]


def test_an_allowance_at_a_category_and_rate_no_line_uses():
    raw = everything()
    raw["allowances"][0]["vat_rate"] = "5.5"  # lines bill at 20 % and 10 % only
    assert "No line is billed at category S, rate 5.5 %" in errors_of(raw)["allowances.0.vat_rate"][0]
    # a charge may have its own rate (shipping at 20 % on books at 5.5 %): not refused
    raw = everything()
    raw["charges"][0]["vat_rate"] = "5.5"
    assert validate(raw).document.vat_breakdown[-1].base == D("15.00")


def test_not_subject_to_vat_mixes_with_nothing():
    raw = everything()
    raw["charges"][0].update(vat_category="O", vat_rate="0", vat_exemption_reason="Hors champ de la TVA")
    assert "BR-O-14" in errors_of(raw)["charges.0.vat_category"][0]


def test_a_negative_net_after_allowances():
    raw = everything()
    raw["lines"][2]["allowances"] = [{"amount": "150.00", "reason": "Geste"}]  # 156.00 - 15.60 - 150.00 < 0
    assert "its net would be -9.60" in errors_of(raw)["lines.2.allowances"][0]
    raw = everything()
    raw["allowances"][0] = {"amount": "140.41", "reason": "Remise", "vat_rate": "10"}  # 140.40 billed at 10 %
    assert "that VAT base would be -0.01" in errors_of(raw)["allowances.0.amount"][0]


@pytest.mark.parametrize("field", ["unit_price", "gross_price", "price_discount"])
def test_more_than_six_decimals_in_a_price(field):
    raw = everything()
    raw["lines"][0].pop("unit_price", None)
    raw["lines"][0][field] = "0.0010101"
    assert errors_of(raw)[f"lines.0.{field}"] == ["At most 6 decimal places."]


def test_gross_price_and_unit_price_both_given_or_neither():
    raw = everything()
    raw["lines"][0]["unit_price"] = "10.00"
    assert "not both" in errors_of(raw)["lines.0.gross_price"][0]
    raw = everything()
    del raw["lines"][1]["unit_price"]
    assert "Missing data for required field" in errors_of(raw)["lines.1.unit_price"][0]
    raw = everything()
    raw["lines"][1]["price_discount"] = "0.0001"  # no gross price to take it off
    assert "gross_price" in errors_of(raw)["lines.1.price_discount"][0]
    raw = everything()
    raw["lines"][0]["price_discount"] = "12.51"
    assert "BR-27" in errors_of(raw)["lines.0.price_discount"][0]


def test_each_allowance_and_charge_says_why_and_how_much():
    raw = everything()
    raw["allowances"][0] = {"amount": "2.00", "vat_rate": "10"}
    raw["charges"][0] = {"amount": "15.00", "vat_rate": "20"}
    raw["lines"][0]["allowances"][0] = {"percent": "5"}
    raw["lines"][0]["charges"][0] = {"amount": "3.00"}
    errors = errors_of(raw)
    assert "BR-CO-21" in errors["allowances.0.reason"][0] and "BR-CO-22" in errors["charges.0.reason"][0]
    assert "BR-CO-23" in errors["lines.0.allowances.0.reason"][0]
    assert "BR-CO-24" in errors["lines.0.charges.0.reason"][0]
    raw = everything()
    raw["allowances"][0]["amount"] = "2.00"  # and percent 2 of 100.00
    assert errors_of(raw)["allowances.0"] == ["Give either amount or percent for this document-level allowance."]


def test_reason_codes_from_their_lists():
    raw = everything()
    raw["allowances"][0]["reason_code"] = "FC"  # a charge code (UNTDID 7161), not an allowance code
    raw["charges"][0]["reason_code"] = "95"  # an allowance code (UNTDID 5189)
    errors = errors_of(raw)
    assert errors["allowances.0.reason_code"] == ["Unknown UNTDID 5189 allowance reason code 'FC'."]
    assert errors["charges.0.reason_code"] == ["Unknown UNTDID 7161 charge reason code '95'."]


def test_vat_currency_is_another_currency_and_euros_for_a_french_seller():
    raw = everything()
    raw["vat_currency"] = {"code": "EUR", "rate": "1"}  # the invoice is in EUR already
    assert "BT-6" in errors_of(raw)["vat_currency.code"][0]
    raw["currency"], raw["vat_currency"] = "USD", {"code": "GBP", "rate": "0.79"}
    assert "242 nonies A" in errors_of(raw)["vat_currency.code"][0]


def test_amounts_in_the_minor_unit_of_the_currency():
    raw = everything()
    raw["currency"] = "JPY"  # no minor unit: amounts are written without decimals, as `discount.amount`'s
    raw["vat_currency"] = {"code": "EUR", "rate": "0.0057"}  # a seller in France states the VAT in euros too
    assert errors_of(raw) == {path: ["At most 0 decimal places in JPY."] for path in (
        "rounding_amount", "allowances.0.base", "charges.0.amount", "lines.0.charges.0.amount")}
    raw["rounding_amount"], raw["allowances"][0]["base"] = "1", "100"
    raw["charges"][0]["amount"], raw["lines"][0]["charges"][0]["amount"] = "15", "3"
    t = validate(raw).document.totals
    # the same lines in yen: 25 - 1 (5 % of 25 = 1.25 -> 1) + 3 = 27; 1234 x 0.00101 = 1.24634 -> 1;
    # 156 - 16 (10 % = 15.6 -> 16) = 140; BT-106 = 168; BT-109 = 168 - 2 + 15 = 181; BT-115 = 181 + VAT + 1
    # VAT: 20 % of 27 + 1 + 15 = 43 -> 8.6 -> 9; 10 % of 140 - 2 = 138 -> 13.8 -> 14; BT-110 = 23
    assert (t.line_total, t.net_total, t.vat_total, t.amount_due) == (D("168"), D("181"), D("23"), D("205"))


def test_a_cycle_document_takes_no_document_level_allowance():
    from tests.conftest import cycle_payload

    raw = cycle_payload("deposit_invoice", "FA-2026-0010", deposit={"percent": "30"},
                        allowances=[{"amount": "10.00", "reason": "Remise", "vat_rate": "20"}])
    assert "bills from the quote" in errors_of(raw)["allowances"][0]


def test_an_allowance_where_a_charge_of_its_rate_covers_it():
    # like CEN's issue116: no line at E, an E allowance of 1.00 and an E charge of 1.00: base
    # 0 - 1.00 + 1.00 = 0.00, not negative, so not refused; a zero allowance is accepted too
    raw = everything()
    exempt = {"vat_rate": "0", "vat_category": "E", "vat_exemption_reason": "Exonération, art. 261 du CGI"}
    raw["allowances"] += [{"amount": "1.00", "reason": "Remise", **exempt}, {"amount": "0", "reason": "Nulle",
                                                                              "vat_rate": "20"}]
    raw["charges"].append({"amount": "1.00", "reason": "Frais", **exempt})
    doc = validate(raw).document
    assert [(r.category, r.base) for r in doc.vat_breakdown][-1] == ("E", D("0.00"))
    # BT-107 = 2.00 + 1.00 + 0 = 3.00; BT-108 = 15.00 + 1.00 = 16.00; BT-109 still 181.40
    assert (doc.totals.allowance_total, doc.totals.charge_total, doc.totals.net_total) == (
        D("3.00"), D("16.00"), D("181.40"))


def test_over_http(tmp_path):
    from docsvc.app import create_app
    from docsvc.settings import Settings

    client = create_app(Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{tmp_path}",
                                           "DOCSVC_AUTH": "disabled"})).test_client()
    raw = everything()
    raw["currency"], raw["vat_currency"] = "USD", {"code": "EUR", "rate": "0.9214"}
    response = client.post("/v1/documents/validate", json=raw)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {k: body["totals"][k] for k in ("line_total", "allowance_total", "charge_total", "net_total",
                                           "vat_total", "gross_total", "rounding_amount", "amount_due")} == {
        "line_total": "168.40", "allowance_total": "2.00", "charge_total": "15.00", "net_total": "181.40",
        "vat_total": "22.44", "gross_total": "203.84", "rounding_amount": "0.01", "amount_due": "203.85"}
    assert body["document"]["vat_currency"] == {"code": "EUR", "rate": "0.9214", "vat_total": "20.68"}
    del raw["allowances"][0]["base"]
    response = client.post("/v1/documents/validate", json=raw)
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert list(response.get_json()["errors"]) == ["allowances.0.base"]
    schema = client.get("/v1/openapi.json").get_json()["components"]["schemas"]
    assert {"allowances", "charges", "rounding_amount", "vat_currency"} <= set(schema["DocumentPayload"]["properties"])
