"""Deposits, situations and final invoices, to the cent (DOMAIN.md).

Every figure is computed per VAT rate. Cumulative figures are rounded, never the
increments, so successive situations telescope: at 100 % each line and each deposit
has been billed or deducted exactly once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import product

from .cycle_model import (
    Deduction,
    DepositRequest,
    PreviousInvoice,
    ProgressEntry,
    ProgressRow,
    RateAmount,
    Retention,
    RetentionFigures,
)
from .model import PricedLine
from .money import HUNDRED, ZERO, quantum, round_money
from .vat import display_rate, vat_breakdown

Key = tuple[str, Decimal]  # (VAT category, rate)


def rate_key(category: str, rate: Decimal) -> Key:
    return category, rate.normalize()


def per_rate(lines: Iterable[PricedLine], places: int = 2) -> tuple[RateAmount, ...]:
    """A set of lines as base and VAT per rate (the quote's recap)."""
    return tuple(RateAmount(r.category, r.rate, r.base, r.amount) for r in vat_breakdown(lines, places))


def split_largest_remainder(total: Decimal, weights: Sequence[Decimal], places: int = 2) -> list[Decimal]:
    """Split `total` in proportion to `weights` so the parts add up to it exactly.

    Each part is first rounded down to the unit; the units left over go one by one to
    the parts with the largest remainders (Hamilton's method).
    """
    unit = quantum(places)
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        raise ValueError("cannot split over zero weights")
    exact = [total * w / weight_sum for w in weights]
    floors = [(e / unit).to_integral_value(rounding="ROUND_FLOOR") * unit for e in exact]
    left = int(((total - sum(floors, ZERO)) / unit).to_integral_value())
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += unit
    return floors


def base_for_gross(gross: Decimal, rate: Decimal, places: int = 2) -> Decimal:
    """The base whose base + round(base x rate) equals `gross`, when one exists.

    VAT must be round(base x rate) (BR-CO-17), so a gross amount is met exactly when a
    base near gross / (1 + rate) gives it; otherwise the nearest base is kept.
    """
    unit = quantum(places)
    first = round_money(gross * HUNDRED / (HUNDRED + rate), places)
    for candidate in (first, first - unit, first + unit):
        if candidate + round_money(candidate * rate / HUNDRED, places) == gross:
            return candidate
    return first


def deposit_per_rate(quote: Sequence[RateAmount], request: DepositRequest, places: int = 2,
                     deposited: dict[Key, Decimal] | None = None, earlier: int = 0) -> tuple[RateAmount, ...]:
    """A deposit split over the quote's VAT rates.

    Percent: base_r = round(quote_base_r x p), VAT on it. Fixed net amount: split in
    proportion to the quote's bases. Fixed gross amount: split in proportion to the
    quote's gross per rate, then each part turned into base + VAT.

    `deposited` is what the `earlier` deposits already billed per rate (deposit_bases).
    The deposit that completes the quote bills what is left of it, to the cent: a percent
    that passes a rate's base by no more than the deposits' roundings (half a cent each),
    or a fixed amount equal to what is left, net or gross (see `_left`).
    """
    def vat_of(base: Decimal, rate: Decimal) -> Decimal:
        return round_money(base * rate / HUNDRED, places)

    def parts(bases: Sequence[Decimal]) -> tuple[RateAmount, ...]:
        return tuple(RateAmount(q.category, q.rate, b, vat_of(b, q.rate)) for q, b in zip(quote, bases, strict=True))

    left = _left(quote, deposited or {})
    if request.percent is not None:
        slack = (earlier + 1) * quantum(places) / 2  # each deposit's rounding adds at most half a cent
        bases = [round_money(q.base * request.percent / HUNDRED, places) for q in quote]
        return parts([rest if rest < b <= rest + slack else b for b, rest in zip(bases, left, strict=True)])
    amount = request.amount
    assert amount is not None, "a deposit is a percent or an amount (payload schema)"
    if deposited:
        rest = parts(left)
        if amount == sum((r.base if request.basis == "net" else r.gross for r in rest), ZERO):
            return rest
    if request.basis == "net":
        return parts(split_largest_remainder(amount, [q.base for q in quote], places))
    grosses = split_largest_remainder(amount, [q.gross for q in quote], places)
    bases = [base_for_gross(g, q.rate, places) for q, g in zip(quote, grosses, strict=True)]
    _settle_cent(bases, [q.rate for q in quote], amount, places)
    return parts(bases)


def _left(quote: Sequence[RateAmount], deposited: dict[Key, Decimal]) -> list[Decimal]:
    """What the earlier deposits left to bill of each rate's base. The deposit that bills
    it bills the quote's base exactly once at each rate: 30 % then 70 % of 1 000,05 net is
    300,02 + 700,03, not 700,04, which the quote has not."""
    return [q.base - deposited.get(rate_key(q.category, q.rate), ZERO) for q in quote]


def _settle_cent(bases: list[Decimal], rates: Sequence[Decimal], target: Decimal, places: int) -> None:
    """Some gross parts have no base whose base + VAT meets them exactly (e.g. 10 % never
    gives x.x5 + ...); move a cent of base between rates until the whole deposit does."""
    unit = quantum(places)

    def gross_of(bs):
        return sum((b + round_money(b * r / HUNDRED, places) for b, r in zip(bs, rates, strict=True)), ZERO)

    for _ in range(len(bases) * 2):
        diff = target - gross_of(bases)
        if diff == 0:
            return
        step = unit if diff > 0 else -unit
        for i in sorted(range(len(bases)), key=lambda i: rates[i]):
            trial = bases[:i] + [bases[i] + step] + bases[i + 1:]
            if abs(target - gross_of(trial)) < abs(diff):
                bases[i] = trial[i]
                break
        else:
            break
    if gross_of(bases) != target and len(bases) <= 8:
        # one cent up here and one down there can meet it where single steps get stuck
        # (8 179.70 at 20 % + 325.19 at 10 %: 8 635.77 is 6 943.40 + 1 388.68 + 276.08 + 27.61)
        span = (-2, -1, 0, 1, 2) if len(bases) <= 4 else (-1, 0, 1)
        exact = [steps for steps in product(span, repeat=len(bases))
                 if gross_of([b + s * unit for b, s in zip(bases, steps, strict=True)]) == target]
        if exact:
            fewest = min(exact, key=lambda steps: sum(abs(s) for s in steps))
            bases[:] = [b + s * unit for b, s in zip(bases, fewest, strict=True)]


def progress_rows(quote_lines: Sequence[PricedLine], entries: Sequence[ProgressEntry],
                  places: int = 2) -> tuple[ProgressRow, ...]:
    """The progress table: for every quote line, cumulative and previous amounts.

    cumulative = round(line net x c), previous = round(line net x p), this = the difference.
    A line without an entry keeps its previous progress (0 on the first situation).
    """
    by_line = {e.line: e for e in entries}
    rows = []
    for line in quote_lines:
        entry = by_line.get(line.id, ProgressEntry(line=line.id))
        cumulative = _fraction(entry.percent, entry.quantity, line.quantity)
        previous = _fraction(entry.previous_percent, entry.previous_quantity, line.quantity)
        if entry.percent is None and entry.quantity is None:
            cumulative = previous
        cum_amount = round_money(line.net * cumulative, places)
        prev_amount = round_money(line.net * previous, places)
        rows.append(ProgressRow(
            line_id=line.id, description=line.description, vat_rate=line.vat_rate,
            vat_category=line.vat_category, quote_amount=line.net,
            previous_percent=_as_percent(previous), cumulative_percent=_as_percent(cumulative),
            cumulative_amount=cum_amount, previous_amount=prev_amount, this_amount=cum_amount - prev_amount,
        ))
    return tuple(rows)


def _fraction(percent: Decimal | None, quantity: Decimal | None, line_quantity: Decimal) -> Decimal:
    if percent is not None:
        return percent / HUNDRED
    if quantity is not None:
        return quantity / line_quantity
    return ZERO


def _as_percent(fraction: Decimal) -> Decimal:
    return (fraction * HUNDRED).quantize(Decimal("0.01"))


def works_per_rate(rows: Iterable[ProgressRow], attribute: str) -> dict[Key, Decimal]:
    """Sum one column of the progress table per VAT rate."""
    out: dict[Key, Decimal] = {}
    for row in rows:
        key = rate_key(row.vat_category, row.vat_rate)
        out[key] = out.get(key, ZERO) + getattr(row, attribute)
    return out


def corrected_type(credit: PreviousInvoice, previous: Iterable[PreviousInvoice]) -> str | None:
    """The type of the invoice a credit note corrects: as the credit note says, else as listed."""
    if credit.corrects is None:
        return None
    if credit.corrects.type:
        return credit.corrects.type
    return next((p.type for p in previous if p.number == credit.corrects.number and p.type != "credit_note"), None)


def deposit_bases(previous: Sequence[PreviousInvoice]) -> dict[Key, Decimal]:
    """D_r: the base of every deposit invoice of the quote, per rate, less the credit
    notes issued on them (a deposit partly cancelled is deducted only for what is left)."""
    out: dict[Key, Decimal] = {}
    for invoice in previous:
        if invoice.type == "deposit_invoice" or (
                invoice.type == "credit_note" and corrected_type(invoice, previous) == "deposit_invoice"):
            for part in invoice.vat:
                key = rate_key(part.category, part.rate)
                out[key] = out.get(key, ZERO) + invoice.sign * part.base
    return out


def deductions(mode: str, deposits: dict[Key, Decimal], quote: dict[Key, Decimal],
               cumulative: dict[Key, Decimal], previous: dict[Key, Decimal],
               places: int = 2) -> tuple[Deduction, ...]:
    """Deposit deducted from this situation, per rate, `full` or `progressive`.

    full: the deposit is deducted as soon as works allow, so what is deducted up to
    situation k is min(D, cumulative works(k)); this situation takes the difference.
    progressive: pro rata of progress, round(D x W(k) / Q) - round(D x W(k-1) / Q),
    which telescopes to D exactly when the works reach the quote.
    """
    out = []
    for key, deposit in deposits.items():
        category, rate = key
        cum, prev = cumulative.get(key, ZERO), previous.get(key, ZERO)
        if mode == "full":
            done_before, done_now = min(deposit, prev), min(deposit, cum)
        else:
            q = quote[key]
            done_before = round_money(deposit * prev / q, places)
            done_now = round_money(deposit * cum / q, places)
        out.append(Deduction(category, display_rate(rate), deposit, done_before,
                             done_now - done_before, deposit - done_now))
    return tuple(out)


def retention(request: Retention, cumulative_works: Sequence[RateAmount],
              previous_works: Sequence[RateAmount], places: int = 2) -> RetentionFigures:
    """Retention on this situation's works (incl. VAT by default).

    Like the lines, it is the difference of two rounded cumulative figures, so the
    retention withheld over every situation is exactly the percent of the whole works.
    """
    def base_of(rates: Sequence[RateAmount]) -> Decimal:
        return sum((r.gross if request.base == "works_gross" else r.base for r in rates), ZERO)

    cum_base, prev_base = base_of(cumulative_works), base_of(previous_works)
    cumulative = round_money(cum_base * request.percent / HUNDRED, places)
    before = round_money(prev_base * request.percent / HUNDRED, places)
    return RetentionFigures(request.percent, request.base, cum_base - prev_base, cumulative - before,
                            cumulative, request.release_date, cum_base, before)


def remaining_per_rate(quote: Sequence[RateAmount], previous: Iterable[PreviousInvoice]) -> tuple[RateAmount, ...]:
    """What a final invoice bills per rate: the quote minus everything billed before.

    VAT is taken by difference too, so over the whole cycle the buyer is charged the
    quote's VAT exactly, never a cent twice.
    """
    billed = billed_per_rate(quote, previous)
    return tuple(RateAmount(q.category, q.rate, q.base - b.base, q.vat - b.vat)
                 for q, b in zip(quote, billed, strict=True))


def billed_per_rate(quote: Sequence[RateAmount], previous: Iterable[PreviousInvoice]) -> tuple[RateAmount, ...]:
    """Bases and VAT already billed by earlier invoices, on the quote's rates ("déjà
    facturé"): deposits and situations add, credit notes on them take off."""
    base: dict[Key, Decimal] = {}
    vat: dict[Key, Decimal] = {}
    for invoice in previous:
        for part in invoice.vat:
            key = rate_key(part.category, part.rate)
            base[key] = base.get(key, ZERO) + invoice.sign * part.base
            vat[key] = vat.get(key, ZERO) + invoice.sign * part.amount
    return tuple(RateAmount(q.category, q.rate, base.get(rate_key(q.category, q.rate), ZERO),
                            vat.get(rate_key(q.category, q.rate), ZERO)) for q in quote)
