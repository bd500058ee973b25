"""The acompte / situation / solde cycle: what a payload says about the quote and what was billed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .model import InvoiceReference, Line


@dataclass(frozen=True)
class Quote:
    number: str
    date: date
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class DepositRequest:
    """A deposit: a percent of the quote, or a fixed amount (gross by default)."""

    percent: Decimal | None = None
    amount: Decimal | None = None
    basis: str = "gross"  # gross | net


@dataclass(frozen=True)
class ProgressEntry:
    """Cumulative progress of one quote line to date, and before this situation."""

    line: str
    percent: Decimal | None = None
    quantity: Decimal | None = None
    previous_percent: Decimal | None = None
    previous_quantity: Decimal | None = None


@dataclass(frozen=True)
class VatPart:
    rate: Decimal
    base: Decimal
    amount: Decimal
    category: str = "S"


@dataclass(frozen=True)
class PreviousInvoice:
    """A deposit or situation already billed on the same quote, or a credit note on one.

    A credit note's figures are positive, as in its own 381 document; `sign` turns them
    into what it takes off the billed amounts.
    """

    type: str  # deposit_invoice | progress_invoice | credit_note
    number: str
    issue_date: date
    net_total: Decimal
    vat: tuple[VatPart, ...]
    gross_total: Decimal
    corrects: InvoiceReference | None = None  # credit_note: the invoice of the cycle it corrects
    retention: Decimal | None = None  # progress_invoice: the retention guarantee it withheld
    retention_release_date: date | None = None

    @property
    def sign(self) -> int:
        return -1 if self.type == "credit_note" else 1


@dataclass(frozen=True)
class Retention:
    """Retenue de garantie (loi 71-584): at most 5 %, released a year after acceptance."""

    percent: Decimal
    base: str = "works_gross"  # works_gross | works_net
    release_date: date | None = None


@dataclass(frozen=True)
class ScheduleRequest:
    installments: int
    first_due_date: date
    period: str = "month"  # month | quarter
    end_of_month: bool = False


# ------------------------------------------------------------------ computed


@dataclass(frozen=True)
class QuoteSummary:
    number: str
    date: date
    lines: tuple  # PricedLine...
    per_rate: tuple  # RateAmount...
    net_total: Decimal
    vat_total: Decimal
    gross_total: Decimal


@dataclass(frozen=True)
class RateAmount:
    """A figure per VAT rate, the unit in which deposits and deductions are computed."""

    category: str
    rate: Decimal
    base: Decimal
    vat: Decimal
    gross: Decimal = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "gross", self.base + self.vat)


@dataclass(frozen=True)
class DepositRecap:
    quote_number: str
    quote_date: date
    percent: Decimal | None  # the deposit's share of the quote's gross, for display
    amount: Decimal  # gross of this deposit
    basis: str
    per_rate: tuple[RateAmount, ...]
    quote_totals: tuple[RateAmount, ...]
    previous_deposits: tuple[PreviousInvoice, ...]
    deposits_total: Decimal  # gross of every deposit of the quote, this one included
    net: Decimal = Decimal(0)  # net of this deposit
    percent_is_equivalent: bool = False  # a fixed amount: `percent` is its share of the quote's gross
    deposits_net: Decimal = Decimal(0)  # net of every deposit of the quote, this one included
    remaining_net: Decimal = Decimal(0)  # what is left to invoice on the quote after this deposit
    remaining_gross: Decimal = Decimal(0)
    received_date: date | None = None  # the latest payment received on this deposit


@dataclass(frozen=True)
class ProgressRow:
    line_id: str
    description: str
    vat_rate: Decimal
    vat_category: str
    quote_amount: Decimal  # the quote line's net
    previous_percent: Decimal
    cumulative_percent: Decimal
    cumulative_amount: Decimal
    previous_amount: Decimal
    this_amount: Decimal


@dataclass(frozen=True)
class DepositShare:
    """One deposit invoice's base at one VAT rate (a credit note on it counts negative)."""

    type: str  # deposit_invoice | credit_note
    number: str
    issue_date: date
    base: Decimal


@dataclass(frozen=True)
class Deduction:
    """Deposit deducted from this situation, per VAT rate."""

    category: str
    rate: Decimal
    deposit_base: Decimal  # D_r: every deposit's base at this rate
    previously_deducted: Decimal
    amount: Decimal  # deducted now
    remaining: Decimal  # left to deduct on later situations
    deposits: tuple[DepositShare, ...] = ()  # the deposit invoices D_r is made of, by number and date


@dataclass(frozen=True)
class ProgressRecap:
    situation_number: int
    contract_net: Decimal
    cumulative_works: Decimal
    previous_works: Decimal
    this_works: Decimal
    previous_situations: tuple[PreviousInvoice, ...]
    previous_deposits: tuple[PreviousInvoice, ...]
    rows: tuple[ProgressRow, ...]
    deductions: tuple[Deduction, ...]
    deposit_deduction: str
    credit_notes: tuple[PreviousInvoice, ...] = ()  # credit notes on earlier invoices of the quote
    billed: tuple[RateAmount, ...] = ()  # "déjà facturé" per quote rate: deposits + situations - credit notes
    deducted_total: Decimal = Decimal(0)  # every rate's deduction now: works - this = total HT


@dataclass(frozen=True)
class RetentionFigures:
    """What a situation withholds, and how: the percent of the cumulative works, less what
    the earlier situations withheld. Shown whole on the document, so the figure can be checked
    (5 % of this situation's works alone may differ from `amount` by a cent)."""

    percent: Decimal
    base_kind: str
    base: Decimal  # this situation's works (incl. VAT for works_gross)
    amount: Decimal  # withheld by this situation: cumulative - withheld_before
    cumulative: Decimal  # every situation's retention, this one included: percent of cumulative_base
    release_date: date | None
    cumulative_base: Decimal  # the works of every situation to this one
    withheld_before: Decimal  # what the earlier ones withheld: by default the percent of the works before this one
    caught_up: Decimal = Decimal(0)  # what they withheld less than that percent, withheld now (see document.py)


@dataclass(frozen=True)
class RetentionHeld:
    """The retention guarantee one situation withheld, still owed at its release date."""

    number: str
    issue_date: date
    amount: Decimal
    release_date: date | None


@dataclass(frozen=True)
class VatByDifference:
    """A rate whose remaining VAT, taken by difference, is not round(base x rate)."""

    category: str
    rate: Decimal
    base: Decimal
    vat: Decimal  # billed: the quote's VAT minus the VAT already billed
    computed: Decimal  # round(base x rate), for the note


@dataclass(frozen=True)
class FinalRecap:
    quote_number: str
    quote_date: date
    quote_totals: tuple[RateAmount, ...]
    previous: tuple[PreviousInvoice, ...]  # deposits and situations, in the payload's order
    billed: tuple[RateAmount, ...]  # already billed per rate, credit notes netted
    remaining: tuple[RateAmount, ...]  # billed by this final invoice per rate
    credit_notes: tuple[PreviousInvoice, ...] = ()  # credit notes on earlier invoices of the quote
    billed_net: Decimal = Decimal(0)  # the "déjà facturé" total row
    billed_vat: Decimal = Decimal(0)
    billed_gross: Decimal = Decimal(0)
    retentions: tuple[RetentionHeld, ...] = ()  # per situation that withheld one
    retention_total: Decimal = Decimal(0)
    retention_release_date: date | None = None  # the latest release date given
    vat_by_difference: tuple[VatByDifference, ...] = ()


@dataclass(frozen=True)
class Installment:
    number: int
    due_date: date
    amount: Decimal
    kind: str = "installment"  # installment | retention
