"""Bad input is refused with the JSON path of each problem."""
import pytest

from docsvc.errors import InvalidPayload
from docsvc.schemas.payload import load_payload
from docsvc.usecases.checking import validate
from tests.conftest import quote_example


def errors_of(raw) -> dict:
    """The 422's errors: the payload's shape (the schema), then the document's rules (billing)."""
    with pytest.raises(InvalidPayload) as info:
        validate(raw)
    return info.value.errors


def test_valid_payload_loads_decimals_not_floats():
    payload = load_payload(quote_example())
    assert str(payload.lines[2].quantity) == "12.5"
    assert payload.lines[0].id == "1" and payload.lines[2].id == "3"
    assert payload.currency == "EUR" and payload.language == "fr" and payload.formats == ("pdf",)


@pytest.mark.parametrize("mutate, path, fragment", [
    (lambda p: p["lines"][1].update(unit_price="-5"), "lines.1.unit_price", "BR-27"),
    (lambda p: p["lines"][0].update(vat_rate="0"), "lines.0.vat_category", "explicit category"),
    (lambda p: p["lines"][0].update(vat_rate="0", vat_category="E"), "lines.0.vat_exemption_reason",
     "exemption"),
    (lambda p: p["lines"][0].update(vat_category="AE"), "lines.0.vat_rate", "must be 0"),
    (lambda p: p["lines"][0].update(vat_category="XX"), "lines.0.vat_category", "Must be one of"),
    (lambda p: p["lines"][0].update(unit="BOX"), "lines.0.unit", "Rec. 20"),
    (lambda p: p["lines"][0].update(quantity=True), "lines.0.quantity", "Not a valid number"),
    (lambda p: p["lines"][0].update(quantity="1.23456"), "lines.0.quantity", "4 decimal places"),
    (lambda p: p["lines"][0].update(color="red"), "lines.0.color", "Unknown field"),
    (lambda p: p["lines"][1].update(discount={"amount": "5000"}), "lines.1.discount.amount", "gross"),
    (lambda p: p["lines"][1].update(discount={"percent": "10", "amount": "5"}), "lines.1.discount",
     "either percent or amount"),
    (lambda p: p.update(issue_date="2026-02-30"), "issue_date", "Not a valid date"),
    (lambda p: p.update(due_date="2026-09-01"), "due_date", "Before the issue date"),
    (lambda p: p.update(currency="EUX"), "currency", "ISO 4217"),
    (lambda p: p.update(type="quote"), "type", "Must be one of"),
    (lambda p: p.update(type="deposit_invoice"), "quote", "needs the quote"),
    (lambda p: p.update(formats=["pdf", "odt"]), "formats.1", "Must be one of"),
    (lambda p: p.update(number="F 2026"), "number", "letters, digits"),
    (lambda p: p.update(lines=[]), "lines", "minimum length 1"),
    (lambda p: p["seller"].update(siren="912345676"), "seller.siren", "Luhn"),
    (lambda p: p["seller"].update(vat_id="FR00912345675"), "seller.vat_id", "FR65912345675"),
    (lambda p: p["seller"]["address"].update(country="XY"), "seller.address.country", "country"),
    (lambda p: p["buyer"].pop("address"), "buyer.address", "required"),
    (lambda p: p["payment"].update(iban="FR7630006000011234567890180"), "payment.iban", "IBAN"),
    (lambda p: p.update(corrects={"number": "F-1", "issue_date": "2026-01-01"}), "corrects", "Only a credit note"),
    (lambda p: p.update(type="credit_note"), "corrects", "must reference"),
    (lambda p: p.update(notes=["  "]), "notes.0", "blank"),
])
def test_each_bad_field_is_named(mutate, path, fragment):
    raw = quote_example()
    mutate(raw)
    errors = errors_of(raw)
    assert path in errors, errors
    assert any(fragment in m for m in errors[path]), errors[path]


def test_several_errors_are_reported_together():
    raw = quote_example()
    raw["lines"][0]["unit_price"] = "-1"
    raw["lines"][2]["vat_rate"] = "abc"
    raw["buyer"]["name"] = ""
    assert {"lines.0.unit_price", "lines.2.vat_rate", "buyer.name"} <= set(errors_of(raw))


def test_body_must_be_an_object():
    assert errors_of([1, 2]) == {"$": ["The body must be a JSON object."]}


def test_the_render_context_reference_matches_the_model_and_the_guide():
    from docsvc.billing.model import Document
    from docsvc.schemas.reference import refresh
    from docsvc.schemas.resources import DocumentSchema
    from tests.conftest import ROOT

    # every field templates receive is described, and nothing else
    assert set(DocumentSchema().fields) == set(Document.__dataclass_fields__)
    guide = (ROOT / "docs" / "templates.md").read_text()
    assert refresh(guide) == guide, "run: python -m docsvc.schemas.reference docs/templates.md"


def test_a_negative_zero_is_zero():
    """An attacker's review: unit_price "-0" printed "-0,00 €" on the PDF and failed BR-FR-DEC-03 in
    the Factur-X under the field "facturx"; it is 0."""
    from docsvc.schemas.fields import Amount

    price = Amount(max_places=6)
    assert [str(price.deserialize(v)) for v in ("-0", "-0.00", "0")] == ["0", "0.00", "0"]
