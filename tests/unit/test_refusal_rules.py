"""The pure rules behind issue 11's refusals: rate table, territories, text and fonts."""
from datetime import date
from decimal import Decimal as D

import pytest

from docsvc.billing.text import bidi_controls, undrawable
from docsvc.billing.vat_rates import rate_problem, rate_table, territory_of
from docsvc.rendering.glyphs import coverage, fallback_problems
from tests.conftest import ROOT


@pytest.mark.parametrize("country, postcode, territory", [
    ("FR", "69007", "FR"), ("MC", "98000", "FR"), ("FR", "20000", "FR-COR"), ("FR", "20600", "FR-COR"),
    ("FR", "97100", "FR-DOM"), ("FR", "97200", "FR-DOM"), ("FR", "97400", "FR-DOM"), ("RE", "97400", "FR-DOM"),
    ("FR", "97300", "FR-NOVAT"), ("FR", "97600", "FR-NOVAT"), ("FR", "97500", "FR-SPM"),
    ("FR", "97133", "FR-COM"), ("FR", "98800", "FR-COM"), ("DE", "10117", "DE"), ("BE", "1000", "BE"),
])
def test_territory_by_country_and_postcode(country, postcode, territory):
    assert territory_of(country, postcode).id == territory


def test_no_table_for_other_countries_and_every_territory_names_its_source():
    assert territory_of("US", "10001") is None and territory_of("JP", "100-0001") is None
    assert all(t.source for t in rate_table())
    mainland = territory_of("FR", "75001")
    assert mainland.rates_on(date(2026, 11, 23)) == {D("20"), D("10"), D("5.5"), D("2.1")}
    assert mainland.rates_on(date(2013, 12, 31)) == {D("19.6"), D("7"), D("5.5"), D("2.1")}
    assert mainland.rates_on(date(2011, 6, 1)) == {D("19.6"), D("5.5"), D("2.1")}
    assert mainland.rates_on(date(1999, 1, 1)) is None  # before the table: not checked
    assert territory_of("FR", "97300").rates_on(date(2026, 1, 1)) == frozenset()
    assert territory_of("FR", "97133").rates_on(date(2026, 1, 1)) is None  # local taxes: not checked


def test_rate_messages():
    mainland = territory_of("FR", "75001")
    today = date(2026, 11, 23)
    allowed = mainland.rates_on(today)
    assert rate_problem(D("20.00"), today, allowed, [mainland]) is None
    assert rate_problem(D("2.10"), today, allowed, [mainland]) is None
    assert "did you mean 10 (not the fraction 0.1)?" in rate_problem(D("0.1"), today, allowed, [mainland])
    assert "7 % applied until 2013-12-31" in rate_problem(D("7"), today, allowed, [mainland])
    assert "applied until" not in rate_problem(D("21"), today, allowed, [mainland])


def test_bidi_and_undrawable_text():
    assert bidi_controls("a\u202eb\u2067c\u202e\u061c") == ["\u202e", "\u2067", "\u061c"]
    assert bidi_controls("Société Générale — n° 5") == []
    raw = {"seller": {"name": "Ok"}, "lines": [{"description": "Tab\tand\nnewline, soft\u00adhyphen"},
                                                {"description": "x\u4e2dy\u4e2d"}]}
    drawable = frozenset(map(ord, "OkTabndewlie,softhypxy "))
    errors = undrawable(raw, drawable, "t 1.0.0", ("Inter",))
    assert list(errors) == ["lines.1.description"]
    assert errors["lines.1.description"][0].startswith("Template t 1.0.0 can't draw U+4E2D CJK UNIFIED "
                                                      "IDEOGRAPH-4E2D: its fonts (Inter)")


def test_coverage_counts_the_bundles_fonts_and_declared_fallbacks(tmp_path):
    classic = coverage(ROOT / "templates" / "classic" / "1.0.0", "classic-1.0.0-test")
    assert classic.fonts == ("Inter",)
    assert ord("Ł") in classic.codepoints and ord("α") in classic.codepoints
    assert ord("\u05e9") not in classic.codepoints  # Hebrew: no
    (tmp_path / "assets").mkdir()
    (tmp_path / "template.toml").write_text('name = "x"\nversion = "1.0.0"\nfallback_fonts = ["DejaVu Sans"]\n')
    wide = coverage(tmp_path, "dejavu-only-test")
    assert "DejaVu Sans" in wide.fonts and ord("\u05e9") in wide.codepoints


def test_publishing_checks_declared_fallback_fonts(tmp_path):
    (tmp_path / "assets" / "fonts").mkdir(parents=True)
    (tmp_path / "assets" / "fonts" / "Extra.ttf").write_bytes(b"")
    (tmp_path / "style.css").write_text("html { font-family: Inter; }")
    (tmp_path / "template.toml").write_text(
        'fallback_fonts = ["No Such Family", "assets/fonts/Missing.ttf", "assets/fonts/Extra.ttf", "DejaVu Sans"]\n')
    assert [p["message"] for p in fallback_problems(tmp_path)] == [
        "fallback font family 'No Such Family' is not installed",
        "fallback font 'assets/fonts/Missing.ttf' is not in the bundle",
        "fallback font 'assets/fonts/Extra.ttf' is not loaded by an @font-face in style.css, so it would draw "
        "nothing"]


def test_installed_families_the_css_names_count_generic_ones_do_not(tmp_path):
    from docsvc.rendering.glyphs import css_families

    (tmp_path / "assets").mkdir()
    (tmp_path / "style.css").write_text('@font-face { font-family: "Mine"; src: url("assets/m.otf"); }\n'
                                        'body { font-family: "Mine", "DejaVu Serif", serif; }\n'
                                        'h1 { font: bold 12pt "DejaVu Sans Mono"; }\n')
    (tmp_path / "template.toml").write_text('name = "x"\nversion = "1.0.0"\n')
    assert css_families(tmp_path) == ["DejaVu Serif", "DejaVu Sans Mono"]
    drawn = coverage(tmp_path, "css-families-test")
    assert drawn.fonts == ("DejaVu Serif", "DejaVu Sans Mono") and ord("Ж") in drawn.codepoints


def test_a_date_before_the_rate_table_does_not_turn_the_rate_check_off():
    """A 21 % line (never a French rate) on an invoice of 20/11/2026 is refused whatever delivery
    date comes with it: 31/12/1999 is before the table (mainland France from 2000-04-01), so it
    counts for nothing, where it used to switch the whole check off."""
    from docsvc.errors import InvalidPayload
    from docsvc.usecases.checking import validate
    from tests.conftest import load_fixture

    raw = load_fixture("invoice")
    raw["lines"][0]["vat_rate"] = "21"
    for delivery in ("2026-11-13", "1999-12-31"):
        with pytest.raises(InvalidPayload) as refused:
            validate(dict(raw, delivery_date=delivery))
        assert list(refused.value.errors) == ["lines.0.vat_rate"], delivery
        assert "21 % is not a VAT rate in force in France" in refused.value.errors["lines.0.vat_rate"][0]
    raw["lines"][0]["vat_rate"] = "10"
    assert validate(dict(raw, delivery_date="1999-12-31")).document.totals.gross_total > 0  # 10 % is a rate
    # no date the table covers: the rates can't be checked, so the document is not issued
    with pytest.raises(InvalidPayload) as refused:
        validate(dict(raw, issue_date="1999-12-31", delivery_date="1999-12-20",
                      payments=[{"date": "1999-12-31", "amount": "100.00"}]))
    assert list(refused.value.errors) == ["issue_date"]
    assert "from 2000-04-01" in refused.value.errors["issue_date"][0]


def _errors(raw) -> dict[str, list[str]]:
    from docsvc.errors import InvalidPayload
    from docsvc.usecases.checking import validate

    with pytest.raises(InvalidPayload) as refused:
        validate(raw)
    return refused.value.errors


def test_a_seller_in_france_invoicing_in_another_currency_states_the_vat_in_euros():
    """CGI art. 242 nonies A: the VAT in euros on an invoice in USD; a billing-abuse review found
    a USD invoice issued without it (only a vat_currency other than EUR was refused)."""
    from docsvc.usecases.checking import validate
    from tests.conftest import load_fixture

    raw = load_fixture("invoice")
    raw["currency"] = "USD"
    assert list(_errors(raw)) == ["vat_currency"]
    raw["vat_currency"] = {"code": "EUR", "rate": "0.92"}
    assert validate(raw).document.vat_currency is not None
    raw.pop("vat_currency")  # no VAT charged at all: nothing to state in euros
    for line in raw["lines"]:
        line.update(vat_rate="0", vat_category="E", vat_exemption_reason="Exonération, art. 261 du CGI")
    assert validate(raw).document.totals.vat_total == 0


def test_an_intra_eu_supply_and_a_reverse_charge_name_the_buyer_who_owes_the_vat():
    """BR-IC-02 and BR-AE-02 were only enforced with Factur-X: a PDF alone passed without them."""
    from tests.conftest import load_fixture

    raw = load_fixture("invoice")
    raw["lines"] = raw["lines"][:2]
    raw["payments"] = []
    for line in raw["lines"]:
        line.update(vat_rate="0", vat_category="K", vat_exemption_reason="Exonération, art. 262 ter I du CGI")
    # a French buyer: not a supply to another member state
    assert set(_errors(raw)) == {"lines.0.vat_category", "lines.1.vat_category"}
    german = {"name": "Bau GmbH", "address": {"lines": ["Hauptstr. 1"], "postcode": "10115", "city": "Berlin",
                                              "country": "DE"}}
    raw["buyer"] = german
    assert list(_errors(raw)) == ["buyer.vat_id"]
    for line in raw["lines"]:
        line.update(vat_category="AE", vat_exemption_reason="Autoliquidation, art. 283-2 nonies du CGI")
    raw["buyer"] = {k: v for k, v in load_fixture("invoice")["buyer"].items() if k not in ("siren", "vat_id")}
    errors = _errors(raw)
    assert "buyer.vat_id" in errors and "BR-AE-02" in errors["buyer.vat_id"][0]


def test_payment_terms_between_businesses_stay_within_the_law():
    """C. com. L441-10 and D441-5, found missing by a billing review (365 days and a due date in
    2029 were issued). The invoice fixture is dated 20/11/2026: 60 days is 19/01/2027; 45 days is
    04/01/2027, end of month 31/01/2027: the later reading, 31/01/2027, is the ceiling."""
    from docsvc.usecases.checking import validate
    from tests.conftest import load_fixture

    raw = load_fixture("invoice")
    raw["payment"]["terms_days"] = 72  # 20/11/2026 + 72 days = 31/01/2027: the ceiling itself
    assert validate(raw).document.due_date.isoformat() == "2027-01-31"
    raw["payment"]["terms_days"] = 73
    assert _errors(raw)["payment.terms_days"][0].endswith("on 2027-01-31 at the latest.")
    raw["payment"]["terms_days"] = 30
    raw["due_date"] = "2029-01-01"
    assert list(_errors(raw)) == ["due_date"]
    del raw["due_date"]
    raw["payment"]["late_penalty_rate"] = "0"
    raw["payment"]["recovery_indemnity"] = "5.00"
    assert set(_errors(raw)) == {"payment.late_penalty_rate", "payment.recovery_indemnity"}
    raw["buyer"]["kind"] = "consumer"  # none of it applies to a consumer
    raw["buyer"].pop("siren", None)
    raw["payment"]["terms_days"] = 90
    raw["payment"].pop("recovery_indemnity")
    assert validate(raw).document.due_date.isoformat() == "2027-02-18"


def test_a_swiss_vat_number_with_its_suffix_is_taken():
    """An accountant's review: CHE107787577MWST (16 characters, python-stdnum checks it) was refused
    as longer than 2 + 13; a wrong check digit still is."""
    from docsvc.schemas.codes import vat_id_problem

    assert vat_id_problem("CHE107787577MWST") is None and vat_id_problem("CHE107787577IVA") is None
    assert vat_id_problem("CHE107787578MWST") == "Not a valid CH VAT number (check digits or length)."


def _refusals(raw) -> dict:
    from docsvc.errors import InvalidPayload
    from docsvc.usecases.checking import validate

    with pytest.raises(InvalidPayload) as refused:
        validate(raw)
    return refused.value.errors


def test_figures_that_can_not_be_true_are_refused():
    """A review of what passed: a SARL "au capital de 0,00 €", a rounding of 50.00 added to the
    amount due, an invoice totalling -21 097.12 refused as "payments (0.00) exceed the gross
    total", an order reference on two lines, an invoice to the seller itself."""
    from tests.conftest import load_fixture

    raw = load_fixture("invoice")
    raw["seller"]["share_capital"] = "0"
    assert list(_refusals(raw)) == ["seller.share_capital"]

    raw = load_fixture("invoice")
    for rounding, refused in (("0.99", False), ("-0.99", False), ("1.00", True), ("-50.00", True)):
        if refused:
            assert _refusals(dict(raw, rounding_amount=rounding)) == {"rounding_amount": [
                f"A rounding amount (BT-114) rounds the amount due: less than 1 EUR either way, not {rounding}."]}
        else:  # the fixture's gross 20 633.12, less 2 000.00 received, plus the rounding
            from docsvc.usecases.checking import validate
            assert validate(dict(raw, rounding_amount=rounding)).document.totals.amount_due == (
                D("18633.12") + D(rounding))

    raw = load_fixture("invoice")
    raw["payments"] = []
    for line in raw["lines"]:  # every quantity negated: what was billed is now taken off
        quantity = line["quantity"]
        line["quantity"] = quantity[1:] if quantity.startswith("-") else "-" + quantity
    errors = _refusals(raw)
    assert list(errors) == ["lines"] and errors["lines"][0].startswith("This invoice totals -")
    assert "credit note" in errors["lines"][0]

    raw = load_fixture("invoice")
    raw["order_reference"] = "BC\n2026"
    raw["buyer"]["name"] = "SCI\tLes Tilleuls"
    assert _refusals(raw) == {
        "order_reference": ["One line: no line break or tab in a name, identifier or reference."],
        "buyer.name": ["One line: no line break or tab in a name, identifier or reference."]}

    raw = load_fixture("invoice")
    raw["buyer"] = dict(raw["seller"])
    assert _refusals(raw) == {
        "buyer.siren": ["The seller's own (912345675): a document bills another person."],
        "buyer.vat_id": ["The seller's own (FR65912345675): a document bills another person."]}
