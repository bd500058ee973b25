"""VAT breakdown per (category, rate): VAT is computed on each base, never summed per line."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from .allowances import base_adjustments
from .model import CATEGORIES_NEEDING_REASON, VAT_CATEGORIES, AppliedAllowanceCharge, PricedLine, VatRow
from .money import ZERO, percent_of


def category_problem(rate: Decimal, category: str, exemption_reason: str | None) -> tuple[str, str] | None:
    """Whether a VAT category and rate agree (a line's, a document allowance's or charge's):
    (the field to name, why) or None. Standard rated (S) charges VAT, every other category
    none; the exempt ones carry their exemption wording (BR-E-10 and its siblings)."""
    if rate == 0 and category == "S":
        return "vat_category", "A 0 rate needs an explicit category: Z, E, AE, K, G or O."
    if rate != 0 and category != "S":
        return "vat_rate", f"Category {category} charges no VAT: the rate must be 0."
    if category in CATEGORIES_NEEDING_REASON and not exemption_reason:
        return "vat_exemption_reason", (f"Category {category} needs the exemption wording "
                                        "(e.g. 'TVA non applicable, art. 293 B du CGI').")
    return None


def vat_breakdown(lines: Iterable[PricedLine], places: int = 2,
                  allowances: Iterable[AppliedAllowanceCharge] = (),
                  charges: Iterable[AppliedAllowanceCharge] = ()) -> tuple[VatRow, ...]:
    """One row per (category, rate), standard rates first, highest rate first. BT-116 = sum of
    line nets (BT-131) - document allowances (BT-92) + document charges (BT-99) of that category
    and rate (BR-S-08 and its siblings BR-Z/E/AE/IC/G/O-08); BT-117 = round(BT-116 x BT-119 / 100)
    (BR-CO-17)."""
    allowances, charges = tuple(allowances), tuple(charges)
    bases: dict[tuple[str, Decimal], Decimal] = {}
    reasons: dict[tuple[str, Decimal], str | None] = {}
    for line in lines:
        key = (line.vat_category, line.vat_rate.normalize())
        bases[key] = bases.get(key, ZERO) + line.net
        reasons.setdefault(key, line.vat_exemption_reason)
    for key, change in base_adjustments(allowances, charges).items():
        bases[key] = bases.get(key, ZERO) + change
    for item in (*allowances, *charges):
        key = (item.vat_category, item.vat_rate.normalize())
        if not reasons.get(key):
            reasons[key] = item.vat_exemption_reason
    order = sorted(bases, key=lambda k: (VAT_CATEGORIES.index(k[0]), -k[1]))
    return tuple(
        VatRow(
            category=category,
            rate=display_rate(rate),
            base=bases[(category, rate)],
            amount=percent_of(bases[(category, rate)], rate, places),
            exemption_reason=reasons[(category, rate)],
        )
        for category, rate in order
    )


def display_rate(rate: Decimal) -> Decimal:
    """20 -> 20.00, 5.5 -> 5.50: the two decimals rates carry on French invoices and in CII."""
    exponent = rate.as_tuple().exponent
    assert isinstance(exponent, int), "a finite rate"
    return rate.quantize(Decimal("0.01")) if -exponent <= 2 else rate
