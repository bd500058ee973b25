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


@dataclass(frozen=True)
class Discount:
    percent: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class Line:
    id: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    vat_category: str = "S"
    vat_exemption_reason: str | None = None
    discount: Discount | None = None


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


# ---------------------------------------------------------------- computed figures


@dataclass(frozen=True)
class PricedLine:
    """A line with the figures a human would otherwise get wrong."""

    id: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    gross: Decimal  # round(quantity x unit_price)
    discount_percent: Decimal | None
    discount_amount: Decimal
    net: Decimal  # gross - discount
    vat_category: str
    vat_rate: Decimal
    vat_exemption_reason: str | None
    exemption_mark: int | None = None  # the number of its exemption wording in `exemptions`


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
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal
    prepaid_total: Decimal
    retention_total: Decimal
    amount_due: Decimal


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
