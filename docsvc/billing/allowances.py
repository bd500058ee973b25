"""Allowances and charges, prices and the VAT accounting currency (EN 16931): each figure
rounded once, to the cent of the currency, half-up (DOMAIN.md, Money). Pure, Decimal only.

Line level: the net price, a line's allowances (BG-27) and charges (BG-28). Document level:
allowances (BG-20) and charges (BG-21), which enter the VAT base of their category and rate.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from .model import (
    AllowanceCharge,
    AppliedAllowanceCharge,
    AppliedLineAllowanceCharge,
    Line,
    LineAllowanceCharge,
    VatCurrency,
    VatCurrencyTotal,
)
from .money import ZERO, percent_of, round_money

RateKey = tuple[str, Decimal]


def rate_key(category: str, rate: Decimal) -> RateKey:
    """One VAT breakdown row per (category, rate) (BR-CO-17): 20 and 20.00 are one rate."""
    return category, rate.normalize()


def net_price(line: Line) -> Decimal:
    """BT-146 = BT-148 - BT-147: the item net price is the gross price less the price
    discount, both per base quantity (BT-149); or the unit price as given."""
    if line.unit_price is not None:
        return line.unit_price
    assert line.gross_price is not None, "a line has unit_price or gross_price (billing/rules.py)"
    return line.gross_price - (line.price_discount or ZERO)


def line_amount(line: Line, places: int = 2) -> Decimal:
    """round(BT-129 x BT-146 / BT-149): quantity x net price per base quantity, to the cent,
    before the line's allowances and charges (the definition of BT-131 in EN 16931-1)."""
    return round_money(line.quantity * net_price(line) / line.base_quantity, places)


def apply_line(given: LineAllowanceCharge, base: Decimal, places: int = 2) -> AppliedLineAllowanceCharge:
    """BT-136 = round(BT-137 x BT-138 / 100) for an allowance by percent (BT-141 likewise for
    a charge, BT-142 x BT-143): the base is the line's quantity x price; or the amount given."""
    if given.percent is not None:
        return AppliedLineAllowanceCharge(given.reason, given.reason_code, given.percent, base,
                                          percent_of(base, given.percent, places))
    assert given.amount is not None, "an amount or a percent (billing/rules.py)"
    return AppliedLineAllowanceCharge(given.reason, given.reason_code, None, None, round_money(given.amount, places))


def apply_document(given: AllowanceCharge, places: int = 2) -> AppliedAllowanceCharge:
    """BT-92 = round(BT-93 x BT-94 / 100) for a document-level allowance by percent, BT-99 =
    round(BT-100 x BT-101 / 100) for a charge; or the amount given."""
    if given.percent is not None:
        assert given.base is not None, "a percent comes with its base (billing/rules.py)"
        amount = percent_of(given.base, given.percent, places)
    else:
        assert given.amount is not None, "an amount or a percent (billing/rules.py)"
        amount = round_money(given.amount, places)
    return AppliedAllowanceCharge(given.reason, given.reason_code, given.percent, given.base, amount,
                                  given.vat_category, given.vat_rate, given.vat_exemption_reason)


def base_adjustments(allowances: Iterable[AppliedAllowanceCharge],
                     charges: Iterable[AppliedAllowanceCharge]) -> dict[RateKey, Decimal]:
    """What document-level allowances and charges add to each VAT base (BR-S-08, BR-Z-08,
    BR-E-08, BR-AE-08, BR-IC-08, BR-G-08, BR-O-08): + charges (BT-99) - allowances (BT-92)
    of that category and rate."""
    out: dict[RateKey, Decimal] = {}
    for sign, items in ((-1, allowances), (1, charges)):
        for item in items:
            key = rate_key(item.vat_category, item.vat_rate)
            out[key] = out.get(key, ZERO) + sign * item.amount
    return out


def vat_in_accounting_currency(given: VatCurrency, vat_total: Decimal, places: int = 2) -> VatCurrencyTotal:
    """BT-111 = round(rate x BT-110) in the VAT accounting currency (BT-6), to its cent (BR-53:
    BT-6 given, BT-111 given)."""
    return VatCurrencyTotal(given.code, given.rate, round_money(given.rate * vat_total, places))
