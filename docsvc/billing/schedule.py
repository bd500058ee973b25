"""Payment schedules: equal instalments, the rounding remainder on the last."""
from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from .cycle_model import Installment, ScheduleRequest
from .money import quantum


def add_months(day: date, months: int, end_of_month: bool) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if end_of_month else min(day.day, last))


def schedule(amount: Decimal, request: ScheduleRequest, places: int = 2,
             retention: Decimal | None = None, release_date: date | None = None) -> tuple[Installment, ...]:
    """n instalments every month or quarter; a retention guarantee is its own instalment."""
    unit = quantum(places)
    n = request.installments
    part = (amount / n / unit).to_integral_value(rounding="ROUND_DOWN") * unit
    step = 3 if request.period == "quarter" else 1
    out = [Installment(i + 1, add_months(request.first_due_date, i * step, request.end_of_month),
                       part if i < n - 1 else amount - part * (n - 1)) for i in range(n)]
    if retention and release_date:
        out.append(Installment(n + 1, release_date, retention, "retention"))
    return tuple(out)
