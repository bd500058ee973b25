"""The request payload of POST /v1/documents, loaded into billing dataclasses.

Every rule a field can check on its own lives on the field; rules across fields live
in `@validates_schema`; French legal mentions are checked after loading by
`billing.mentions.missing_mentions`, which needs the whole document.
"""
from __future__ import annotations

from decimal import Decimal

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from ..billing.model import (
    CATEGORIES_NEEDING_REASON,
    VAT_CATEGORIES,
    Address,
    Discount,
    DocumentType,
    EarlyPaymentDiscount,
    InvoicePayload,
    InvoiceReference,
    Line,
    Party,
    PaymentReceived,
    PaymentTerms,
    TemplateRef,
)
from ..billing.money import round_money
from .codes import codelists, currency_places, french_vat_key, iban_ok, siren_ok, siret_ok
from .fields import Amount, Text

#: Document types this release computes; the others are refused by name, not ignored.
SUPPORTED_TYPES = (DocumentType.INVOICE.value, DocumentType.CREDIT_NOTE.value)
ALL_TYPES = tuple(t.value for t in DocumentType)
FORMATS = ("pdf", "docx")
PAYMENT_MEANS = ("transfer", "card", "cheque", "direct_debit", "cash", "other")
MAX_LINES = 10_000
SEMVER = r"^\d+\.\d+\.\d+$"


class Base(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


def _in_list(name: str, what: str):
    def check(value: str) -> None:
        if value not in codelists()[name]:
            raise ValidationError(f"Unknown {what} code {value!r}.")
    return check


class AddressSchema(Base):
    lines = fields.List(Text(max_length=100), required=True, validate=validate.Length(min=1, max=4),
                        metadata={"description": "Street lines, 1 to 4."})
    postcode = Text(max_length=16, required=True)
    city = Text(max_length=100, required=True)
    country = fields.String(load_default="FR", validate=_in_list("countries", "ISO 3166-1 country"),
                            metadata={"description": "ISO 3166-1 alpha-2, default FR."})

    @post_load
    def make(self, data, **kwargs):
        return Address(lines=tuple(data["lines"]), postcode=data["postcode"], city=data["city"],
                       country=data["country"])


class PartySchema(Base):
    name = Text(max_length=200, required=True)
    siren = fields.String(validate=lambda v: siren_ok(v) or _fail("Not a valid SIREN (9 digits, Luhn key)."))
    siret = fields.String(validate=lambda v: siret_ok(v) or _fail("Not a valid SIRET (14 digits, Luhn key)."))
    vat_id = fields.String(validate=validate.Regexp(r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$",
                                                    error="Not a VAT number (country prefix and 2 to 13 characters)."))
    legal_form = Text(max_length=60)
    share_capital = Amount(max_places=2, validate=validate.Range(min=0))
    registration = Text(max_length=120, metadata={"description": "Trade register, e.g. 'RCS Lyon'."})
    kind = fields.String(load_default="business", validate=validate.OneOf(("business", "consumer")),
                         metadata={"description": "business (B2B mentions apply) or consumer."})
    email = fields.Email()
    phone = Text(max_length=40)
    address = fields.Nested(AddressSchema, required=True)
    delivery_address = fields.Nested(AddressSchema)

    @validates_schema
    def identifiers_agree(self, data, **kwargs):
        siren, siret, vat_id = data.get("siren"), data.get("siret"), data.get("vat_id")
        errors = {}
        if siren and siret and not siret.startswith(siren):
            errors["siret"] = ["The SIRET must start with the SIREN."]
        if siren and vat_id and vat_id.startswith("FR") and vat_id != "FR" + french_vat_key(siren) + siren:
            errors["vat_id"] = [f"Does not match the SIREN: expected FR{french_vat_key(siren)}{siren}."]
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data, **kwargs):
        return Party(**data)


def _fail(message: str):
    raise ValidationError(message)


class DiscountSchema(Base):
    percent = Amount(max_places=4, validate=validate.Range(min=0, max=100, min_inclusive=False))
    amount = Amount(max_places=2, validate=validate.Range(min=0, min_inclusive=False))

    @validates_schema
    def exactly_one(self, data, **kwargs):
        if ("percent" in data) == ("amount" in data):
            raise ValidationError("Give either percent or amount.", "_schema")

    @post_load
    def make(self, data, **kwargs):
        return Discount(**data)


class LineSchema(Base):
    id = Text(max_length=40, metadata={"description": "Defaults to the line's position, from 1."})
    description = Text(max_length=1000, required=True)
    quantity = Amount(max_places=4, required=True,
                      validate=lambda q: q != 0 or _fail("Must not be zero."))
    unit = fields.String(load_default="C62", validate=_in_list("units", "UN/ECE Rec. 20 unit"),
                         metadata={"description": "UN/ECE Rec. 20 code: C62 (unit), HUR, DAY, MTK, KGM..."})
    unit_price = Amount(max_places=4, required=True, validate=validate.Range(
        min=0, error="A unit price can't be negative (EN 16931 BR-27): use a negative quantity."))
    discount = fields.Nested(DiscountSchema)
    vat_rate = Amount(max_places=2, required=True, validate=validate.Range(min=0, max=100))
    vat_category = fields.String(load_default="S", validate=validate.OneOf(VAT_CATEGORIES),
                                 metadata={"description": "UNCL 5305: S, Z, E, AE, K, G, O."})
    vat_exemption_reason = Text(max_length=300)

    @validates_schema(skip_on_field_errors=False)
    def vat_is_coherent(self, data, **kwargs):
        rate, category = data.get("vat_rate"), data.get("vat_category", "S")
        if rate is None or category not in VAT_CATEGORIES:
            return
        if rate == 0 and category == "S":
            raise ValidationError("A 0 rate needs an explicit category: Z, E, AE, K, G or O.", "vat_category")
        if rate != 0 and category != "S":
            raise ValidationError(f"Category {category} charges no VAT: the rate must be 0.", "vat_rate")
        if category in CATEGORIES_NEEDING_REASON and not data.get("vat_exemption_reason"):
            raise ValidationError(f"Category {category} needs the exemption wording "
                                  "(e.g. 'TVA non applicable, art. 293 B du CGI').", "vat_exemption_reason")

    @validates_schema
    def discount_within_gross(self, data, **kwargs):
        discount, q, price = data.get("discount"), data.get("quantity"), data.get("unit_price")
        if discount and discount.amount is not None and q is not None and price is not None:
            if discount.amount > abs(round_money(q * price)):
                raise ValidationError({"discount": {"amount": ["Greater than the line's gross amount."]}})

    @post_load
    def make(self, data, **kwargs):
        return data  # ids default to positions, known only to the payload schema


class EarlyPaymentDiscountSchema(Base):
    percent = Amount(max_places=2, required=True, validate=validate.Range(min=0, max=100, min_inclusive=False))
    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=365))

    @post_load
    def make(self, data, **kwargs):
        return EarlyPaymentDiscount(**data)


class PaymentTermsSchema(Base):
    terms_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=365),
                                metadata={"description": "Due date = issue date + terms_days when due_date is absent."})
    means = fields.String(validate=validate.OneOf(PAYMENT_MEANS))
    iban = fields.String(validate=lambda v: iban_ok(v) or _fail("Not a valid IBAN (mod-97 check)."))
    bic = fields.String(validate=validate.Regexp(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$", error="Not a valid BIC."))
    late_penalty_rate = Amount(max_places=2, validate=validate.Range(min=0, max=100),
                               metadata={"description": "Annual late-payment penalty rate, percent."})
    recovery_indemnity = Amount(max_places=2, validate=validate.Range(min=0),
                                metadata={"description": "Defaults to 40.00 between businesses (C. com. D441-5)."})
    early_payment_discount = fields.Nested(EarlyPaymentDiscountSchema)

    @post_load
    def make(self, data, **kwargs):
        if "iban" in data:
            data["iban"] = data["iban"].replace(" ", "").upper()
        return PaymentTerms(**data)


class PaymentReceivedSchema(Base):
    date = fields.Date(required=True)
    amount = Amount(max_places=2, required=True, validate=validate.Range(min=0, min_inclusive=False))
    means = fields.String(validate=validate.OneOf(PAYMENT_MEANS))
    reference = Text(max_length=100)

    @post_load
    def make(self, data, **kwargs):
        return PaymentReceived(**data)


class InvoiceReferenceSchema(Base):
    number = Text(max_length=35, required=True)
    issue_date = fields.Date(required=True)

    @post_load
    def make(self, data, **kwargs):
        return InvoiceReference(**data)


class TemplateRefSchema(Base):
    name = fields.String(load_default="classic", validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$"))
    version = fields.String(validate=validate.Regexp(SEMVER, error="A semantic version, e.g. 1.0.0."))

    @post_load
    def make(self, data, **kwargs):
        return TemplateRef(**data)


class DocumentPayloadSchema(Base):
    """POST /v1/documents and /v1/documents/validate."""

    type = fields.String(required=True, validate=validate.OneOf(ALL_TYPES))
    number = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,34}$",
        error="1 to 35 letters, digits and - _ . /, starting with a letter or digit."),
        metadata={"description": "The seller's invoice number, unique per seller."})
    issue_date = fields.Date(required=True)
    due_date = fields.Date()
    delivery_date = fields.Date(metadata={"description": "Date of the sale or service; the issue date when absent."})
    currency = fields.String(load_default="EUR", validate=_in_list("currencies", "ISO 4217 currency"))
    language = fields.String(load_default="fr", validate=validate.OneOf(("fr", "en")))
    template = fields.Nested(TemplateRefSchema, load_default=lambda: TemplateRef())
    formats = fields.List(fields.String(validate=validate.OneOf(FORMATS + ("facturx",))),
                          load_default=lambda: ["pdf"], validate=validate.Length(min=1))
    seller = fields.Nested(PartySchema, required=True)
    buyer = fields.Nested(PartySchema, required=True)
    operation = fields.String(validate=validate.OneOf(("goods", "services", "mixed")))
    vat_on_debits = fields.Boolean(load_default=False, metadata={
        "description": "Seller opted to pay VAT on debits: printed as a mention."})
    lines = fields.List(fields.Nested(LineSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_LINES))
    payment = fields.Nested(PaymentTermsSchema, load_default=lambda: PaymentTerms())
    payments = fields.List(fields.Nested(PaymentReceivedSchema), load_default=list)
    corrects = fields.Nested(InvoiceReferenceSchema,
                             metadata={"description": "credit_note: the invoice it corrects."})
    buyer_reference = Text(max_length=100)
    order_reference = Text(max_length=100)
    notes = fields.List(Text(max_length=1000), load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def coherent(self, data, **kwargs):
        errors: dict = {}
        doc_type = data.get("type")
        if doc_type and doc_type not in SUPPORTED_TYPES:
            errors["type"] = [f"{doc_type} is not available yet; this release issues "
                              f"{' and '.join(SUPPORTED_TYPES)}."]
        if "facturx" in data.get("formats", ()):
            errors["formats"] = ["facturx is not available yet; this release renders pdf and docx."]
        elif len(set(data.get("formats", ()))) != len(data.get("formats", ())):
            errors["formats"] = ["Each format once."]
        issue = data.get("issue_date")
        if issue and data.get("due_date") and data["due_date"] < issue:
            errors["due_date"] = ["Before the issue date."]
        if doc_type == "credit_note" and "corrects" not in data:
            errors["corrects"] = ["A credit note must reference the invoice it corrects."]
        if doc_type and doc_type != "credit_note" and "corrects" in data:
            errors["corrects"] = ["Only a credit note corrects an invoice."]
        places = currency_places(data["currency"]) if "currency" in data else 2
        for i, line in enumerate(data.get("lines", ())):
            discount = line.get("discount")
            if discount and discount.amount is not None and discount.amount.as_tuple().exponent < -places:
                errors.setdefault("lines", {}).setdefault(i, {})["discount"] = {
                    "amount": [f"At most {places} decimal places in {data['currency']}."]}
        ids = [line.get("id") for line in data.get("lines", ()) if line.get("id")]
        if len(ids) != len(set(ids)):
            errors.setdefault("lines", {}).setdefault("_schema", []).append("Line ids must be unique.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data, **kwargs):
        lines = tuple(
            Line(id=line.pop("id", None) or str(i), **line) for i, line in enumerate(data.pop("lines"), start=1)
        )
        return InvoicePayload(
            type=DocumentType(data.pop("type")),
            lines=lines,
            payments=tuple(data.pop("payments")),
            notes=tuple(data.pop("notes")),
            formats=tuple(data.pop("formats")),
            **data,
        )


def load_payload(raw) -> InvoicePayload:
    """Validate a decoded JSON body; raises marshmallow.ValidationError with nested messages."""
    if not isinstance(raw, dict):
        raise ValidationError({"_schema": ["The body must be a JSON object."]})
    return DocumentPayloadSchema().load(raw)


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as API.md's `errors`: {"lines.2.vat_rate": [...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            for p, msgs in flatten_errors(value, path).items():
                out.setdefault(p or "$", []).extend(msgs)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "$"] = list(messages)
    elif isinstance(messages, list):
        for m in messages:
            for p, msgs in flatten_errors(m, prefix).items():
                out.setdefault(p, []).extend(msgs)
    else:
        out[prefix or "$"] = [str(messages)]
    return out
