"""The rules across a document's parts: which parts each document type takes, what the
cycle may deduct, progress that never goes backwards, one due date. Pure: a loaded payload
in, the refusals out, each under the JSON path of the field it names (DOMAIN.md, "The cycle").

The payload schema checks each field's shape; these rules need the whole document, like the
legal mentions (mentions.py) and the VAT rates in force (vat_rates.py).
"""
from __future__ import annotations

from datetime import timedelta

from .cycle_model import PreviousInvoice
from .model import DocumentType, InvoicePayload
from .money import ZERO

Errors = dict[str, list[str]]

CYCLE_TYPES = (DocumentType.DEPOSIT_INVOICE, DocumentType.PROGRESS_INVOICE, DocumentType.FINAL_INVOICE)
#: Which earlier documents each type may deduct or recap.
PREVIOUS_ALLOWED = {DocumentType.DEPOSIT_INVOICE: ("deposit_invoice",),
                    DocumentType.PROGRESS_INVOICE: ("deposit_invoice", "progress_invoice", "credit_note"),
                    DocumentType.FINAL_INVOICE: ("deposit_invoice", "progress_invoice", "credit_note")}


def payload_errors(payload: InvoicePayload) -> Errors:
    """Every refusal of the rules below, by JSON path; empty when the document holds together."""
    errors: Errors = {}
    for rule in (parts_of_the_type, previous_invoices, progress, credit_note_parts, due_date, payment_account):
        for path, messages in rule(payload).items():
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


def previous_invoices(payload: InvoicePayload) -> Errors:
    """What each type may deduct; never itself; a credit note listed is netted from an
    invoice listed beside it, with the same date and type."""
    errors: Errors = {}
    allowed = PREVIOUS_ALLOWED.get(payload.type)
    for i, previous in enumerate(payload.previous_invoices):
        if allowed is None or previous.type not in allowed:
            errors[f"previous_invoices.{i}.type"] = [
                f"A {payload.type.value} can't deduct a {previous.type}." if allowed is not None
                else "Only deposit, progress and final invoices list previous invoices."]
        if previous.number == payload.number:
            errors.pop(f"previous_invoices.{i}.type", None)
            errors[f"previous_invoices.{i}.number"] = ["This is the document's own number."]
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
