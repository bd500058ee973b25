"""Line nets: quantity x net price, allowances and charges, each rounded once to the cent
(DOMAIN.md, Money; EN 16931 BT-131)."""
from __future__ import annotations

from .allowances import apply_line, line_amount, net_price
from .model import Line, LineAllowanceCharge, PricedLine
from .money import ZERO


def price_line(line: Line, places: int = 2) -> PricedLine:
    """BT-131 = round(BT-129 x BT-146 / BT-149) - sum(BT-136) + sum(BT-141): the line net is
    its quantity x net price per base quantity, less its allowances, plus its charges. The
    `discount` shorthand is the first allowance (BG-27)."""
    gross = line_amount(line, places)
    given = list(line.allowances)
    if line.discount is not None:
        given.insert(0, LineAllowanceCharge(amount=line.discount.amount, percent=line.discount.percent))
    allowances = tuple(apply_line(a, gross, places) for a in given)
    charges = tuple(apply_line(c, gross, places) for c in line.charges)
    allowed = sum((a.amount for a in allowances), ZERO * gross)
    charged = sum((c.amount for c in charges), ZERO * gross)
    percent = allowances[0].percent if len(allowances) == 1 else None
    return PricedLine(
        id=line.id,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=net_price(line),
        gross=gross,
        discount_percent=percent,
        discount_amount=allowed,
        net=gross - allowed + charged,
        vat_category=line.vat_category,
        vat_rate=line.vat_rate,
        vat_exemption_reason=line.vat_exemption_reason,
        gross_price=line.gross_price,
        price_discount=line.price_discount,
        base_quantity=line.base_quantity,
        allowances=allowances,
        charges=charges,
        charge_amount=charged,
    )
