"""Money arithmetic: Decimal only, half-up to the currency's minor unit."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")


def quantum(places: int) -> Decimal:
    """The smallest amount of a currency with `places` minor digits (EUR: 0.01)."""
    return Decimal(1).scaleb(-places)


def round_money(amount: Decimal, places: int = 2) -> Decimal:
    """Round half-up to the minor unit, as French accounting and EN 16931 expect."""
    return amount.quantize(quantum(places), rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal, places: int = 2) -> Decimal:
    """`percent` % of `amount`, rounded once at the end."""
    return round_money(amount * percent / HUNDRED, places)
