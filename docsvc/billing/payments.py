"""Due date, payments received, amount due and payment status."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from .model import PaymentReceived, Totals, VatRow
from .money import ZERO, round_money


def due_date(issue_date: date, given: date | None, terms_days: int | None) -> date | None:
    """The payload's due date, else issue date + payment terms."""
    if given is not None:
        return given
    if terms_days is not None:
        return issue_date + timedelta(days=terms_days)
    return None


def totals(
    vat_rows: Iterable[VatRow],
    payments: Iterable[PaymentReceived] = (),
    retention: Decimal = ZERO,
    prepaid_documents: Decimal = ZERO,
    places: int = 2,
    line_total: Decimal | None = None,
    allowance_total: Decimal = ZERO,
    charge_total: Decimal = ZERO,
    rounding: Decimal = ZERO,
) -> Totals:
    """Document totals (BR-CO-10..16): BT-109 = sum of VAT bases = BT-106 - BT-107 + BT-108
    (BR-CO-13); BT-112 = BT-109 + BT-110 (BR-CO-15); BT-115 = BT-112 - BT-113 + BT-114
    (BR-CO-16), less docsvc's retention guarantee. `line_total` (BT-106) defaults to the
    net total less the charges plus the allowances."""
    rows = list(vat_rows)
    net = round_money(sum((r.base for r in rows), ZERO), places)
    vat = round_money(sum((r.amount for r in rows), ZERO), places)
    gross = net + vat
    prepaid = round_money(prepaid_documents + sum((p.amount for p in payments), ZERO), places)
    retention = round_money(retention, places)
    allowance_total = round_money(allowance_total, places)
    charge_total = round_money(charge_total, places)
    rounding = round_money(rounding, places)
    lines = round_money(net + allowance_total - charge_total if line_total is None else line_total, places)
    return Totals(
        net_total=net,
        vat_total=vat,
        gross_total=gross,
        prepaid_total=prepaid,
        retention_total=retention,
        amount_due=gross - prepaid + rounding - retention,
        line_total=lines,
        allowance_total=allowance_total,
        charge_total=charge_total,
        rounding_amount=rounding,
    )


def payment_status(t: Totals, payments: Iterable[PaymentReceived]) -> str:
    """paid once nothing is left to pay, partially_paid once something was received."""
    received = any(True for _ in payments)
    if t.amount_due <= ZERO and (received or t.prepaid_total > ZERO):
        return "paid"
    if received:
        return "partially_paid"
    return "unpaid"
