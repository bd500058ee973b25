"""The invoice as billing people see it: what a payload says, and what docsvc computes.

Input dataclasses are built by the request schemas; `Document` is the enriched model
the templates receive and the API returns under `document`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # cycle_model builds on this module's Line and InvoiceReference
    from .cycle_model import (
        DepositRecap,
        DepositRequest,
        FinalRecap,
        Installment,
        PreviousInvoice,
        ProgressEntry,
        ProgressRecap,
        Quote,
        QuoteSummary,
        Retention,
        RetentionFigures,
        ScheduleRequest,
    )


class DocumentType(str, Enum):
    INVOICE = "invoice"
    DEPOSIT_INVOICE = "deposit_invoice"
    PROGRESS_INVOICE = "progress_invoice"
    FINAL_INVOICE = "final_invoice"
    CREDIT_NOTE = "credit_note"


#: UNTDID 1001 codes used in Factur-X / EN 16931 (BT-3).
TYPE_CODES = {
    DocumentType.INVOICE: "380",
    DocumentType.DEPOSIT_INVOICE: "386",
    DocumentType.PROGRESS_INVOICE: "380",
    DocumentType.FINAL_INVOICE: "380",
    DocumentType.CREDIT_NOTE: "381",
}

#: UNCL 5305 VAT categories; all but S and Z need an exemption reason.
VAT_CATEGORIES = ("S", "Z", "E", "AE", "K", "G", "O")
CATEGORIES_NEEDING_REASON = frozenset({"E", "AE", "K", "G", "O"})


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]
    postcode: str
    city: str
    country: str  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class Party:
    name: str
    address: Address
    siren: str | None = None
    siret: str | None = None
    vat_id: str | None = None
    legal_form: str | None = None
    share_capital: Decimal | None = None
    delivery_address: Address | None = None
    kind: str = "business"  # business | consumer: decides the B2B mentions
    email: str | None = None
    phone: str | None = None
    registration: str | None = None  # "RCS Lyon B 552 100 554", "RM 75"...
    tax_registration_id: str | None = None  # the seller's BT-32, for a seller without a VAT number


@dataclass(frozen=True)
class Discount:
    percent: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class LineAllowanceCharge:
    """A line allowance (BG-27) or charge (BG-28): an amount, or a percent of the line's
    quantity x price; a reason (BT-139/BT-144) or a code (UNTDID 5189 / 7161, BT-140/BT-145)."""

    amount: Decimal | None = None
    percent: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None


@dataclass(frozen=True)
class AllowanceCharge:
    """A document-level allowance (BG-20) or charge (BG-21): an amount, or a percent of a
    base given with it, in the VAT base of its category and rate."""

    vat_rate: Decimal
    amount: Decimal | None = None
    percent: Decimal | None = None
    base: Decimal | None = None
    reason: str | None = None
    reason_code: str | None = None
    vat_category: str = "S"
    vat_exemption_reason: str | None = None


@dataclass(frozen=True)
class VatCurrency:
    """The VAT accounting currency (BT-6) and the rate that converts the invoice's VAT into it."""

    code: str
    rate: Decimal


@dataclass(frozen=True)
class Line:
    id: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal | None  # the net price (BT-146); None when gross_price is given
    vat_rate: Decimal
    vat_category: str = "S"
    vat_exemption_reason: str | None = None
    discount: Discount | None = None
    gross_price: Decimal | None = None  # BT-148, with price_discount instead of unit_price
    price_discount: Decimal | None = None  # BT-147
    base_quantity: Decimal = Decimal(1)  # BT-149: the quantity the prices are for
    allowances: tuple[LineAllowanceCharge, ...] = ()  # BG-27
    charges: tuple[LineAllowanceCharge, ...] = ()  # BG-28


@dataclass(frozen=True)
class EarlyPaymentDiscount:
    percent: Decimal
    days: int


@dataclass(frozen=True)
class PaymentTerms:
    terms_days: int | None = None
    means: str | None = None  # transfer | card | cheque | direct_debit | cash
    iban: str | None = None
    bic: str | None = None
    late_penalty_rate: Decimal | None = None
    recovery_indemnity: Decimal | None = None
    early_payment_discount: EarlyPaymentDiscount | None = None


@dataclass(frozen=True)
class PaymentReceived:
    date: date
    amount: Decimal
    means: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class InvoiceReference:
    number: str
    issue_date: date
    type: str | None = None  # the corrected document's type, when known


@dataclass(frozen=True)
class Settlement:
    """How a credit note is settled: the money runs from the seller to the buyer."""

    method: str  # deduction (from the next payment) | refund
    means: str | None = None  # refund: transfer, cheque...
    date: date | None = None  # when it is refunded or deducted


@dataclass(frozen=True)
class TemplateRef:
    name: str = "classic"
    version: str | None = None


@dataclass(frozen=True)
class InvoicePayload:
    """One document as the billing system posted it, validated."""

    type: DocumentType
    number: str
    issue_date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    currency: str = "EUR"
    language: str = "fr"
    due_date: date | None = None
    delivery_date: date | None = None
    operation: str | None = None  # goods | services | mixed
    vat_on_debits: bool = False
    payment: PaymentTerms = field(default_factory=PaymentTerms)
    payments: tuple[PaymentReceived, ...] = ()
    corrects: InvoiceReference | None = None
    buyer_reference: str | None = None
    order_reference: str | None = None
    notes: tuple[str, ...] = ()
    template: TemplateRef = field(default_factory=TemplateRef)
    formats: tuple[str, ...] = ("pdf",)
    # the acompte / situation / solde cycle (cycle_model.py)
    quote: Quote | None = None
    deposit: DepositRequest | None = None
    deposit_layout: str = "summary"  # summary | detailed
    progress: tuple[ProgressEntry, ...] = ()
    previous_invoices: tuple[PreviousInvoice, ...] = ()
    deposit_deduction: str = "progressive"  # full | progressive
    retention: Retention | None = None
    schedule: ScheduleRequest | None = None
    settlement: Settlement | None = None  # credit_note
    allowances: tuple[AllowanceCharge, ...] = ()  # BG-20
    charges: tuple[AllowanceCharge, ...] = ()  # BG-21
    rounding_amount: Decimal | None = None  # BT-114
    vat_currency: VatCurrency | None = None  # BT-6 and its rate


# ---------------------------------------------------------------- computed figures


@dataclass(frozen=True)
class AppliedLineAllowanceCharge:
    """A line allowance (BG-27) or charge (BG-28) as billed: its amount to the cent."""

    reason: str | None
    reason_code: str | None
    percent: Decimal | None  # BT-138 / BT-143
    base: Decimal | None  # BT-137 / BT-142: the line's quantity x price, when a percent
    amount: Decimal  # BT-136 / BT-141


@dataclass(frozen=True)
class AppliedAllowanceCharge:
    """A document-level allowance (BG-20) or charge (BG-21) as billed."""

    reason: str | None
    reason_code: str | None
    percent: Decimal | None  # BT-94 / BT-101
    base: Decimal | None  # BT-93 / BT-100
    amount: Decimal  # BT-92 / BT-99
    vat_category: str  # BT-95 / BT-102
    vat_rate: Decimal  # BT-96 / BT-103
    vat_exemption_reason: str | None


@dataclass(frozen=True)
class VatCurrencyTotal:
    """The VAT total in the VAT accounting currency (BT-6): BT-111 = round(rate x BT-110)."""

    code: str
    rate: Decimal
    vat_total: Decimal


@dataclass(frozen=True)
class PricedLine:
    """A line with the figures a human would otherwise get wrong."""

    id: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal  # the net price (BT-146), per base_quantity
    gross: Decimal  # round(quantity x unit_price / base_quantity)
    discount_percent: Decimal | None
    discount_amount: Decimal  # every line allowance (BT-136), the discount shorthand included
    net: Decimal  # gross - discount_amount + charge_amount (BT-131)
    vat_category: str
    vat_rate: Decimal
    vat_exemption_reason: str | None
    exemption_mark: int | None = None  # the number of its exemption wording in `exemptions`
    gross_price: Decimal | None = None  # BT-148, when given
    price_discount: Decimal | None = None  # BT-147, when given
    base_quantity: Decimal = Decimal(1)  # BT-149
    allowances: tuple[AppliedLineAllowanceCharge, ...] = ()  # BG-27, the discount shorthand first
    charges: tuple[AppliedLineAllowanceCharge, ...] = ()  # BG-28
    charge_amount: Decimal = Decimal(0)  # every line charge (BT-141)


@dataclass(frozen=True)
class VatRow:
    """One row of the VAT breakdown: a (category, rate) pair, BR-CO-17."""

    category: str
    rate: Decimal
    base: Decimal
    amount: Decimal
    exemption_reason: str | None = None
    exemption_mark: int | None = None  # the number of its exemption wording in `exemptions`


@dataclass(frozen=True)
class Exemption:
    """An exemption wording, printed once and referred to by its mark from lines and VAT rows."""

    mark: int
    category: str
    reason: str


@dataclass(frozen=True)
class Totals:
    net_total: Decimal  # BT-109 = line_total - allowance_total + charge_total (BR-CO-13)
    vat_total: Decimal  # BT-110
    gross_total: Decimal  # BT-112
    prepaid_total: Decimal  # BT-113
    retention_total: Decimal
    amount_due: Decimal  # BT-115 = gross - prepaid + rounding (BR-CO-16), less the retention
    line_total: Decimal  # BT-106: sum of line nets
    allowance_total: Decimal  # BT-107
    charge_total: Decimal  # BT-108
    rounding_amount: Decimal  # BT-114


@dataclass(frozen=True)
class Mention:
    """A legal mention, as a code plus the figures it quotes; wording lives in labels."""

    code: str
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Document:
    """The enriched model: what templates render and the API returns as `document`."""

    type: DocumentType
    type_code: str
    number: str
    issue_date: date
    delivery_date: date | None
    due_date: date | None
    currency: str
    currency_places: int
    language: str
    operation: str | None
    seller: Party
    buyer: Party
    lines: tuple[PricedLine, ...]
    vat_breakdown: tuple[VatRow, ...]
    totals: Totals
    payment: PaymentTerms
    payments: tuple[PaymentReceived, ...]
    payment_status: str  # paid | partially_paid | unpaid
    corrects: InvoiceReference | None
    buyer_reference: str | None
    order_reference: str | None
    vat_on_debits: bool
    notes: tuple[str, ...]
    mentions: tuple[Mention, ...]
    title_number: int | None = None  # k of "Facture de situation n° k"
    quote: QuoteSummary | None = None
    deposit: DepositRecap | None = None
    deposit_layout: str | None = None
    progress: ProgressRecap | None = None
    retention: RetentionFigures | None = None
    final: FinalRecap | None = None
    schedule: tuple[Installment, ...] = ()
    settlement: Settlement | None = None  # credit_note: how it is settled
    exemptions: tuple[Exemption, ...] = ()  # VAT exemption wordings, by mark
    due_date_source: str | None = None  # terms | given | schedule: where `due_date` comes from
    allowances: tuple[AppliedAllowanceCharge, ...] = ()  # BG-20
    charges: tuple[AppliedAllowanceCharge, ...] = ()  # BG-21
    vat_currency: VatCurrencyTotal | None = None  # BT-6, BT-111


def as_plain(value: Any) -> Any:
    """Dataclasses to dicts and enums to their values, keeping Decimal and date objects.

    This is the render context's `doc` and, once JSON-encoded, the API's `document`.
    """
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "__dataclass_fields__"):
        return {name: as_plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    return value
