"""From a validated payload to the enriched document: every figure computed once, here.

Each document type has its body: which lines it bills and its VAT per rate. Totals,
payments, schedule and mentions are then the same for all types.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from . import cycle, wording
from .allowances import apply_document, vat_in_accounting_currency
from .cycle_model import (
    DepositRecap,
    DepositShare,
    FinalRecap,
    Installment,
    PreviousInvoice,
    ProgressRecap,
    QuoteSummary,
    RateAmount,
    RetentionFigures,
    RetentionHeld,
    VatByDifference,
)
from .lines import price_line
from .mentions import RECOVERY_INDEMNITY, is_b2b, mentions_for
from .model import (
    TYPE_CODES,
    Document,
    DocumentType,
    Exemption,
    InvoicePayload,
    PricedLine,
    VatRow,
)
from .money import HUNDRED, ZERO, round_money
from .payments import due_date, payment_status, totals
from .schedule import schedule
from .vat import vat_breakdown


class BillingError(ValueError):
    """A payload that is well-formed but bills something impossible; errors by JSON path."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class Body:
    """What a document type bills: its lines and VAT rows, and the recaps it shows."""

    lines: tuple[PricedLine, ...]
    vat_rows: tuple[VatRow, ...]
    extras: dict


def enrich(payload: InvoicePayload, currency_places: int = 2, vat_currency_places: int = 2) -> Document:
    """Price the lines, build the VAT breakdown and totals, and list the legal mentions.
    `vat_currency_places`: the minor digits of the VAT accounting currency (BT-6), if any."""
    places = currency_places
    body = BODIES[payload.type](payload, places)
    retention = body.extras.get("retention")
    allowances, charges = body.extras.get("allowances", ()), body.extras.get("charges", ())
    doc_totals = totals(body.vat_rows, payload.payments, retention=retention.amount if retention else ZERO,
                        places=places, line_total=sum((ln.net for ln in body.lines), ZERO),
                        allowance_total=sum((a.amount for a in allowances), ZERO),
                        charge_total=sum((c.amount for c in charges), ZERO),
                        rounding=payload.rounding_amount or ZERO)
    if retention is not None and doc_totals.amount_due < ZERO:
        _refuse_retention_over_what_is_paid(retention, doc_totals.amount_due + retention.amount,
                                            payload.deposit_deduction)
    vat_currency = None
    if payload.vat_currency is not None:
        vat_currency = vat_in_accounting_currency(payload.vat_currency, doc_totals.vat_total, vat_currency_places)
    terms = payload.payment
    if is_b2b(payload) and terms.recovery_indemnity is None:
        terms = replace(terms, recovery_indemnity=RECOVERY_INDEMNITY)
    installments: tuple[Installment, ...] = ()
    if payload.schedule is not None:
        held, release = (retention.amount, retention.release_date) if retention else (None, None)
        final = body.extras.get("final")
        if final is not None and final.retention_total:  # the situations' retention, still owed at release
            held, release = final.retention_total, final.retention_release_date
        installments = schedule(doc_totals.amount_due, payload.schedule, places, held, release)
    due, due_source = _due_date(payload, installments)
    lines, vat_rows, exemptions = _mark_exemptions(body.lines, body.vat_rows)
    return Document(
        type=payload.type,
        type_code=_type_code(payload),
        number=payload.number,
        issue_date=payload.issue_date,
        delivery_date=payload.delivery_date,
        due_date=due,
        currency=payload.currency,
        currency_places=places,
        language=payload.language,
        operation=payload.operation,
        seller=payload.seller,
        buyer=payload.buyer,
        lines=lines,
        vat_breakdown=vat_rows,
        totals=doc_totals,
        payment=terms,
        payments=payload.payments,
        payment_status=payment_status(doc_totals, payload.payments),
        corrects=payload.corrects,
        buyer_reference=payload.buyer_reference,
        order_reference=payload.order_reference,
        vat_on_debits=payload.vat_on_debits,
        notes=payload.notes,
        mentions=mentions_for(payload, vat_rows),
        schedule=installments,
        settlement=payload.settlement,
        exemptions=exemptions,
        due_date_source=due_source,
        vat_currency=vat_currency,
        **{k: v for k, v in body.extras.items()},
    )


def _due_date(payload: InvoicePayload, installments) -> tuple:
    """One due date everywhere: the first instalment's when there is a schedule (the payload
    schema refuses terms that contradict it), none on a credit note (the money runs the
    other way), else the payload's date or issue date + terms."""
    if payload.type == DocumentType.CREDIT_NOTE:
        return None, None
    first = next((i for i in installments if i.kind == "installment"), None)
    if first is not None:
        return first.due_date, "schedule"
    if payload.due_date is not None:
        return payload.due_date, "given"
    found = due_date(payload.issue_date, None, payload.payment.terms_days)
    return found, "terms" if found else None


def _mark_exemptions(lines, rows):
    """Number each distinct exemption wording once; lines and VAT rows refer to it by mark,
    so a category other than S prints its meaning and a reference, never a bare code."""
    marks: dict[tuple[str, str], int] = {}
    for item in (*rows, *lines):
        reason = item.exemption_reason if isinstance(item, VatRow) else item.vat_exemption_reason
        category = item.category if isinstance(item, VatRow) else item.vat_category
        if reason and (category, reason) not in marks:
            marks[(category, reason)] = len(marks) + 1
    if not marks:
        return lines, rows, ()
    rows = tuple(replace(r, exemption_mark=marks.get((r.category, r.exemption_reason or ""))) for r in rows)
    by_rate = {(r.category, r.rate.normalize()): r.exemption_reason for r in rows}  # lines docsvc wrote itself
    lines = tuple(replace(ln, exemption_mark=marks.get((ln.vat_category, ln.vat_exemption_reason or by_rate.get(
        (ln.vat_category, ln.vat_rate.normalize())) or "")))
                  for ln in lines)
    return lines, rows, tuple(Exemption(m, c, r) for (c, r), m in marks.items())


def _type_code(payload: InvoicePayload) -> str:
    """UNTDID 1001: a credit note on a deposit invoice is 503 ("avoir d'acompte"), else 381."""
    if payload.type == DocumentType.CREDIT_NOTE and payload.corrects and payload.corrects.type == "deposit_invoice":
        return "503"
    return TYPE_CODES[payload.type]


# ------------------------------------------------------------------ bodies


def _plain(payload: InvoicePayload, places: int) -> Body:
    """An invoice or a credit note: its lines, and its document-level allowances and charges
    in the VAT base of their category and rate (BR-CO-13)."""
    lines = tuple(price_line(line, places) for line in payload.lines)
    allowances = tuple(apply_document(a, places) for a in payload.allowances)
    charges = tuple(apply_document(c, places) for c in payload.charges)
    return Body(lines, vat_breakdown(lines, places, allowances, charges),
                {"allowances": allowances, "charges": charges})


def _quote(payload: InvoicePayload, places: int) -> QuoteSummary:
    given = payload.quote
    assert given is not None, "a cycle document has its quote (billing/rules.py)"
    lines = tuple(price_line(line, places) for line in given.lines)
    rates = cycle.per_rate(lines, places)
    net = sum((r.base for r in rates), ZERO)
    vat = sum((r.vat for r in rates), ZERO)
    return QuoteSummary(given.number, given.date, lines, rates, net, vat, net + vat)


def _rows(rates, keep_zero: bool = False, quote: QuoteSummary | None = None) -> tuple[VatRow, ...]:
    """VAT rows of a cycle document; an exempt rate keeps the quote's exemption wording (BR-E-10...)."""
    reasons: dict[tuple[str, Decimal], str | None] = {}
    for line in quote.lines if quote is not None else ():
        reasons.setdefault(cycle.rate_key(line.vat_category, line.vat_rate), line.vat_exemption_reason)
    return tuple(VatRow(r.category, r.rate, r.base, r.vat, reasons.get(cycle.rate_key(r.category, r.rate)))
                 for r in rates if keep_zero or r.base or r.vat)


def _computed_line(id: str, description: str, quantity: Decimal, amount: Decimal, rate: RateAmount) -> PricedLine:
    """A line docsvc writes itself (a deposit, a deduction): quantity x a non-negative price."""
    net = quantity * amount
    return PricedLine(id=id, description=description, quantity=quantity, unit="C62", unit_price=amount,
                      gross=net, discount_percent=None, discount_amount=ZERO * amount, net=net,
                      vat_category=rate.category, vat_rate=rate.rate, vat_exemption_reason=None)


def _deposit(payload: InvoicePayload, places: int) -> Body:
    quote = _quote(payload, places)
    request = payload.deposit
    assert request is not None, "a deposit invoice has its deposit (billing/rules.py)"
    previous = tuple(p for p in payload.previous_invoices if p.type == "deposit_invoice")
    deposited = cycle.deposit_bases(payload.previous_invoices)
    parts = cycle.deposit_per_rate(quote.per_rate, request, places, deposited, len(previous))
    gross = sum((p.gross for p in parts), ZERO)
    wanted = request.amount
    if wanted is not None:
        got = gross if request.basis == "gross" else sum((p.base for p in parts), ZERO)
        if got != wanted:  # no split of base + round(VAT) meets it (BR-CO-17); say so, don't bill another amount
            raise BillingError({"deposit.amount": [
                f"{wanted} can't be billed exactly: VAT is rounded on each base, and the nearest amount "
                f"this quote's rates allow is {got}."]})
    all_deposits = gross + sum((p.gross_total for p in previous), ZERO)
    if gross <= 0:
        raise BillingError({"deposit": [f"This deposit amounts to {gross} on quote {quote.number}."]})
    _refuse_deposits_past_the_quote(quote, parts, deposited, all_deposits)
    lang = payload.language
    percent = request.percent if request.percent is not None else (gross * HUNDRED / quote.gross_total).quantize(
        Decimal("0.01"))
    key = "deposit_percent" if request.percent is not None else "deposit_amount"
    base_text = wording.text(key, lang, percent=percent, quote=quote.number, date=quote.date)
    lines = []
    for i, part in enumerate(p for p in parts if p.base):
        suffix = wording.text("rate_suffix", lang, rate=part.rate) if len(parts) > 1 else ""
        lines.append(_computed_line(f"A{i + 1}", base_text + suffix, Decimal(1), part.base, part))
    net = sum((p.base for p in parts), ZERO)
    deposits_net = net + sum((p.net_total for p in previous), ZERO)
    received = max((p.date for p in payload.payments), default=None)
    recap = DepositRecap(quote.number, quote.date, percent, gross, request.basis if request.amount else "percent",
                         parts, quote.per_rate, previous, all_deposits, net=net,
                         percent_is_equivalent=request.percent is None, deposits_net=deposits_net,
                         remaining_net=quote.net_total - deposits_net, remaining_gross=quote.gross_total - all_deposits,
                         received_date=received)
    return Body(tuple(lines), _rows(parts, quote=quote), {"quote": quote, "deposit": recap,
                                             "deposit_layout": payload.deposit_layout})


def _refuse_deposits_past_the_quote(quote: QuoteSummary, parts, deposited, all_deposits: Decimal) -> None:
    """The deposits of a quote never bill more than the quote: in all, gross, nor at any VAT rate, net.
    The document that closes a quote is its final invoice, whose VAT, taken by difference, makes the
    cycle's VAT the quote's; deposits' VAT is rounded on each, and can pass the quote's by a cent."""
    bases = {cycle.rate_key(q.category, q.rate): q.base for q in quote.per_rate}
    errors = [f"A deposit was billed at VAT rate {wording.number(k[1], 'en')} %, which quote {quote.number} "
              "does not use." for k, v in deposited.items() if k not in bases and v]
    for part in parts:
        key = cycle.rate_key(part.category, part.rate)
        billed = deposited.get(key, ZERO) + part.base
        if billed > bases[key]:
            errors.append(f"The deposits of quote {quote.number} would reach {billed} net at VAT rate "
                          f"{wording.number(part.rate, 'en')} %, more than the quote's {bases[key]}.")
    if all_deposits > quote.gross_total:
        errors.append(f"The deposits of quote {quote.number} would reach {all_deposits}, more than the quote's "
                      f"gross total {quote.gross_total}: bill what is left with its final invoice.")
    if errors:
        raise BillingError({"deposit": errors})


def _progress(payload: InvoicePayload, places: int) -> Body:
    quote = _quote(payload, places)
    rows = cycle.progress_rows(quote.lines, payload.progress, places)
    cumulative = cycle.works_per_rate(rows, "cumulative_amount")
    before = cycle.works_per_rate(rows, "previous_amount")
    quote_bases = {cycle.rate_key(r.category, r.rate): r.base for r in quote.per_rate}
    deposits = cycle.deposit_bases(payload.previous_invoices)
    unknown = [k for k in deposits if k not in quote_bases]
    if unknown:
        raise BillingError({"previous_invoices": [
            f"A deposit was billed at VAT rate {wording.number(k[1], 'en')} %, which quote {quote.number} does not use."
            for k in unknown]})
    negative = [k for k, v in deposits.items() if v < 0]
    if negative:
        raise BillingError({"previous_invoices": [
            f"The credit notes on deposits take off more than was deposited at VAT rate {wording.number(k[1], 'en')} %."
            for k in negative]})
    shares: dict = {}
    for invoice in payload.previous_invoices:
        if invoice.type == "deposit_invoice" or (
                invoice.type == "credit_note"
                and cycle.corrected_type(invoice, payload.previous_invoices) == "deposit_invoice"):
            for part in invoice.vat:
                shares.setdefault(cycle.rate_key(part.category, part.rate), []).append(
                    DepositShare(invoice.type, invoice.number, invoice.issue_date, invoice.sign * part.base))
    deducted = {cycle.rate_key(d.category, d.rate): replace(d, deposits=tuple(shares.get(
        cycle.rate_key(d.category, d.rate), ()))) for d in cycle.deductions(
        payload.deposit_deduction, deposits, quote_bases, cumulative, before, places)}
    lang = payload.language
    lines: list[PricedLine] = []
    for row in rows:
        if row.this_amount:
            rate = RateAmount(row.vat_category, row.vat_rate, row.this_amount, ZERO)
            lines.append(_computed_line(row.line_id, wording.text("progress_line", lang, description=row.description,
                                                                  cumulative=row.cumulative_percent),
                                        Decimal(1), row.this_amount, rate))
    works: list[Decimal] = []
    cum_rates: list[RateAmount] = []
    before_rates: list[RateAmount] = []
    vat_parts: list[RateAmount] = []
    for q in quote.per_rate:
        key = cycle.rate_key(q.category, q.rate)
        this = cumulative.get(key, ZERO) - before.get(key, ZERO)
        deduction = deducted[key].amount if key in deducted else ZERO
        if deduction:
            lines.append(_computed_line(f"D{len(vat_parts) + 1}",
                                        wording.text("deposit_deduction", lang, quote=quote.number)
                                        + wording.text("rate_suffix", lang, rate=q.rate),
                                        Decimal(-1), deduction, q))
        base = this - deduction
        if this or deduction:  # a rate whose works the deposit fully covers still has its (zero) row
            vat_parts.append(RateAmount(q.category, q.rate, base, round_money(base * q.rate / HUNDRED, places)))
        works.append(this)
        for target, source in ((cum_rates, cumulative), (before_rates, before)):
            w = source.get(key, ZERO)
            target.append(RateAmount(q.category, q.rate, w, round_money(w * q.rate / HUNDRED, places)))
    if not any(works):
        raise BillingError({"progress": ["This situation bills no work: every line is at its previous progress."]})
    previous_situations = tuple(p for p in payload.previous_invoices if p.type == "progress_invoice")
    recap = ProgressRecap(
        situation_number=len(previous_situations) + 1,
        contract_net=quote.net_total,
        cumulative_works=sum(cumulative.values(), ZERO),
        previous_works=sum(before.values(), ZERO),
        this_works=sum(works, ZERO),
        previous_situations=previous_situations,
        previous_deposits=tuple(p for p in payload.previous_invoices if p.type == "deposit_invoice"),
        rows=rows,
        deductions=tuple(deducted.values()),
        deposit_deduction=payload.deposit_deduction,
        credit_notes=tuple(p for p in payload.previous_invoices if p.type == "credit_note"),
        billed=cycle.billed_per_rate(quote.per_rate, payload.previous_invoices),
        deducted_total=sum((d.amount for d in deducted.values()), ZERO),
    )
    extras = {"quote": quote, "progress": recap, "title_number": recap.situation_number}
    if payload.retention is not None:
        extras["retention"] = _less_what_was_withheld(
            cycle.retention(payload.retention, cum_rates, before_rates, places), previous_situations)
    return Body(tuple(lines), _rows(vat_parts, keep_zero=True, quote=quote), extras)


def _less_what_was_withheld(figures: RetentionFigures, situations: tuple[PreviousInvoice, ...]) -> RetentionFigures:
    """This situation withholds the percent of the cumulative works less what the earlier
    situations withheld. When the payload states what each withheld (or the archive did, see
    usecases/checking.py: check_history), that is what "moins … retenus sur les situations
    précédentes" says: less than the percent of their works when one of them could not
    withhold it all (its deposits covered its works), caught up now. More than the percent
    is refused: the percent was lowered during the contract, and the retention can't go back."""
    stated = [s.retention for s in situations]
    if not stated or any(amount is None for amount in stated):
        return figures
    withheld = sum((amount for amount in stated if amount is not None), ZERO)
    if withheld > figures.withheld_before:
        numbers = ", ".join(s.number for s in situations)
        raise BillingError({"retention.percent": [
            f"The earlier situations ({numbers}) withheld {withheld} in all, but {figures.percent} % of their "
            f"works is {figures.withheld_before}: a retention keeps one percent over a contract, and this "
            "situation withholds the percent of the cumulative works less what they withheld."]})
    return replace(figures, withheld_before=withheld, amount=figures.cumulative - withheld,
                   caught_up=figures.withheld_before - withheld)


def _refuse_retention_over_what_is_paid(figures: RetentionFigures, payable: Decimal, mode: str) -> None:
    """A retention guarantee is withheld from what the buyer pays (loi 71-584): a situation
    whose deposits deducted (or payments received) leave less to pay than its retention
    would ask the seller to pay the buyer. Refused: nothing false is archived."""
    progressive = "" if mode == "progressive" else (
        ", or deduct the deposits progressively (deposit_deduction: progressive) from the first situation on")
    raise BillingError({"retention.percent": [
        f"The retention ({figures.amount}) is more than this situation leaves to pay ({payable}): a retention "
        "is withheld from what the buyer pays. Issue this situation without retention (the next one withholds "
        f"{figures.percent} % of the cumulative works less what was withheld before){progressive}."]})


def _final(payload: InvoicePayload, places: int) -> Body:
    quote = _quote(payload, places)
    previous = payload.previous_invoices
    quote_rates = {cycle.rate_key(r.category, r.rate) for r in quote.per_rate}
    foreign = {f"previous_invoices.{i}.vat.{j}.rate": [
        f"{invoice.number} billed at VAT rate {wording.number(part.rate, 'en')} % ({part.category}), which quote "
        f"{quote.number} does not use: the final invoice would print its deduction and not take it off."]
        for i, invoice in enumerate(previous) for j, part in enumerate(invoice.vat)
        if part.base and cycle.rate_key(part.category, part.rate) not in quote_rates}
    if foreign:
        raise BillingError(foreign)
    billed = cycle.billed_per_rate(quote.per_rate, previous)
    remaining = cycle.remaining_per_rate(quote.per_rate, previous)
    over = [r for r in remaining if r.base < 0]
    if over:
        raise BillingError({"previous_invoices": [
            f"More than quote {quote.number} was already billed at VAT {r.rate} % ({-r.base} over)." for r in over]})
    lang = payload.language
    lines = list(quote.lines)
    for invoice in previous:
        for part in invoice.vat:
            if part.base:
                rate = RateAmount(part.category, part.rate, part.base, part.amount)
                if invoice.type == "credit_note" and invoice.corrects is not None:  # billed again here
                    text = wording.text("credit_added_back", lang, number=invoice.number, date=invoice.issue_date,
                                        corrected=invoice.corrects.number)
                else:
                    text = wording.text("previous_deduction", lang, number=invoice.number, date=invoice.issue_date)
                suffix = wording.text("rate_suffix", lang, rate=part.rate)
                lines.append(_computed_line(f"P{len(lines) + 1}", text + suffix,
                                            Decimal(-invoice.sign), part.base, rate))
    held = tuple(RetentionHeld(p.number, p.issue_date, p.retention, p.retention_release_date)
                 for p in previous if p.type == "progress_invoice" and p.retention)
    releases = [h.release_date for h in held if h.release_date]
    differ = tuple(VatByDifference(r.category, r.rate, r.base, r.vat, round_money(r.base * r.rate / HUNDRED, places))
                   for r in remaining if r.vat != round_money(r.base * r.rate / HUNDRED, places))
    recap = FinalRecap(quote.number, quote.date, quote.per_rate,
                       tuple(p for p in previous if p.type != "credit_note"), billed, remaining,
                       credit_notes=tuple(p for p in previous if p.type == "credit_note"),
                       billed_net=sum((b.base for b in billed), ZERO), billed_vat=sum((b.vat for b in billed), ZERO),
                       billed_gross=sum((b.gross for b in billed), ZERO),
                       retentions=held, retention_total=sum((h.amount for h in held), ZERO),
                       retention_release_date=max(releases, default=None), vat_by_difference=differ)
    # every rate a line uses keeps its row, base 0 and VAT 0 included (EN 16931 BR-S-08)
    return Body(tuple(lines), _rows(remaining, keep_zero=True, quote=quote), {"quote": quote, "final": recap})


BODIES = {
    DocumentType.INVOICE: _plain,
    DocumentType.CREDIT_NOTE: _plain,
    DocumentType.DEPOSIT_INVOICE: _deposit,
    DocumentType.PROGRESS_INVOICE: _progress,
    DocumentType.FINAL_INVOICE: _final,
}
