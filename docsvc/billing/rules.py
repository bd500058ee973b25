"""The rules across a document's parts: which parts each document type takes, what the
cycle may deduct, progress that never goes backwards, one due date. Pure: a loaded payload
in, the refusals out, each under the JSON path of the field it names (DOMAIN.md, "The cycle").

The payload schema checks each field's shape; these rules need the whole document, like the
legal mentions (mentions.py) and the VAT rates in force (vat_rates.py).
"""
from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from decimal import Decimal

from .allowances import apply_document, rate_key
from .cycle_model import PreviousInvoice
from .lines import price_line
from .mentions import RECOVERY_INDEMNITY, is_b2b
from .model import (
    AllowanceCharge,
    DocumentType,
    InvoicePayload,
    Line,
    LineAllowanceCharge,
)
from .money import ZERO
from .vat import category_problem
from .vat_rates import EU

Errors = dict[str, list[str]]

CYCLE_TYPES = (DocumentType.DEPOSIT_INVOICE, DocumentType.PROGRESS_INVOICE, DocumentType.FINAL_INVOICE)
#: Which earlier documents each type may deduct or recap.
PREVIOUS_ALLOWED = {DocumentType.DEPOSIT_INVOICE: ("deposit_invoice",),
                    DocumentType.PROGRESS_INVOICE: ("deposit_invoice", "progress_invoice", "credit_note"),
                    DocumentType.FINAL_INVOICE: ("deposit_invoice", "progress_invoice", "credit_note")}


def payload_errors(payload: InvoicePayload, places: int = 2) -> Errors:
    """Every refusal of the rules below, by JSON path; empty when the document holds together.
    `places`: the minor digits of the invoice currency (EUR 2, JPY 0)."""
    errors: Errors = {}
    for rule in (parts_of_the_type, two_parties, previous_invoices, chronology, progress, credit_note_parts,
                 due_date, payment_account, vat_currency, buyer_for_the_category, legal_payment_terms):
        for path, messages in rule(payload).items():
            errors.setdefault(path, []).extend(messages)
    for path, messages in [*line_prices(payload, places).items(), *allowances_and_charges(payload, places).items(),
                           *amounts_in_the_currency(payload, places).items()]:
        errors.setdefault(path, []).extend(messages)
    return errors


def parts_of_the_type(payload: InvoicePayload) -> Errors:
    """An invoice or credit note has lines; a cycle document bills from its quote, and only
    a deposit invoice takes a deposit, only a situation progress and a retention."""
    errors: Errors = {}
    kind = payload.type.value
    cycle = payload.type in CYCLE_TYPES
    if not cycle and not payload.lines:
        errors["lines"] = ["Missing data for required field."]
    if cycle and payload.lines:
        errors["lines"] = [f"A {kind} bills from the quote: send quote.lines, not lines."]
    if cycle and payload.quote is None:
        errors["quote"] = [f"A {kind} needs the quote (number, date, lines)."]
    for name, needed_by in (("deposit", DocumentType.DEPOSIT_INVOICE), ("retention", DocumentType.PROGRESS_INVOICE)):
        if getattr(payload, name) is not None and payload.type != needed_by:
            errors[name] = [f"Only a {needed_by.value} takes {name}."]
    if payload.type == DocumentType.DEPOSIT_INVOICE and payload.deposit is None:
        errors["deposit"] = ["A deposit invoice needs deposit: {percent} or {amount, basis}."]
    if payload.type == DocumentType.PROGRESS_INVOICE and not payload.progress:
        errors["progress"] = ["A progress invoice needs the progress of at least one quote line."]
    if payload.type != DocumentType.PROGRESS_INVOICE and payload.progress:
        errors["progress"] = ["Only a progress invoice takes progress."]
    return errors


def two_parties(payload: InvoicePayload) -> Errors:
    """A document bills someone else: a buyer with the seller's own SIREN or VAT number is the
    seller (two establishments of one company sell nothing to each other)."""
    seller, buyer = payload.seller, payload.buyer
    errors: Errors = {}
    for name in ("siren", "vat_id"):
        mine = getattr(seller, name)
        if mine and getattr(buyer, name) == mine:
            errors[f"buyer.{name}"] = [f"The seller's own ({mine}): a document bills another person."]
    return errors


def chronology(payload: InvoicePayload) -> Errors:
    """A document states what happened by its date: a cycle document bills an accepted quote and
    deducts what was billed before it, and any document lists the payments already received; the
    quote, the earlier documents and the payments are dated no later than itself."""
    errors: Errors = {}
    issued = payload.issue_date.isoformat()
    if payload.type in CYCLE_TYPES and payload.quote is not None and payload.quote.date > payload.issue_date:
        errors["quote.date"] = [f"Quote {payload.quote.number} is dated {payload.quote.date.isoformat()}, after this "
                                f"{payload.type.value} ({issued}): a document bills a quote already made."]
    for i, payment in enumerate(payload.payments):
        if payment.date > payload.issue_date:
            errors[f"payments.{i}.date"] = [
                f"{payment.date.isoformat()} is after this {payload.type.value} ({issued}): a document lists the "
                "payments received when it is issued."]
    for i, previous in enumerate(payload.previous_invoices):
        if previous.issue_date > payload.issue_date:
            errors[f"previous_invoices.{i}.issue_date"] = [
                f"{previous.number} is dated {previous.issue_date.isoformat()}, after this {payload.type.value} "
                f"({issued}): a document deducts or recaps only what was issued before it."]
    return errors


def dated_in_the_future(payload: InvoicePayload, today: date) -> Errors:
    """An invoice is dated the day it is drawn up (CGI art. 242 nonies A): not later than
    `today` (the caller's clock, in France) and the day after, for a billing system a time
    zone ahead. An original dated in the future would be archived as such for good."""
    if payload.issue_date <= today + timedelta(days=1):
        return {}
    return {"issue_date": [f"{payload.issue_date.isoformat()} is in the future (today is {today.isoformat()}): "
                           "a document is dated the day it is issued."]}


def previous_invoices(payload: InvoicePayload) -> Errors:
    """What each type may deduct; never itself, never one twice; a credit note listed is
    netted from an invoice listed beside it, with the same date and type."""
    errors: Errors = {}
    allowed = PREVIOUS_ALLOWED.get(payload.type)
    first_listed: dict[str, int] = {}
    for i, previous in enumerate(payload.previous_invoices):
        if allowed is None or previous.type not in allowed:
            errors[f"previous_invoices.{i}.type"] = [
                f"A {payload.type.value} can't deduct a {previous.type}." if allowed is not None
                else "Only deposit, progress and final invoices list previous invoices."]
        if previous.number == payload.number:
            errors.pop(f"previous_invoices.{i}.type", None)
            errors[f"previous_invoices.{i}.number"] = ["This is the document's own number."]
        elif previous.number in first_listed:  # deducted or netted twice: the buyer would pay it twice
            errors[f"previous_invoices.{i}.number"] = [f"{previous.number} is already listed at "
                                                       f"previous_invoices.{first_listed[previous.number]}."]
        first_listed.setdefault(previous.number, i)
    listed: dict[str, PreviousInvoice] = {p.number: p for p in payload.previous_invoices if p.type != "credit_note"}
    for i, previous in enumerate(payload.previous_invoices):
        if previous.type != "credit_note" or previous.corrects is None:
            continue
        path = f"previous_invoices.{i}.corrects"
        corrected = listed.get(previous.corrects.number)
        if corrected is None:
            errors[f"{path}.number"] = [f"{previous.corrects.number} is not among the deposits and situations "
                                        "listed in previous_invoices: a credit note is netted from the invoice "
                                        "it corrects."]
            continue
        if corrected.issue_date != previous.corrects.issue_date:
            errors[f"{path}.issue_date"] = [f"{corrected.number} is listed with issue date "
                                            f"{corrected.issue_date.isoformat()}."]
        if previous.corrects.type and previous.corrects.type != corrected.type:
            errors[f"{path}.type"] = [f"{corrected.number} is listed as a {corrected.type}."]
    return errors


def progress(payload: InvoicePayload) -> Errors:
    """A situation's cumulative progress per quote line: a line of the quote, once, never
    past 100 % and never below what was billed before (a correction is a credit note)."""
    if payload.quote is None or payload.type != DocumentType.PROGRESS_INVOICE:
        return {}
    errors: Errors = {}
    quote_lines = {line.id: line for line in payload.quote.lines}
    seen = set()
    for i, entry in enumerate(payload.progress):
        problems = []
        line = quote_lines.get(entry.line)
        if line is None:
            problems.append(f"No quote line {entry.line!r} (quote lines: {', '.join(quote_lines)}).")
        elif entry.line in seen:
            problems.append(f"Line {entry.line} appears twice.")
        else:
            total = line.quantity
            now = entry.percent if entry.percent is not None else (entry.quantity or ZERO) * 100 / total
            before = (entry.previous_percent if entry.previous_percent is not None
                      else (entry.previous_quantity or ZERO) * 100 / total)
            if now > 100:
                problems.append(f"Line {entry.line}: cumulative progress {now:.2f} % is past 100 %.")
            if before > 100:
                problems.append(f"Line {entry.line}: previous progress is past 100 %.")
            if now < before:
                problems.append(f"Line {entry.line}: progress goes backwards ({before:.2f} % before, "
                                f"{now:.2f} % now); a correction is a credit note.")
        seen.add(entry.line)
        if problems:
            errors[f"progress.{i}.line"] = problems
    return errors


def credit_note_parts(payload: InvoicePayload) -> Errors:
    """A credit note names the invoice it corrects and says how it is settled; it has no due
    date and no schedule. Nothing else corrects or is settled."""
    errors: Errors = {}
    credit = payload.type == DocumentType.CREDIT_NOTE
    if credit and payload.corrects is None:
        errors["corrects"] = ["A credit note must reference the invoice it corrects."]
    if not credit and payload.corrects is not None:
        errors["corrects"] = ["Only a credit note corrects an invoice."]
    if credit and payload.due_date is not None:
        errors["due_date"] = ["A credit note has no due date for the buyer: say how it is settled "
                              "in settlement {method, means, date}."]
    if credit and payload.schedule is not None:
        errors["schedule"] = ["A credit note has no payment schedule."]
    if credit and payload.corrects is not None and payload.corrects.issue_date > payload.issue_date:
        errors["issue_date"] = [f"A credit note corrects an invoice already issued: {payload.corrects.number} is "
                                f"dated {payload.corrects.issue_date.isoformat()}, after this credit note."]
    if not credit and payload.settlement is not None:
        errors["settlement"] = ["Only a credit note takes settlement."]
    return errors


def due_date(payload: InvoicePayload) -> Errors:
    """One due date, not before the issue date: a schedule gives it, so a due date or payment
    terms that say otherwise are refused, naming both fields."""
    errors: Errors = {}
    if payload.type == DocumentType.CREDIT_NOTE:
        return errors  # it has none: credit_note_parts
    if payload.due_date is not None and payload.due_date < payload.issue_date:
        errors["due_date"] = ["Before the issue date."]
    plan, terms = payload.schedule, payload.payment
    if plan is None:
        return errors
    first = plan.first_due_date
    if payload.due_date is not None and payload.due_date != first:
        errors["due_date"] = [f"{payload.due_date.isoformat()} contradicts schedule.first_due_date "
                              f"{first.isoformat()}: with a schedule, the due date is the first instalment's."]
        errors["schedule.first_due_date"] = [f"{first.isoformat()} contradicts due_date "
                                             f"{payload.due_date.isoformat()}."]
    if terms.terms_days is not None:
        implied = payload.issue_date + timedelta(days=terms.terms_days)
        if implied != first:
            errors["payment.terms_days"] = [
                f"{terms.terms_days} days from {payload.issue_date.isoformat()} is {implied.isoformat()}, which "
                f"contradicts schedule.first_due_date {first.isoformat()}: leave terms_days out or make them agree."]
            errors["schedule.first_due_date"] = [f"{first.isoformat()} contradicts payment.terms_days "
                                                 f"({terms.terms_days} days: {implied.isoformat()})."]
    return errors


def payment_account(payload: InvoicePayload) -> Errors:
    """A transfer needs the account to pay to (EN 16931 BR-50); a credit note pays nothing in."""
    terms = payload.payment
    if terms.means == "transfer" and not terms.iban and payload.type != DocumentType.CREDIT_NOTE:
        return {"payment.iban": ["A transfer needs the account to pay to (EN 16931 BR-50)."]}
    return {}


# ------------------------------------------------------------ EN 16931 prices, allowances, charges


def _lines_with_paths(payload: InvoicePayload) -> list[tuple[str, Line]]:
    quote = [(f"quote.lines.{i}", line) for i, line in enumerate(payload.quote.lines)] if payload.quote else []
    return [(f"lines.{i}", line) for i, line in enumerate(payload.lines)] + quote


def _one_of(part: LineAllowanceCharge | AllowanceCharge, path: str, what: str, code_list: str,
            rule: str) -> Errors:
    """An allowance or charge is an amount or a percent, never both, and says why: a reason or
    a code (EN 16931 BR-CO-21 to BR-CO-24)."""
    errors: Errors = {}
    if (part.amount is None) == (part.percent is None):
        errors[path] = [f"Give either amount or percent for this {what}."]
    if not part.reason and not part.reason_code:
        errors[f"{path}.reason"] = [f"A {what} needs a reason or a reason_code ({code_list}) (EN 16931 {rule})."]
    return errors


def line_prices(payload: InvoicePayload, places: int = 2) -> Errors:
    """A line has its net price (BT-146) either as unit_price or as gross_price (BT-148) less
    price_discount (BT-147), never both, never negative (BR-27); its allowances (BG-27) and
    charges (BG-28) never turn its net (BT-131) to the other side of zero."""
    errors: Errors = {}
    for path, line in _lines_with_paths(payload):
        if line.unit_price is not None and line.gross_price is not None:
            errors[f"{path}.gross_price"] = ["Give unit_price (the net price, BT-146) or gross_price (BT-148) with "
                                             "price_discount, not both."]
            continue
        if line.unit_price is None and line.gross_price is None:
            errors[f"{path}.unit_price"] = ["Missing data for required field (or give gross_price)."]
            continue
        if line.price_discount is not None and line.gross_price is None:
            errors[f"{path}.price_discount"] = ["A price discount (BT-147) comes off a gross_price (BT-148)."]
            continue
        if line.gross_price is not None and (line.price_discount or ZERO) > line.gross_price:
            errors[f"{path}.price_discount"] = [
                f"Greater than the gross price {line.gross_price}: the net price (BT-146 = BT-148 - BT-147) "
                "can't be negative (EN 16931 BR-27)."]
            continue
        parts = [(f"{path}.allowances.{i}", a, "line allowance", "UNTDID 5189", "BR-CO-23")
                 for i, a in enumerate(line.allowances)]
        parts += [(f"{path}.charges.{i}", c, "line charge", "UNTDID 7161", "BR-CO-24")
                  for i, c in enumerate(line.charges)]
        found: Errors = {}
        for part_path, part, what, codes, rule in parts:
            found.update(_one_of(part, part_path, what, codes, rule))
        if found:
            errors.update(found)
            continue
        priced = price_line(line, places)  # rounded as the document will be, in the currency's minor digits
        if (priced.gross >= 0 and priced.net < 0) or (priced.gross < 0 and priced.net > 0):
            errors[f"{path}.allowances"] = [
                f"The line's allowances ({priced.discount_amount}) exceed its amount {priced.gross}"
                + (f" plus its charges ({priced.charge_amount})" if priced.charge_amount else "")
                + f": its net would be {priced.net}."]
    return errors


def _vat_errors(part: AllowanceCharge, path: str) -> Errors:
    """The VAT category and rate of a document-level allowance or charge agree as a line's do."""
    problem = category_problem(part.vat_rate, part.vat_category, part.vat_exemption_reason)
    return {f"{path}.{problem[0]}": [problem[1]]} if problem is not None else {}


def allowances_and_charges(payload: InvoicePayload, places: int = 2) -> Errors:
    """Document-level allowances (BG-20) and charges (BG-21): an amount, or a percent with its
    base (BT-93/BT-100); a reason or a code (BR-CO-21, BR-CO-22); a VAT category and rate, whose
    base they enter (BR-S-08 and its siblings). An allowance lowers what lines and charges bill
    at its category and rate: never below zero, so never at a category and rate nothing bills.
    "Not subject to VAT" (O) mixes with no other category (BR-O-11 to BR-O-14)."""
    errors: Errors = {}
    given = [("allowances", i, a) for i, a in enumerate(payload.allowances)]
    given += [("charges", i, c) for i, c in enumerate(payload.charges)]
    if not given:
        return errors
    if payload.type not in (DocumentType.INVOICE, DocumentType.CREDIT_NOTE):
        for name in ("allowances", "charges"):
            if getattr(payload, name):
                errors[name] = [f"A {payload.type.value} bills from the quote: document-level {name} go on an "
                                "invoice or a credit note."]
        return errors
    sound = []
    for name, i, part in given:
        path = f"{name}.{i}"
        what = "document-level allowance" if name == "allowances" else "document-level charge"
        found = _one_of(part, path, what, "UNTDID 5189" if name == "allowances" else "UNTDID 7161",
                        "BR-CO-21" if name == "allowances" else "BR-CO-22")
        if part.percent is not None and part.base is None:
            found[f"{path}.base"] = [f"A percent needs its base (BT-{93 if name == 'allowances' else 100}): the "
                                     "amount it is a percent of."]
        if part.base is not None and part.percent is None:
            found[f"{path}.base"] = ["A base goes with a percent."]
        found.update(_vat_errors(part, path))
        errors.update(found)
        if not found:
            sound.append((name, i, part))
    if errors or any(p.unit_price is None and p.gross_price is None for p in payload.lines):
        return errors
    if line_prices(payload, places):
        return errors
    lines = [price_line(line, places) for line in payload.lines]
    billed: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        key = rate_key(line.vat_category, line.vat_rate)
        billed[key] = billed.get(key, ZERO) + line.net
    categories = {line.vat_category for line in lines} | {p.vat_category for _, _, p in sound}
    bases = dict(billed)
    for name, i, part in sound:
        if "O" in categories and len(categories) > 1:
            rule = "BR-O-13" if name == "allowances" else "BR-O-14"
            errors[f"{name}.{i}.vat_category"] = [
                f"'Not subject to VAT' (O) mixes with no other category on one invoice (EN 16931 {rule})."]
        applied = apply_document(part)
        key = rate_key(part.vat_category, part.vat_rate)
        bases[key] = bases.get(key, ZERO) + (-applied.amount if name == "allowances" else applied.amount)
    for name, i, part in sound:
        key = rate_key(part.vat_category, part.vat_rate)
        if name != "allowances" or bases[key] >= 0:
            continue
        where = f"category {part.vat_category}, rate {part.vat_rate} %"
        rule = f"BR-{'IC' if part.vat_category == 'K' else part.vat_category}-08"
        if key not in billed:
            errors[f"{name}.{i}.vat_rate"] = [
                f"No line is billed at {where}: an allowance lowers the VAT base of the lines at its category "
                f"and rate (EN 16931 {rule}), which would be {bases[key]}."]
        elif billed[key] >= 0:
            errors[f"{name}.{i}.amount"] = [
                f"The allowances at {where} exceed what is billed there ({billed[key]} in lines, plus charges): "
                f"that VAT base would be {bases[key]} (EN 16931 {rule})."]
    return errors


def amounts_in_the_currency(payload: InvoicePayload, places: int) -> Errors:
    """Allowance, charge and rounding amounts have the currency's minor digits (BR-DEC-01..27:
    at most 2; fewer for a currency without cents), so nothing is rounded away silently; a
    rounding amount is less than the currency's unit (50.00 was added to an amount due)."""
    found: list[tuple[str, Decimal | None]] = [("rounding_amount", payload.rounding_amount)]
    for name in ("allowances", "charges"):
        for i, part in enumerate(getattr(payload, name)):
            found += [(f"{name}.{i}.amount", part.amount), (f"{name}.{i}.base", part.base)]
    for path, line in _lines_with_paths(payload):
        for name in ("allowances", "charges"):
            found += [(f"{path}.{name}.{i}.amount", part.amount) for i, part in enumerate(getattr(line, name))]
    errors: Errors = {}
    for path, value in found:
        exponent = value.as_tuple().exponent if value is not None else 0
        if isinstance(exponent, int) and exponent < -places:
            errors[path] = [f"At most {places} decimal places in {payload.currency}."]
    unit = Decimal(1) if places else Decimal(10)  # cash rounding: to the unit at most (to ten for yen)
    if payload.rounding_amount is not None and abs(payload.rounding_amount) >= unit and "rounding_amount" not in errors:
        errors["rounding_amount"] = [f"A rounding amount (BT-114) rounds the amount due: less than {unit} "
                                     f"{payload.currency} either way, not {payload.rounding_amount}."]
    return errors


def vat_currency(payload: InvoicePayload) -> Errors:
    """BT-6 is another currency than the invoice's (BT-5); a seller in France accounts VAT in
    euros (CGI art. 242 nonies A: the VAT in euros on an invoice in another currency)."""
    given = payload.vat_currency
    if given is None:
        charged = any(line.vat_category == "S" and line.vat_rate > 0 for _, line in _lines_with_paths(payload))
        if payload.currency != "EUR" and payload.seller.address.country == "FR" and charged:
            return {"vat_currency": [f"A seller in France invoicing in {payload.currency} states the VAT in euros "
                                     "too (CGI art. 242 nonies A): give vat_currency {code: EUR, rate}."]}
        return {}
    if given.code == payload.currency:
        return {"vat_currency.code": [f"The invoice is in {payload.currency} already: give vat_currency only when "
                                      "VAT is accounted in another currency (BT-6)."]}
    if payload.seller.address.country == "FR" and given.code != "EUR":
        return {"vat_currency.code": ["A seller in France accounts VAT in euros (CGI art. 242 nonies A)."]}
    return {}


def buyer_for_the_category(payload: InvoicePayload) -> Errors:
    """An intra-community supply (K) goes to a business of another member state, named by its
    VAT number (CGI art. 262 ter I, BR-IC-02); a reverse charge (AE) names the buyer who pays
    the VAT by its VAT number or SIREN (CGI art. 283, BR-AE-02). The PDF needs them as much as
    the e-invoice: refused whatever the formats."""
    errors: Errors = {}
    buyer = payload.buyer
    destination = (buyer.delivery_address or buyer.address).country
    used = {line.vat_category for _, line in _lines_with_paths(payload)}
    used |= {part.vat_category for part in (*payload.allowances, *payload.charges)}
    if "K" in used:
        if not buyer.vat_id:
            errors["buyer.vat_id"] = ["An intra-community supply (category K) names the buyer's VAT number "
                                      "(CGI art. 262 ter I; EN 16931 BR-IC-02)."]
        if destination not in EU or destination == payload.seller.address.country:
            for path, line in _lines_with_paths(payload):
                if line.vat_category == "K":
                    errors[f"{path}.vat_category"] = [
                        f"Category K is a supply to another EU member state; the goods go to {destination}."]
    if "AE" in used and not (buyer.vat_id or buyer.siren):
        errors["buyer.vat_id"] = ["A reverse charge (category AE) names the buyer who pays the VAT: its VAT "
                                  "number or SIREN (CGI art. 283; EN 16931 BR-AE-02)."]
    return errors


def legal_payment_terms(payload: InvoicePayload) -> Errors:
    """Between businesses (C. com. L441-10): payment within 60 days of the issue date, or 45
    days end of month (the later of the two readings is the ceiling); late-payment penalties
    at a rate above zero (at least three times the legal interest rate, which changes every
    half-year: only 0 is refused here); the recovery indemnity fixed at 40 EUR (D441-5). A
    schedule agreed by contract is left as stated."""
    if payload.type == DocumentType.CREDIT_NOTE or not is_b2b(payload):
        return {}
    errors: Errors = {}
    terms = payload.payment
    issued = payload.issue_date
    plus_45 = issued + timedelta(days=45)
    end_of_month = date(plus_45.year, plus_45.month, monthrange(plus_45.year, plus_45.month)[1])
    latest = max(issued + timedelta(days=60), end_of_month)
    why = (f"Between businesses payment is due within 60 days of the issue date or 45 days end of month "
           f"(C. com. L441-10): on {latest.isoformat()} at the latest.")
    if payload.schedule is None:
        if payload.due_date is not None and payload.due_date > latest:
            errors["due_date"] = [why]
        elif payload.due_date is None and terms.terms_days is not None and issued + timedelta(
                days=terms.terms_days) > latest:
            errors["payment.terms_days"] = [why]
    if terms.late_penalty_rate is not None and terms.late_penalty_rate == 0:
        errors["payment.late_penalty_rate"] = ["Late-payment penalties between businesses are at least three times "
                                               "the legal interest rate (C. com. L441-10): not 0."]
    if terms.recovery_indemnity is not None and terms.recovery_indemnity != RECOVERY_INDEMNITY:
        errors["payment.recovery_indemnity"] = [f"The recovery indemnity is fixed at {RECOVERY_INDEMNITY} EUR "
                                                "(C. com. D441-5): leave it out, or send 40.00."]
    return errors
