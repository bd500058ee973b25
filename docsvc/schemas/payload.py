"""The request payload of POST /v1/documents, loaded into billing dataclasses.

Every rule a field can check on its own lives on the field; the shape across fields of one
object in `@validates_schema`. The rules of the document (which parts each type takes, the
cycle, progress, the due date) are billing's, checked after loading like the legal mentions:
billing/rules.py, billing/mentions.py.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from ..billing.cycle_model import (
    DepositRequest,
    PreviousInvoice,
    ProgressEntry,
    Quote,
    Retention,
    ScheduleRequest,
    VatPart,
)
from ..billing.model import (
    VAT_CATEGORIES,
    Address,
    AllowanceCharge,
    Discount,
    DocumentType,
    EarlyPaymentDiscount,
    InvoicePayload,
    InvoiceReference,
    Line,
    LineAllowanceCharge,
    Party,
    PaymentReceived,
    PaymentTerms,
    Settlement,
    TemplateRef,
    VatCurrency,
)
from ..billing.money import ZERO, round_money
from ..billing.vat import category_problem
from ..naming import SEMVER, TEMPLATE_NAME
from .codes import (
    VAT_ID_FORMAT,
    bic_ok,
    codelists,
    currency_places,
    french_vat_id,
    iban_ok,
    reason_codes,
    siren_ok,
    siret_ok,
    vat_id_problem,
)
from .fields import PRICE_MAX, QUANTITY_MAX, Amount, Text

ALL_TYPES = tuple(t.value for t in DocumentType)
FORMATS = ("pdf", "docx", "facturx")
PAYMENT_MEANS = ("transfer", "card", "cheque", "direct_debit", "cash", "other")


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
    lines = fields.List(Text(max_length=100, free_text=True), required=True, validate=validate.Length(min=1, max=4),
                        metadata={"description": "Street lines, 1 to 4."})
    postcode = Text(max_length=16, required=True)
    city = Text(max_length=100, required=True)
    country = fields.String(load_default="FR", validate=_in_list("countries", "ISO 3166-1 country"),
                            metadata={"description": "ISO 3166-1 alpha-2, default FR."})

    @post_load
    def make(self, data, **kwargs):
        return Address(lines=tuple(data["lines"]), postcode=data["postcode"], city=data["city"],
                       country=data["country"])


#: The dates a payload may carry: a due date, a retention's release or the archive's retention
#: (issue date + DOCSVC_RETENTION_YEARS) computed from a date of year 9999 was past the calendar
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2099, 12, 31)


class Day(fields.Date):
    """An ISO date between 1900 and 2099."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(f"A date between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}.")
        return day


#: progress entries: a quote line each, and no quote has more lines than DOCSVC_MAX_LINES' ceiling
MAX_PROGRESS = 100_000


class Whole(validate.Regexp):
    """A pattern the whole value must match: marshmallow's Regexp uses re.match, where "$" also
    matches before a final newline, so "F-1\n" passed as a number and became a second original."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class PartySchema(Base):
    name = Text(max_length=200, required=True)
    siren = fields.String(validate=lambda v: siren_ok(v) or _fail("Not a valid SIREN (9 digits, Luhn key)."))
    siret = fields.String(validate=lambda v: siret_ok(v) or _fail("Not a valid SIRET (14 digits, Luhn key)."))
    vat_id = fields.String(validate=Whole(rf"^{VAT_ID_FORMAT.pattern}$",  # vat_id_problem's format too
                                          error="Not a VAT number (country prefix and 2 to 14 characters)."))
    legal_form = Text(max_length=60)
    share_capital = Amount(max_places=2, validate=validate.Range(min=0, min_inclusive=False, error=(
        "A company's share capital is more than 0 (1 EUR at least for a SARL or an SAS); a sole trader gives none.")))
    registration = Text(max_length=120, metadata={"description": "Trade register, e.g. 'RCS Lyon'."})
    kind = fields.String(load_default="business", validate=validate.OneOf(("business", "consumer")),
                         metadata={"description": "business (B2B mentions apply) or consumer."})
    email = fields.Email(validate=validate.Length(max=254))  # RFC 5321's longest address
    phone = Text(max_length=40)
    address = fields.Nested(AddressSchema, required=True)
    delivery_address = fields.Nested(AddressSchema)

    @validates_schema
    def identifiers_agree(self, data, **kwargs):
        siren, siret, vat_id = data.get("siren"), data.get("siret"), data.get("vat_id")
        errors = {}
        if siren and siret and not siret.startswith(siren):
            errors["siret"] = ["The SIRET must start with the SIREN."]
        if siren and vat_id and vat_id.startswith("FR") and vat_id != french_vat_id(siren):
            errors["vat_id"] = [f"Does not match the SIREN: expected {french_vat_id(siren)}."]
        elif vat_id and (problem := vat_id_problem(vat_id)):
            errors["vat_id"] = [problem]
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data, **kwargs):
        return Party(**data)


class SellerSchema(PartySchema):
    tax_registration_id = Text(max_length=50, metadata={"description": (
        "The seller's tax registration identifier (EN 16931 BT-32), in the Factur-X beside or instead "
        "of the VAT number: a seller without one (franchise en base, art. 293 B) gives it for a Factur-X.")})


def _fail(message: str):
    raise ValidationError(message)


class PercentOrAmount(Base):
    """A share given either as a percent or as a fixed amount, never both."""

    percent = Amount(max_places=4, validate=validate.Range(min=0, max=100, min_inclusive=False))
    amount = Amount(max_places=2, validate=validate.Range(min=0, min_inclusive=False))

    @validates_schema
    def exactly_one(self, data, **kwargs):
        if ("percent" in data) == ("amount" in data):
            raise ValidationError("Give either percent or amount.", "_schema")


class DiscountSchema(PercentOrAmount):
    @post_load
    def make(self, data, **kwargs):
        return Discount(**data)


def _reason_code(kind: str):
    lists = {"allowance": "UNTDID 5189 allowance reason", "charge": "UNTDID 7161 charge reason"}

    def check(value: str) -> None:
        if value not in reason_codes()[kind]:
            raise ValidationError(f"Unknown {lists[kind]} code {value!r}.")
    return check


def _line_part(kind: str) -> type[Base]:
    """A line allowance (BG-27) or charge (BG-28). Which of amount and percent is given, and
    the reason, are checked with the whole document (billing/rules.py)."""

    class LinePart(Base):
        amount = Amount(max_places=2, validate=validate.Range(min=0), metadata={
            "description": f"the {kind} amount (BT-136 / BT-141)"})
        percent = Amount(max_places=4, validate=validate.Range(min=0, max=100), metadata={
            "description": "a percent of the line's quantity x price (BT-138 / BT-143)"})
        reason = Text(max_length=300, free_text=True, metadata={"description": "BT-139 / BT-144"})
        reason_code = fields.String(validate=_reason_code(kind), metadata={
            "description": "UNTDID 5189 (allowance) / 7161 (charge) code (BT-140 / BT-145)"})

        @post_load
        def make(self, data, **kwargs):
            return LineAllowanceCharge(**data)

    LinePart.__name__ = LinePart.__qualname__ = f"Line{kind.title()}Schema"
    return LinePart


def _document_part(kind: str) -> type[Base]:
    """A document-level allowance (BG-20) or charge (BG-21), in the VAT base of its category
    and rate. Which of amount and percent (with base) is given, the reason and the VAT category
    are checked with the whole document (billing/rules.py)."""

    class DocumentPart(Base):
        amount = Amount(max_places=2, validate=validate.Range(min=0), metadata={
            "description": f"the {kind} amount (BT-92 / BT-99)"})
        # 0 % of 0.00 is a valid (if idle) allowance: the XRechnung test suite has them (02.01a)
        percent = Amount(max_places=4, validate=validate.Range(min=0, max=100), metadata={
            "description": "a percent (BT-94 / BT-101) of base"})
        base = Amount(max_places=2, validate=validate.Range(min=0), metadata={
            "description": "the amount the percent applies to (BT-93 / BT-100)"})
        reason = Text(max_length=300, free_text=True, metadata={"description": "BT-97 / BT-104"})
        reason_code = fields.String(validate=_reason_code(kind), metadata={
            "description": "UNTDID 5189 (allowance) / 7161 (charge) code (BT-98 / BT-105)"})
        vat_category = fields.String(load_default="S", validate=validate.OneOf(VAT_CATEGORIES))
        vat_rate = Amount(max_places=2, required=True, validate=validate.Range(min=0, max=100))
        vat_exemption_reason = Text(max_length=300, free_text=True)

        @post_load
        def make(self, data, **kwargs):
            return AllowanceCharge(**data)

    DocumentPart.__name__ = DocumentPart.__qualname__ = f"Document{kind.title()}Schema"
    return DocumentPart


LineAllowanceSchema, LineChargeSchema = _line_part("allowance"), _line_part("charge")
AllowanceSchema, ChargeSchema = _document_part("allowance"), _document_part("charge")


class VatCurrencySchema(Base):
    code = fields.String(required=True, validate=_in_list("currencies", "ISO 4217 currency"),
                         metadata={"description": "the VAT accounting currency (BT-6), EUR for a French seller"})
    rate = Amount(max_places=10, max_abs=Decimal("1e6"), required=True,
                  validate=validate.Range(min=0, min_inclusive=False),
                  metadata={"description": "1 unit of the invoice currency in the VAT currency"})

    @post_load
    def make(self, data, **kwargs):
        return VatCurrency(**data)


class LineSchema(Base):
    id = Text(max_length=40, metadata={"description": "Defaults to the line's position, from 1."})
    description = Text(max_length=1000, required=True, free_text=True)
    quantity = Amount(max_places=4, max_abs=QUANTITY_MAX, required=True,
                      validate=lambda q: q != 0 or _fail("Must not be zero."))
    unit = fields.String(load_default="C62", validate=_in_list("units", "UN/ECE Rec. 20 unit"),
                         metadata={"description": "UN/ECE Rec. 20 code: C62 (unit), HUR, DAY, MTK, KGM..."})
    unit_price = Amount(max_places=6, max_abs=PRICE_MAX, validate=validate.Range(
        min=0, error="A unit price can't be negative (EN 16931 BR-27): use a negative quantity."),
        metadata={"description": "The net price (BT-146), up to 6 decimals; or gross_price with price_discount."})
    gross_price = Amount(max_places=6, max_abs=PRICE_MAX, validate=validate.Range(
        min=0, error="A gross price can't be negative (EN 16931 BR-28)."),
        metadata={"description": "The item gross price (BT-148), instead of unit_price."})
    price_discount = Amount(max_places=6, max_abs=PRICE_MAX, validate=validate.Range(min=0), metadata={
        "description": "The item price discount (BT-147): unit price = gross_price - price_discount."})
    base_quantity = Amount(max_places=4, max_abs=QUANTITY_MAX, validate=validate.Range(min=0, min_inclusive=False),
                           metadata={"description": "The quantity the prices are for (BT-149), default 1: "
                                                    "net = quantity x unit_price / base_quantity."})
    discount = fields.Nested(DiscountSchema, metadata={"description": "Shorthand for one line allowance."})
    allowances = fields.List(fields.Nested(LineAllowanceSchema), validate=validate.Length(max=20),
                             metadata={"description": "Line allowances (BG-27)."})
    charges = fields.List(fields.Nested(LineChargeSchema), validate=validate.Length(max=20),
                          metadata={"description": "Line charges (BG-28)."})
    vat_rate = Amount(max_places=2, required=True, validate=validate.Range(min=0, max=100))
    vat_category = fields.String(load_default="S", validate=validate.OneOf(VAT_CATEGORIES),
                                 metadata={"description": "UNCL 5305: S, Z, E, AE, K, G, O."})
    vat_exemption_reason = Text(max_length=300, free_text=True)

    @validates_schema(skip_on_field_errors=False)
    def vat_is_coherent(self, data, **kwargs):
        rate, category = data.get("vat_rate"), data.get("vat_category", "S")
        if rate is None or category not in VAT_CATEGORIES:
            return
        problem = category_problem(rate, category, data.get("vat_exemption_reason"))
        if problem is not None:
            field, message = problem
            raise ValidationError(message, field)

    @validates_schema
    def discount_within_gross(self, data, **kwargs):
        discount, q, price = data.get("discount"), data.get("quantity"), data.get("unit_price")
        if discount and discount.amount is not None and q is not None and price is not None:
            if discount.amount > abs(round_money(q * price / data.get("base_quantity", 1))):
                raise ValidationError({"discount": {"amount": ["Greater than the line's gross amount."]}})

    @post_load
    def make(self, data, **kwargs):
        for name in ("allowances", "charges"):
            if name in data:
                data[name] = tuple(data[name])
        data.setdefault("unit_price", None)  # gross_price instead: billing/rules.py checks one is given
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
    bic = fields.String(validate=lambda v: bic_ok(v) or _fail("Not a valid BIC (ISO 9362: bank, country, "
                                                                 "location, branch)."))
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
    date = Day(required=True)
    amount = Amount(max_places=2, required=True, validate=validate.Range(min=0, min_inclusive=False))
    means = fields.String(validate=validate.OneOf(PAYMENT_MEANS))
    reference = Text(max_length=100)

    @post_load
    def make(self, data, **kwargs):
        return PaymentReceived(**data)


class InvoiceReferenceSchema(Base):
    number = Text(max_length=35, required=True)
    issue_date = Day(required=True)
    type = fields.String(validate=validate.OneOf(ALL_TYPES[:-1]),
                         metadata={"description": "The corrected document's type (a credit on a deposit...)."})

    @post_load
    def make(self, data, **kwargs):
        return InvoiceReference(**data)


def _make_lines(lines: list[dict]) -> tuple[Line, ...]:
    """Line ids default to positions from 1, so progress can name quote lines."""
    return tuple(Line(id=line.pop("id", None) or str(i), **line) for i, line in enumerate(lines, start=1))


class QuoteSchema(Base):
    number = Text(max_length=35, required=True)
    date = Day(required=True)
    lines = fields.List(fields.Nested(LineSchema), required=True, validate=validate.Length(min=1))

    @post_load
    def make(self, data, **kwargs):
        return Quote(data["number"], data["date"], _make_lines(data["lines"]))


class DepositSchema(PercentOrAmount):
    basis = fields.String(load_default="gross", validate=validate.OneOf(("gross", "net")),
                          metadata={"description": "A fixed amount includes VAT (gross) or not (net)."})

    @post_load
    def make(self, data, **kwargs):
        return DepositRequest(**data)


class ProgressEntrySchema(Base):
    line = Text(max_length=40, required=True, metadata={"description": "The quote line's id (or position)."})
    percent = Amount(max_places=4, validate=validate.Range(min=0, max=100))
    quantity = Amount(max_places=4, max_abs=QUANTITY_MAX, validate=validate.Range(min=0))
    previous_percent = Amount(max_places=4, validate=validate.Range(min=0, max=100))
    previous_quantity = Amount(max_places=4, max_abs=QUANTITY_MAX, validate=validate.Range(min=0))

    @validates_schema
    def one_way(self, data, **kwargs):
        if ("percent" in data) == ("quantity" in data):
            raise ValidationError("Give either percent or quantity.", "_schema")
        if "previous_percent" in data and "previous_quantity" in data:
            raise ValidationError("Give either previous_percent or previous_quantity.", "_schema")

    @post_load
    def make(self, data, **kwargs):
        return ProgressEntry(**data)


class VatPartSchema(Base):
    rate = Amount(max_places=2, required=True, validate=validate.Range(min=0, max=100))
    base = Amount(max_places=2, required=True)
    amount = Amount(max_places=2, required=True)
    category = fields.String(load_default="S", validate=validate.OneOf(VAT_CATEGORIES))

    @post_load
    def make(self, data, **kwargs):
        return VatPart(**data)


class PreviousInvoiceSchema(Base):
    type = fields.String(required=True, validate=validate.OneOf(("deposit_invoice", "progress_invoice",
                                                                  "credit_note")),
                         metadata={"description": "credit_note: a credit note on one of the listed invoices; "
                                                  "its figures are positive, as on the credit note itself, and "
                                                  "are netted from what was already billed."})
    number = Text(max_length=35, required=True)
    issue_date = Day(required=True)
    net_total = Amount(max_places=2, required=True)
    vat = fields.List(fields.Nested(VatPartSchema), required=True, validate=validate.Length(min=1, max=20))
    gross_total = Amount(max_places=2, required=True)
    corrects = fields.Nested(InvoiceReferenceSchema, metadata={
        "description": "credit_note: the invoice of the cycle it corrects (listed in previous_invoices too)."})
    retention = Amount(max_places=2, validate=validate.Range(min=0), metadata={
        "description": "progress_invoice: the retention guarantee it withheld (its totals.retention_total); "
                       "left out, read from its original when this archive holds it."})
    retention_release_date = Day(metadata={"description": "progress_invoice: when that retention is released."})

    @validates_schema
    def credit_names_its_invoice(self, data, **kwargs):
        kind = data.get("type")
        if kind == "credit_note" and "corrects" not in data:
            raise ValidationError("A credit note must say which invoice it corrects (number, issue_date).",
                                  "corrects")
        if kind and kind != "credit_note" and "corrects" in data:
            raise ValidationError("Only a credit note corrects an invoice.", "corrects")
        if kind and kind != "progress_invoice" and ("retention" in data or "retention_release_date" in data):
            raise ValidationError("Only a progress invoice withholds a retention.", "retention")

    @validates_schema
    def adds_up(self, data, **kwargs):
        parts = data.get("vat")
        if parts is None or "net_total" not in data or "gross_total" not in data:
            return
        net = sum((p.base for p in parts), ZERO)
        vat = sum((p.amount for p in parts), ZERO)
        if net != data["net_total"]:
            raise ValidationError(f"The VAT bases add up to {net}, not {data['net_total']}.", "net_total")
        if net + vat != data["gross_total"]:
            raise ValidationError(f"Net {net} + VAT {vat} = {net + vat}, not {data['gross_total']}.", "gross_total")

    @post_load
    def make(self, data, **kwargs):
        data["vat"] = tuple(data["vat"])
        return PreviousInvoice(**data)


class RetentionSchema(Base):
    percent = Amount(max_places=2, required=True, validate=validate.Range(
        min=0, max=5, min_inclusive=False, error="A retention guarantee is at most 5 % (loi 71-584)."))
    base = fields.String(load_default="works_gross", validate=validate.OneOf(("works_gross", "works_net")))
    release_date = Day(metadata={"description": "Acceptance of the works + 1 year."})

    @post_load
    def make(self, data, **kwargs):
        return Retention(**data)


class ScheduleSchema(Base):
    installments = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=120))
    first_due_date = Day(required=True)
    period = fields.String(load_default="month", validate=validate.OneOf(("month", "quarter")))
    end_of_month = fields.Boolean(load_default=False)

    @post_load
    def make(self, data, **kwargs):
        return ScheduleRequest(**data)


class SettlementSchema(Base):
    method = fields.String(required=True, validate=validate.OneOf(("deduction", "refund")), metadata={
        "description": "deduction: taken off the buyer's next payment; refund: paid back to the buyer."})
    means = fields.String(validate=validate.OneOf(PAYMENT_MEANS),
                          metadata={"description": "refund: how it is paid back (transfer, cheque...)."})
    date = Day(metadata={"description": "When it is refunded or deducted."})

    @post_load
    def make(self, data, **kwargs):
        return Settlement(**data)


class TemplateRefSchema(Base):
    name = fields.String(load_default="classic", validate=Whole(rf"^{TEMPLATE_NAME.pattern}$"))
    version = fields.String(validate=Whole(rf"^{SEMVER.pattern}$", error="A semantic version, e.g. 1.0.0."))

    @post_load
    def make(self, data, **kwargs):
        return TemplateRef(**data)


class DocumentPayloadSchema(Base):
    """POST /v1/documents and /v1/documents/validate."""

    type = fields.String(required=True, validate=validate.OneOf(ALL_TYPES))
    number = fields.String(required=True, validate=Whole(
        r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,34}$",
        error="1 to 35 letters, digits and - _ . /, starting with a letter or digit."),
        metadata={"description": "The seller's invoice number, unique per seller."})
    issue_date = Day(required=True)
    due_date = Day()
    delivery_date = Day(metadata={"description": "Date of the sale or service; the issue date when absent."})
    currency = fields.String(load_default="EUR", validate=_in_list("currencies", "ISO 4217 currency"))
    language = fields.String(load_default="fr", validate=validate.OneOf(("fr", "en")))
    template = fields.Nested(TemplateRefSchema, load_default=lambda: TemplateRef())
    formats = fields.List(fields.String(validate=validate.OneOf(FORMATS)),
                          load_default=lambda: ["pdf"], validate=validate.Length(min=1))
    seller = fields.Nested(SellerSchema, required=True)
    buyer = fields.Nested(PartySchema, required=True)
    operation = fields.String(validate=validate.OneOf(("goods", "services", "mixed")))
    vat_on_debits = fields.Boolean(load_default=False, metadata={
        "description": "Seller opted to pay VAT on debits: printed as a mention."})
    lines = fields.List(fields.Nested(LineSchema), validate=validate.Length(min=1), metadata={
        "description": "Required for invoice and credit_note; the cycle types bill from the quote."})
    payment = fields.Nested(PaymentTermsSchema, load_default=lambda: PaymentTerms())
    payments = fields.List(fields.Nested(PaymentReceivedSchema), load_default=list, validate=validate.Length(max=100))
    corrects = fields.Nested(InvoiceReferenceSchema,
                             metadata={"description": "credit_note: the invoice it corrects."})
    buyer_reference = Text(max_length=100)
    order_reference = Text(max_length=100)
    notes = fields.List(Text(max_length=1000, free_text=True), load_default=list, validate=validate.Length(max=20))
    quote = fields.Nested(QuoteSchema, metadata={"description": "deposit, progress and final invoices"})
    deposit = fields.Nested(DepositSchema)
    deposit_layout = fields.String(load_default="summary", validate=validate.OneOf(("summary", "detailed")))
    progress = fields.List(fields.Nested(ProgressEntrySchema), load_default=list,
                           validate=validate.Length(max=MAX_PROGRESS))  # one per quote line at most
    previous_invoices = fields.List(fields.Nested(PreviousInvoiceSchema), load_default=list,
                                    validate=validate.Length(max=500),
                                    metadata={"description": "Deposits and situations already billed on the quote."})
    deposit_deduction = fields.String(load_default="progressive", validate=validate.OneOf(("full", "progressive")))
    retention = fields.Nested(RetentionSchema)
    schedule = fields.Nested(ScheduleSchema, metadata={
        "description": "The due dates: the document's due date is the first instalment's; a due_date or "
                       "payment.terms_days that says otherwise is a 422."})
    settlement = fields.Nested(SettlementSchema, metadata={
        "description": "credit_note: how the credit is settled (deducted from the next payment, or refunded)."})
    allowances = fields.List(fields.Nested(AllowanceSchema), load_default=list, validate=validate.Length(max=100),
                             metadata={"description": "Document-level allowances (BG-20): remise globale..."})
    charges = fields.List(fields.Nested(ChargeSchema), load_default=list, validate=validate.Length(max=100),
                          metadata={"description": "Document-level charges (BG-21): frais de port..."})
    rounding_amount = Amount(max_places=2, metadata={
        "description": "BT-114, added to the amount due (cash rounding)."})
    vat_currency = fields.Nested(VatCurrencySchema, metadata={
        "description": "The VAT accounting currency (BT-6) and its rate: BT-111 = round(rate x VAT total)."})

    @validates_schema
    def well_formed(self, data, **kwargs):
        """The payload's own shape across fields; the rules of the document itself (which
        parts each type takes, the cycle, the due date) are billing's: billing/rules.py."""
        errors: dict = {}
        if len(set(data.get("formats", ()))) != len(data.get("formats", ())):
            errors["formats"] = ["Each format once."]
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
        lines = _make_lines(data.pop("lines")) if "lines" in data else ()
        return InvoicePayload(
            type=DocumentType(data.pop("type")),
            lines=lines,
            payments=tuple(data.pop("payments")),
            notes=tuple(data.pop("notes")),
            formats=tuple(data.pop("formats")),
            progress=tuple(data.pop("progress")),
            previous_invoices=tuple(data.pop("previous_invoices")),
            allowances=tuple(data.pop("allowances")),
            charges=tuple(data.pop("charges")),
            **data,
        )


@cache
def payload_schema(max_lines: int | None = None) -> type[DocumentPayloadSchema]:
    """The payload schema with the line limit in force (DOCSVC_MAX_LINES, from the settings: the
    schema keeps no limit of its own), for `lines` and `quote.lines`; None: no limit (offline tools).
    The OpenAPI document is built from the same class, so it shows the limit in force."""
    if max_lines is None:
        return DocumentPayloadSchema
    bounded = validate.Length(min=1, max=max_lines)
    quote = type("QuoteSchema", (QuoteSchema,), {
        "lines": fields.List(fields.Nested(LineSchema), required=True, validate=bounded)})
    return type("DocumentPayloadSchema", (DocumentPayloadSchema,), {
        "lines": fields.List(fields.Nested(LineSchema), validate=bounded,
                             metadata=DocumentPayloadSchema._declared_fields["lines"].metadata),
        "quote": fields.Nested(quote, metadata=DocumentPayloadSchema._declared_fields["quote"].metadata)})


def load_payload(raw, max_lines: int | None = None) -> InvoicePayload:
    """Validate a decoded JSON body; raises marshmallow.ValidationError with nested messages.
    `max_lines` is the setting in force; None (offline tools, tests) bounds nothing."""
    if not isinstance(raw, dict):
        raise ValidationError({"_schema": ["The body must be a JSON object."]})
    return payload_schema(max_lines)().load(raw)


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
