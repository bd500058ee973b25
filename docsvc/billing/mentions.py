"""French legal mentions (C. com. L441-9, CGI 242 nonies A, the 2026-2027 reform).

`missing_mentions` names each mandatory mention a payload lacks, by JSON path, so the
service can refuse it before anything is rendered or archived. `mentions_for` lists
the mentions the document carries, as codes and figures; the wording lives in each
template's labels so it can be French or English.
"""
from __future__ import annotations

from decimal import Decimal

from .model import DocumentType, InvoicePayload, Line, Mention, VatRow

#: Legal forms of individual entrepreneurs: no share capital to state.
INDIVIDUAL_FORMS = frozenset({"EI", "EIRL", "MICRO-ENTREPRENEUR", "AUTO-ENTREPRENEUR", "ENTREPRENEUR INDIVIDUEL"})

#: Recovery indemnity for late payment between businesses (C. com. D441-5).
RECOVERY_INDEMNITY = Decimal("40.00")


def is_b2b(payload: InvoicePayload) -> bool:
    return payload.buyer.kind == "business"


def billed_lines(payload: InvoicePayload) -> tuple[Line, ...]:
    """The lines a document actually bills: its own for an invoice or a credit note; the
    quote's for a deposit, a situation or a final invoice, which bill shares of the quote
    at the quote's VAT rates."""
    if payload.type in (DocumentType.INVOICE, DocumentType.CREDIT_NOTE) or payload.quote is None:
        return payload.lines
    return payload.quote.lines


def _franchise_only(payload: InvoicePayload) -> bool:
    """A seller under the VAT franchise (art. 293 B) bills only exempt lines and has no VAT id."""
    lines = billed_lines(payload)
    return bool(lines) and all(line.vat_category == "E" for line in lines)


def missing_mentions(payload: InvoicePayload) -> dict[str, list[str]]:
    """Mandatory mentions absent from a payload whose seller is in France, by JSON path."""
    if payload.seller.address.country != "FR":
        return {}
    missing: dict[str, list[str]] = {}

    def need(path: str, message: str) -> None:
        missing.setdefault(path, []).append(message)

    seller, buyer = payload.seller, payload.buyer
    if not seller.siren:
        need("seller.siren", "The seller's SIREN is a mandatory mention for a seller in France.")
    if not seller.legal_form:
        need("seller.legal_form", "The seller's legal form (SAS, SARL, EI...) is a mandatory mention.")
    elif seller.legal_form.upper() not in INDIVIDUAL_FORMS and seller.share_capital is None:
        need("seller.share_capital", f"A company ({seller.legal_form}) must state its share capital.")
    if not seller.vat_id and not _franchise_only(payload):
        need("seller.vat_id", "The seller's intra-EU VAT number is mandatory when VAT is charged.")
    if is_b2b(payload) and buyer.address.country == "FR" and not buyer.siren:
        need("buyer.siren", "The buyer's SIREN is mandatory between French businesses (2026-2027 reform).")
    if payload.operation is None:
        need("operation", "The nature of the operation (goods, services or mixed) is mandatory.")
    if (payload.due_date is None and payload.payment.terms_days is None and payload.schedule is None
            and payload.type != DocumentType.CREDIT_NOTE):  # a credit note's money runs the other way
        need("due_date", "A due date (or payment.terms_days, or a schedule) is mandatory.")
    quote_lines = payload.quote.lines if payload.quote is not None else ()
    if payload.delivery_date is None and any(line.vat_category == "K" for line in (*payload.lines, *quote_lines)):
        need("delivery_date", "An intra-EU supply (category K) must give the date of the supply "
                              "(EN 16931 BR-IC-11); docsvc never invents one.")
    if is_b2b(payload) and payload.payment.late_penalty_rate is None:
        need("payment.late_penalty_rate", "The late-payment penalty rate is mandatory between businesses.")
    if payload.type == DocumentType.CREDIT_NOTE and payload.corrects is None:
        need("corrects", "A credit note must reference the invoice it corrects.")
    return missing


def mentions_for(payload: InvoicePayload, vat_rows: tuple[VatRow, ...]) -> tuple[Mention, ...]:
    """The legal mentions printed on this document, in the order a reader expects them."""
    out: list[Mention] = []
    if payload.corrects is not None:
        out.append(Mention("credit_note_reference", {"number": payload.corrects.number,
                                                     "issue_date": payload.corrects.issue_date}))
    if payload.operation:
        out.append(Mention("operation_" + payload.operation))
    if payload.vat_on_debits:
        out.append(Mention("vat_on_debits"))
    seen_reasons: set[str] = set()
    for row in vat_rows:
        if row.exemption_reason and row.exemption_reason not in seen_reasons:
            seen_reasons.add(row.exemption_reason)
            out.append(Mention("vat_exemption", {"category": row.category, "reason": row.exemption_reason}))
    terms = payload.payment
    if terms.early_payment_discount is not None:
        out.append(Mention("early_payment_discount", {"percent": terms.early_payment_discount.percent,
                                                      "days": terms.early_payment_discount.days}))
    else:
        out.append(Mention("no_early_payment_discount"))
    if terms.late_penalty_rate is not None:
        out.append(Mention("late_penalty", {"rate": terms.late_penalty_rate}))
    if is_b2b(payload):
        out.append(Mention("recovery_indemnity", {"amount": terms.recovery_indemnity or RECOVERY_INDEMNITY}))
    return tuple(out)
