"""Line nets: gross, discount, net, each rounded once to the cent (DOMAIN.md, Money)."""
from __future__ import annotations

from .model import Line, PricedLine
from .money import percent_of, round_money


def price_line(line: Line, places: int = 2) -> PricedLine:
    gross = round_money(line.quantity * line.unit_price, places)
    percent = line.discount.percent if line.discount else None
    if line.discount is None:
        discount = round_money(gross * 0, places)
    elif percent is not None:
        discount = percent_of(gross, percent, places)
    else:
        assert line.discount.amount is not None, "a discount is a percent or an amount (payload schema)"
        discount = round_money(line.discount.amount, places)
    return PricedLine(
        id=line.id,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        gross=gross,
        discount_percent=percent,
        discount_amount=discount,
        net=gross - discount,
        vat_category=line.vat_category,
        vat_rate=line.vat_rate,
        vat_exemption_reason=line.vat_exemption_reason,
    )
