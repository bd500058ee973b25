"""Response bodies, dumped through these schemas so the OpenAPI document cannot drift.

`DocumentSchema` describes the enriched model exactly as templates receive it; the
designer guide's render-context reference is generated from it.
"""
from __future__ import annotations

from marshmallow import Schema, fields

Money = lambda **kw: fields.Decimal(as_string=True, **kw)  # noqa: E731 - one spelling everywhere


class Day(fields.Date):
    """A date dumped as ISO 8601, whether it comes from the model or from an archived resource."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


class AddressOut(Schema):
    lines = fields.List(fields.String())
    postcode = fields.String()
    city = fields.String()
    country = fields.String()


class PartyOut(Schema):
    name = fields.String()
    siren = fields.String(allow_none=True)
    siret = fields.String(allow_none=True)
    vat_id = fields.String(allow_none=True)
    legal_form = fields.String(allow_none=True)
    share_capital = Money(allow_none=True)
    registration = fields.String(allow_none=True)
    tax_registration_id = fields.String(allow_none=True, metadata={"description": "BT-32, the seller's"})
    kind = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.Nested(AddressOut)
    delivery_address = fields.Nested(AddressOut, allow_none=True)


class LineAllowanceChargeOut(Schema):
    reason = fields.String(allow_none=True, metadata={"description": "BT-139 / BT-144"})
    reason_code = fields.String(allow_none=True, metadata={"description": "UNTDID 5189 / 7161 (BT-140 / BT-145)"})
    percent = Money(allow_none=True, metadata={"description": "BT-138 / BT-143"})
    base = Money(allow_none=True, metadata={"description": "the line's quantity x price, for a percent"})
    amount = Money(metadata={"description": "BT-136 / BT-141, to the cent"})


class AllowanceChargeOut(Schema):
    reason = fields.String(allow_none=True, metadata={"description": "BT-97 / BT-104"})
    reason_code = fields.String(allow_none=True, metadata={"description": "UNTDID 5189 / 7161 (BT-98 / BT-105)"})
    percent = Money(allow_none=True, metadata={"description": "BT-94 / BT-101"})
    base = Money(allow_none=True, metadata={"description": "BT-93 / BT-100"})
    amount = Money(metadata={"description": "BT-92 / BT-99, to the cent"})
    vat_category = fields.String()
    vat_rate = Money()
    vat_exemption_reason = fields.String(allow_none=True)


class VatCurrencyTotalOut(Schema):
    code = fields.String(metadata={"description": "the VAT accounting currency (BT-6)"})
    rate = Money(metadata={"description": "1 unit of the invoice currency in that currency"})
    vat_total = Money(metadata={"description": "BT-111 = round(rate x totals.vat_total)"})


class PricedLineOut(Schema):
    id = fields.String()
    description = fields.String()
    quantity = Money()
    unit = fields.String(metadata={"description": "UN/ECE Rec. 20 code"})
    unit_price = Money(metadata={"description": "the net price (BT-146), per base_quantity"})
    gross = Money(metadata={"description": "round(quantity x unit_price / base_quantity)"})
    discount_percent = Money(allow_none=True, metadata={"description": "the percent of the line's one allowance"})
    discount_amount = Money(metadata={"description": "every line allowance (BT-136), discount included"})
    net = Money(metadata={"description": "gross - discount_amount + charge_amount (BT-131)"})
    vat_category = fields.String()
    vat_rate = Money()
    vat_exemption_reason = fields.String(allow_none=True)
    exemption_mark = fields.Integer(allow_none=True, metadata={"description": "its wording's mark in exemptions"})
    gross_price = Money(allow_none=True, metadata={"description": "BT-148, when given"})
    price_discount = Money(allow_none=True, metadata={"description": "BT-147, when given"})
    base_quantity = Money(metadata={"description": "BT-149: the quantity the prices are for (1, 100...)"})
    allowances = fields.List(fields.Nested(LineAllowanceChargeOut), metadata={"description": "BG-27"})
    charges = fields.List(fields.Nested(LineAllowanceChargeOut), metadata={"description": "BG-28"})
    charge_amount = Money(metadata={"description": "every line charge (BT-141)"})


class VatRowOut(Schema):
    category = fields.String()
    rate = Money()
    base = Money()
    amount = Money()
    exemption_reason = fields.String(allow_none=True)
    exemption_mark = fields.Integer(allow_none=True, metadata={"description": "its wording's mark in exemptions"})


class ExemptionOut(Schema):
    mark = fields.Integer(metadata={"description": "1, 2...: the reference printed beside the category"})
    category = fields.String(metadata={"description": "UNCL 5305: E, AE, K, G, O, Z"})
    reason = fields.String(metadata={"description": "the exemption wording, as given"})


class SettlementOut(Schema):
    method = fields.String(metadata={"description": "deduction | refund"})
    means = fields.String(allow_none=True)
    date = Day(allow_none=True)


class TotalsOut(Schema):
    net_total = Money(metadata={"description": "BT-109 = line_total - allowance_total + charge_total"})
    vat_total = Money(metadata={"description": "BT-110"})
    gross_total = Money(metadata={"description": "BT-112"})
    prepaid_total = Money(metadata={"description": "BT-113"})
    retention_total = Money()
    amount_due = Money(metadata={"description": "BT-115 = gross - prepaid + rounding, less the retention"})
    line_total = Money(metadata={"description": "BT-106: sum of line nets"})
    allowance_total = Money(metadata={"description": "BT-107: document-level allowances"})
    charge_total = Money(metadata={"description": "BT-108: document-level charges"})
    rounding_amount = Money(metadata={"description": "BT-114"})


class TotalsWithBreakdownOut(TotalsOut):
    vat_breakdown = fields.List(fields.Nested(VatRowOut))


class EarlyPaymentDiscountOut(Schema):
    percent = Money()
    days = fields.Integer()


class PaymentTermsOut(Schema):
    terms_days = fields.Integer(allow_none=True)
    means = fields.String(allow_none=True)
    iban = fields.String(allow_none=True)
    bic = fields.String(allow_none=True)
    late_penalty_rate = Money(allow_none=True)
    recovery_indemnity = Money(allow_none=True)
    early_payment_discount = fields.Nested(EarlyPaymentDiscountOut, allow_none=True)


class PaymentReceivedOut(Schema):
    date = Day()
    amount = Money()
    means = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)


class InvoiceReferenceOut(Schema):
    number = fields.String()
    issue_date = Day()
    type = fields.String(allow_none=True)


class MentionOut(Schema):
    code = fields.String(metadata={"description": "e.g. late_penalty, recovery_indemnity, vat_exemption"})
    values = fields.Dict(metadata={"description": "the figures the mention quotes"})


class RateAmountOut(Schema):
    category = fields.String()
    rate = Money()
    base = Money()
    vat = Money()
    gross = Money()


class VatPartOut(Schema):
    category = fields.String()
    rate = Money()
    base = Money()
    amount = Money()


class PreviousInvoiceOut(Schema):
    type = fields.String(metadata={"description": "deposit_invoice | progress_invoice | credit_note"})
    number = fields.String()
    issue_date = Day()
    net_total = Money()
    vat = fields.List(fields.Nested(VatPartOut))
    gross_total = Money()
    corrects = fields.Nested(InvoiceReferenceOut, allow_none=True,
                             metadata={"description": "credit_note: the invoice it corrects"})
    retention = Money(allow_none=True, metadata={"description": "progress_invoice: retention it withheld"})
    retention_release_date = Day(allow_none=True)


class QuoteSummaryOut(Schema):
    number = fields.String()
    date = Day()
    lines = fields.List(fields.Nested(PricedLineOut))
    per_rate = fields.List(fields.Nested(RateAmountOut))
    net_total = Money()
    vat_total = Money()
    gross_total = Money()


class DepositRecapOut(Schema):
    quote_number = fields.String()
    quote_date = Day()
    percent = Money(allow_none=True, metadata={"description": "share of the quote's gross"})
    amount = Money(metadata={"description": "gross of this deposit"})
    basis = fields.String(metadata={"description": "percent | gross | net"})
    per_rate = fields.List(fields.Nested(RateAmountOut))
    quote_totals = fields.List(fields.Nested(RateAmountOut))
    previous_deposits = fields.List(fields.Nested(PreviousInvoiceOut))
    deposits_total = Money(metadata={"description": "gross of every deposit of the quote, this one included"})
    net = Money(metadata={"description": "net of this deposit"})
    percent_is_equivalent = fields.Boolean(metadata={
        "description": "true for a fixed amount: percent is then its share of the quote's gross"})
    deposits_net = Money(metadata={"description": "net of every deposit of the quote, this one included"})
    remaining_net = Money(metadata={"description": "left to invoice on the quote after this deposit, net"})
    remaining_gross = Money(metadata={"description": "left to invoice on the quote after this deposit, gross"})
    received_date = Day(allow_none=True, metadata={"description": "latest payment received (payments)"})


class ProgressRowOut(Schema):
    line_id = fields.String()
    description = fields.String()
    vat_rate = Money()
    vat_category = fields.String()
    quote_amount = Money()
    previous_percent = Money()
    cumulative_percent = Money()
    cumulative_amount = Money()
    previous_amount = Money()
    this_amount = Money()


class DeductionOut(Schema):
    category = fields.String()
    rate = Money()
    deposit_base = Money()
    previously_deducted = Money()
    amount = Money()
    remaining = Money()
    deposits = fields.List(fields.Nested(lambda: DepositShareOut()), metadata={
        "description": "the deposit invoices (and credit notes on them) deposit_base is made of"})


class DepositShareOut(Schema):
    type = fields.String(metadata={"description": "deposit_invoice | credit_note"})
    number = fields.String()
    issue_date = Day()
    base = Money(metadata={"description": "its base at this rate; negative for a credit note"})


class ProgressRecapOut(Schema):
    situation_number = fields.Integer()
    contract_net = Money()
    cumulative_works = Money()
    previous_works = Money()
    this_works = Money()
    previous_situations = fields.List(fields.Nested(PreviousInvoiceOut))
    previous_deposits = fields.List(fields.Nested(PreviousInvoiceOut))
    rows = fields.List(fields.Nested(ProgressRowOut))
    deductions = fields.List(fields.Nested(DeductionOut))
    deposit_deduction = fields.String()
    credit_notes = fields.List(fields.Nested(PreviousInvoiceOut),
                               metadata={"description": "credit notes on earlier invoices of the quote"})
    billed = fields.List(fields.Nested(RateAmountOut), metadata={
        "description": "already billed per quote rate: deposits + situations - credit notes"})
    deducted_total = Money(metadata={"description": "deposits deducted now, every rate: this_works - deducted_total "
                                                    "= totals.net_total"})


class RetentionOut(Schema):
    percent = Money()
    base_kind = fields.String()
    base = Money()
    amount = Money()
    cumulative = Money(metadata={"description": "percent of cumulative_base: every situation's, this one included"})
    release_date = Day(allow_none=True)
    cumulative_base = Money(metadata={"description": "the works of every situation to this one"})
    withheld_before = Money(metadata={"description": "what the earlier situations withheld: cumulative - amount"})
    caught_up = Money(metadata={"description": "what the earlier situations withheld less than the percent of their "
                                               "works (their deposits covered them), withheld now"})


class FinalRecapOut(Schema):
    quote_number = fields.String()
    quote_date = Day()
    quote_totals = fields.List(fields.Nested(RateAmountOut))
    previous = fields.List(fields.Nested(PreviousInvoiceOut))
    billed = fields.List(fields.Nested(RateAmountOut), metadata={
        "description": "already billed per quote rate, credit notes netted"})
    remaining = fields.List(fields.Nested(RateAmountOut))
    credit_notes = fields.List(fields.Nested(PreviousInvoiceOut),
                               metadata={"description": "credit notes on earlier invoices of the quote"})
    billed_net = Money(metadata={"description": "total row of the recap: already billed, net"})
    billed_vat = Money()
    billed_gross = Money()
    retentions = fields.List(fields.Nested(lambda: RetentionHeldOut()), metadata={
        "description": "retention withheld by each earlier situation (previous_invoices[].retention)"})
    retention_total = Money(metadata={"description": "retention withheld over the cycle, still owed"})
    retention_release_date = Day(allow_none=True, metadata={"description": "the latest release date given"})
    vat_by_difference = fields.List(fields.Nested(lambda: VatByDifferenceOut()), metadata={
        "description": "rates whose remaining VAT (by difference) is not round(base x rate)"})


class RetentionHeldOut(Schema):
    number = fields.String()
    issue_date = Day()
    amount = Money()
    release_date = Day(allow_none=True)


class VatByDifferenceOut(Schema):
    category = fields.String()
    rate = Money()
    base = Money()
    vat = Money(metadata={"description": "billed: the quote's VAT minus the VAT already billed"})
    computed = Money(metadata={"description": "round(base x rate)"})


class InstallmentOut(Schema):
    number = fields.Integer()
    due_date = Day()
    amount = Money()
    kind = fields.String(metadata={"description": "installment | retention"})


class DocumentSchema(Schema):
    """The enriched model (`doc` in templates, `document` in responses)."""

    type = fields.String()
    type_code = fields.String(metadata={"description": "UNTDID 1001: 380, 381, 386"})
    number = fields.String()
    issue_date = Day()
    delivery_date = Day(allow_none=True)
    due_date = Day(allow_none=True)
    currency = fields.String()
    currency_places = fields.Integer()
    language = fields.String()
    operation = fields.String(allow_none=True)
    seller = fields.Nested(PartyOut)
    buyer = fields.Nested(PartyOut)
    lines = fields.List(fields.Nested(PricedLineOut))
    vat_breakdown = fields.List(fields.Nested(VatRowOut))
    totals = fields.Nested(TotalsOut)
    payment = fields.Nested(PaymentTermsOut)
    payments = fields.List(fields.Nested(PaymentReceivedOut))
    payment_status = fields.String(metadata={"description": "paid | partially_paid | unpaid"})
    corrects = fields.Nested(InvoiceReferenceOut, allow_none=True)
    buyer_reference = fields.String(allow_none=True)
    order_reference = fields.String(allow_none=True)
    vat_on_debits = fields.Boolean()
    notes = fields.List(fields.String())
    mentions = fields.List(fields.Nested(MentionOut))
    title_number = fields.Integer(allow_none=True, metadata={"description": "k of 'Facture de situation n° k'"})
    quote = fields.Nested(QuoteSummaryOut, allow_none=True)
    deposit = fields.Nested(DepositRecapOut, allow_none=True)
    deposit_layout = fields.String(allow_none=True)
    progress = fields.Nested(ProgressRecapOut, allow_none=True)
    retention = fields.Nested(RetentionOut, allow_none=True)
    final = fields.Nested(FinalRecapOut, allow_none=True)
    schedule = fields.List(fields.Nested(InstallmentOut))
    settlement = fields.Nested(SettlementOut, allow_none=True,
                               metadata={"description": "credit_note: how it is settled"})
    exemptions = fields.List(fields.Nested(ExemptionOut), metadata={
        "description": "VAT exemption wordings, numbered; lines and VAT rows refer to them by exemption_mark"})
    due_date_source = fields.String(allow_none=True, metadata={
        "description": "schedule (first instalment) | given | terms (issue date + terms_days); none on a credit note"})
    allowances = fields.List(fields.Nested(AllowanceChargeOut), metadata={
        "description": "document-level allowances (BG-20), in the VAT base of their category and rate"})
    charges = fields.List(fields.Nested(AllowanceChargeOut), metadata={
        "description": "document-level charges (BG-21), in the VAT base of their category and rate"})
    vat_currency = fields.Nested(VatCurrencyTotalOut, allow_none=True, metadata={
        "description": "the VAT total in the VAT accounting currency (BT-6, BT-111), when given"})


class TemplateOut(Schema):
    name = fields.String()
    version = fields.String()
    sha256 = fields.String()


class FileOut(Schema):
    format = fields.String(metadata={"description": "pdf | docx | facturx (PDF/A-3b) | xml (the CII alone)"})
    filename = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    url = fields.String()


class ArchiveOut(Schema):
    backend = fields.String()
    retain_until = Day(allow_none=True)


class SellerRefOut(Schema):
    name = fields.String()
    siren = fields.String(allow_none=True)


class BuyerRefOut(Schema):
    name = fields.String()


class DocumentResourceSchema(Schema):
    id = fields.String()
    type = fields.String()
    number = fields.String()
    seller = fields.Nested(SellerRefOut)
    buyer = fields.Nested(BuyerRefOut)
    issue_date = Day()
    created_at = fields.String(metadata={"description": "ISO 8601 UTC timestamp"})
    template = fields.Nested(TemplateOut)
    totals = fields.Nested(TotalsWithBreakdownOut)
    document = fields.Nested(DocumentSchema)
    files = fields.List(fields.Nested(FileOut))
    archive = fields.Nested(ArchiveOut)
    payload_sha256 = fields.String(metadata={"description": "SHA-256 of the canonical payload: a retry "
                                                            "with the same payload gets 200, another gets 409"})


class DocumentSummarySchema(DocumentResourceSchema):
    class Meta:
        exclude = ("document",)


class SearchResultSchema(Schema):
    count = fields.Integer(metadata={"description": "documents matching, across every page"})
    items = fields.List(fields.Nested(DocumentSummarySchema))
    next = fields.String(metadata={"description": "URL of the following page; absent on the last"})


class ValidationResultSchema(Schema):
    totals = fields.Nested(TotalsWithBreakdownOut)
    document = fields.Nested(DocumentSchema)


class FileCheckOut(Schema):
    format = fields.String()
    sha256 = fields.String(metadata={"description": "recorded at creation"})
    actual_sha256 = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    intact = fields.Boolean()
    retention_mode = fields.String(allow_none=True)
    retain_until = Day(allow_none=True)
    error = fields.String(allow_none=True)


class VerifyReportSchema(Schema):
    id = fields.String()
    intact = fields.Boolean()
    checked_at = fields.String()
    retain_until = Day(allow_none=True)
    files = fields.List(fields.Nested(FileCheckOut))


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    existing = fields.String(metadata={"description": "409: the id of the existing original"})
