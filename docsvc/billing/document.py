"""From a validated payload to the enriched document: every figure computed once, here."""
from __future__ import annotations

from dataclasses import replace

from .lines import price_line
from .mentions import RECOVERY_INDEMNITY, is_b2b, mentions_for
from .model import TYPE_CODES, Document, InvoicePayload
from .payments import due_date, payment_status, totals
from .vat import vat_breakdown


def enrich(payload: InvoicePayload, currency_places: int = 2) -> Document:
    """Price the lines, build the VAT breakdown and totals, and list the legal mentions."""
    lines = tuple(price_line(line, currency_places) for line in payload.lines)
    rows = vat_breakdown(lines, currency_places)
    doc_totals = totals(rows, payload.payments, places=currency_places)
    terms = payload.payment
    if is_b2b(payload) and terms.recovery_indemnity is None:
        terms = replace(terms, recovery_indemnity=RECOVERY_INDEMNITY)
    return Document(
        type=payload.type,
        type_code=TYPE_CODES[payload.type],
        number=payload.number,
        issue_date=payload.issue_date,
        delivery_date=payload.delivery_date,
        due_date=due_date(payload.issue_date, payload.due_date, terms.terms_days),
        currency=payload.currency,
        currency_places=currency_places,
        language=payload.language,
        operation=payload.operation,
        seller=payload.seller,
        buyer=payload.buyer,
        lines=lines,
        vat_breakdown=rows,
        totals=doc_totals,
        payment=terms,
        payments=payload.payments,
        payment_status=payment_status(doc_totals, payload.payments),
        corrects=payload.corrects,
        buyer_reference=payload.buyer_reference,
        order_reference=payload.order_reference,
        vat_on_debits=payload.vat_on_debits,
        notes=payload.notes,
        mentions=mentions_for(payload, rows),
    )
