"""Validate (no I/O) and check (against the archive, the template, the e-invoicing rules):
what POST /v1/documents/validate answers and what issuing relies on."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError

from ..archive import Archive, keys
from ..billing import wording
from ..billing.cycle_model import PreviousInvoice
from ..billing.document import BillingError, enrich
from ..billing.mentions import is_b2b, missing_mentions
from ..billing.model import Document, DocumentType, InvoicePayload
from ..billing.numbering import order_problem
from ..billing.rules import dated_in_the_future, payload_errors
from ..billing.text import undrawable
from ..billing.vat_rates import rate_errors
from ..einvoice.cii import build_cii, seller_tax_id_missing
from ..einvoice.rules_process import RulesCheck
from ..errors import Forbidden, InvalidPayload
from ..rendering import TemplateRegistry, glyphs
from ..rendering.bundle import Bundle
from ..rendering.errors import TemplateNotFound
from ..schemas.codes import currency_places
from ..schemas.fields import AMOUNT_MAX
from ..schemas.payload import flatten_errors, load_payload
from .archive_calls import call, resource_or_none
from .results import Resource, Validated

#: A document issued now bears the date in France, whatever the server's time zone.
PARIS = ZoneInfo("Europe/Paris")
#: (seller, number, issue date) -> the archived documents of its series out of order with it
OutOfOrder = Callable[[str, str, date], list[tuple[str, date]]]
#: How a refusal names an archived document of the cycle.
LABELS = {"deposit_invoice": "deposit invoice", "progress_invoice": "situation", "credit_note": "credit note",
          "final_invoice": "final invoice", "invoice": "invoice"}


def validate(raw: Any, max_lines: int | None = None, today: date | None = None) -> Validated:
    """Load the payload, check the document's rules, legal mentions and VAT rates, compute
    every figure. No I/O but the clock: `today` is the date in France unless given."""
    if isinstance(raw, dict) and max_lines is not None:
        given = raw.get("quote")
        quote = given if isinstance(given, dict) else {}
        for path, lines in (("lines", raw.get("lines")), ("quote.lines", quote.get("lines"))):
            if isinstance(lines, list) and len(lines) > max_lines:
                raise InvalidPayload({path: [f"{len(lines)} lines, at most {max_lines} (DOCSVC_MAX_LINES)."]})
    try:
        payload = load_payload(raw, max_lines)
    except ValidationError as exc:
        raise InvalidPayload(flatten_errors(exc.messages)) from None
    incoherent = payload_errors(payload, currency_places(payload.currency))
    for path, messages in dated_in_the_future(payload, today or today_in_france()).items():
        incoherent.setdefault(path, []).extend(messages)
    if incoherent:
        raise InvalidPayload(incoherent)
    missing = missing_mentions(payload)
    if missing:
        raise InvalidPayload(missing, "Mandatory mention(s) missing: " + ", ".join(sorted(missing)) + ".")
    wrong_rates = rate_errors(payload)
    if wrong_rates:
        raise InvalidPayload(wrong_rates, "VAT rate(s) not in force where and when the operation is taxed: "
                             + ", ".join(sorted(wrong_rates)) + ".")
    return Validated(payload, figures(payload))


def today_in_france() -> date:
    """The date a document issued now bears: in Paris, whatever the server's time zone."""
    return datetime.now(PARIS).date()


def figures(payload: InvoicePayload) -> Document:
    """Every figure of the document, or the refusal of what it can't bill."""
    try:
        document = enrich(payload, currency_places(payload.currency),
                          currency_places(payload.vat_currency.code) if payload.vat_currency else 2)
    except BillingError as exc:
        raise InvalidPayload(exc.errors) from None
    too_large = _beyond_the_amount_limit(payload, document)
    if too_large:
        raise InvalidPayload(too_large)
    if payload.type in (DocumentType.INVOICE, DocumentType.CREDIT_NOTE) and document.totals.gross_total < 0:
        raise InvalidPayload({"lines": [
            f"This {payload.type.value} totals {document.totals.gross_total}: an invoice that takes money off is a "
            "credit note (type credit_note, naming the invoice it corrects), and a credit note states positive "
            "amounts, as its own document."]})
    if document.totals.prepaid_total > document.totals.gross_total:
        raise InvalidPayload({"payments": [
            f"Payments received ({document.totals.prepaid_total}) exceed the gross total "
            f"({document.totals.gross_total})."]})
    return document


def _beyond_the_amount_limit(payload: InvoicePayload, document: Document) -> dict[str, list[str]]:
    """The limit every amount of a payload keeps (AMOUNT_MAX, 10^12), kept by what it computes
    too: a line of 10^9 x 10^9 (10^18) is more than the e-invoice's amounts hold (19 characters)."""
    limit = AMOUNT_MAX
    errors: dict[str, list[str]] = {}
    if payload.lines:
        for i, line in enumerate(document.lines[:len(payload.lines)]):
            if abs(line.net) > limit:
                errors[f"lines.{i}"] = [f"The line's amount ({line.net}) is beyond {limit:,.0f}."]
    totals = document.totals
    largest = max(abs(totals.net_total), abs(totals.gross_total), abs(totals.line_total))
    if not errors and largest > limit:
        errors["lines" if payload.lines else "quote.lines"] = [
            f"The document's totals ({largest}) are beyond {limit:,.0f}."]
    return errors


def seller_key(payload: InvoicePayload) -> str:
    """The seller's numbering series: its SIREN, or abroad its VAT number."""
    key = payload.seller.siren or payload.seller.vat_id
    if not key:
        raise InvalidPayload({"seller.siren": ["A SIREN (or, outside France, a VAT number) identifies "
                                               "the seller's numbering series."]})
    return key


def bundle_for(templates: TemplateRegistry, payload: InvoicePayload) -> Bundle:
    """The template version the payload names, able to render every format it asks for."""
    try:
        bundle = templates.get(payload.template.name, payload.template.version)
    except TemplateNotFound:
        wanted = payload.template.name + (f" {payload.template.version}" if payload.template.version else "")
        raise InvalidPayload({"template": [f"No published template {wanted}."]}) from None
    unsupported = [f for f in payload.formats if not bundle.supports(f)]
    if unsupported:
        raise InvalidPayload({"formats": [f"Template {bundle.name} {bundle.version} does not render "
                                          f"{', '.join(unsupported)}."]})
    return bundle


def check_drawable(raw: Any, bundle: Bundle) -> None:
    """Refuse text the template version's fonts can't draw: an original is never re-rendered.
    A DOCX-only version is drawn with the reader's fonts, not ours: nothing to check."""
    if not bundle.supports("pdf"):
        return
    fonts = glyphs.coverage(bundle.path, bundle.sha256)
    errors = undrawable(raw, fonts.codepoints, f"{bundle.name} {bundle.version}", fonts.fonts)
    if errors:
        raise InvalidPayload(errors, f"Text the template {bundle.name} {bundle.version} can't draw: "
                             + ", ".join(sorted(errors)) + ".")


def check_shown(bundle: Bundle, document: Document) -> None:
    """Refuse a figure the template version would print false: a retention catching up what
    the earlier situations could not withhold, beside a line that reads "5 % of this
    situation's works" (classic 1.2.0 to 1.7.2; 1.7.3 declares `retention_caught_up`, and
    1.0.0 prints only true figures). An original is never re-rendered: refused, not printed."""
    retention = document.retention
    if retention is None or not retention.caught_up or bundle.retention_caught_up:
        return
    raise InvalidPayload({"template": [
        f"The earlier situations withheld {retention.withheld_before}, {retention.caught_up} less than "
        f"{retention.percent} % of their works, which this situation withholds now: template {bundle.name} "
        f"{bundle.version} would print its retention as the percent of this situation's works, which it is not. "
        "Use a version that shows it worked out (classic 1.7.3 or later)."]})


def einvoice_check(validated: Validated, separate: bool = False) -> tuple[tuple[bytes, str], RulesCheck]:
    """The CII XML and its level, and the check that the XSD, the EN 16931 schematron and,
    between two French businesses, the French CTC rules pass: reached in a process of its
    own with `separate` (einvoice/rules_process.py), while the caller renders."""
    payload, document = validated.payload, validated.document
    unnamed = seller_tax_id_missing(document)
    if unnamed:
        raise InvalidPayload(unnamed)
    xml, level = build_cii(document)
    french = payload.seller.address.country == "FR" and payload.buyer.address.country == "FR" and is_b2b(payload)
    return (xml, level), RulesCheck(xml, level, french, separate)


def confirm_einvoice(check: RulesCheck) -> None:
    """Refuses the e-invoice unless every official rule passed (waits for the verdict)."""
    failures = check.failures()
    if failures:
        raise InvalidPayload(
            {"facturx": [f"{f.rule}: {f.message}" for f in failures]},
            f"The e-invoice breaks {len(failures)} official rule(s): "
            + ", ".join(sorted({f.rule for f in failures})) + ".",
        ) from None


def einvoice(validated: Validated) -> tuple[bytes, str]:
    """The CII XML and its level, refused unless every official rule passes (checked here)."""
    cii, check = einvoice_check(validated)
    confirm_einvoice(check)
    return cii


class CheckDocument:
    """validate() plus the checks against archived originals and, for Factur-X, the official
    e-invoicing rules. `sellers` limits which sellers the caller may act for (None: any)."""

    def __init__(self, archive: Archive, templates: TemplateRegistry, max_lines: int | None = None,
                 rules_process: bool = False, out_of_order: OutOfOrder | None = None):
        self.archive = archive
        self.templates = templates
        self.max_lines = max_lines
        self.rules_process = rules_process  # the official rules checked in a process of their own
        self.out_of_order = out_of_order  # the search index's documents of a numbering series (bootstrap)

    def __call__(self, raw: Any, sellers: set[str] | None = None) -> Validated:
        validated, bundle = self.allowed(raw, sellers)
        rules = self.complete(raw, validated, bundle)
        if rules is not None:
            confirm_einvoice(rules)
        return validated

    def allowed(self, raw: Any, sellers: set[str] | None = None) -> tuple[Validated, Bundle]:
        """What the payload alone decides: validate(), the caller may act for the seller, the
        template exists and can draw the text; with the template version it resolved to, for
        the issue to render with that very version. A retry needs this much before it is
        answered with its original (IssueDocument), not the checks that follow."""
        validated = validate(raw, self.max_lines)
        seller = seller_key(validated.payload)
        if sellers is not None and seller not in sellers:
            raise Forbidden(f"This key can't act for seller {seller}.")
        # an unknown template or format, or text its fonts can't draw: refused here as at issue
        bundle = bundle_for(self.templates, validated.payload)
        check_drawable(raw, bundle)
        return validated, bundle

    def complete(self, raw: Any, validated: Validated, bundle: Bundle) -> RulesCheck | None:
        """The checks against archived originals; for a Factur-X, the CII built
        (`validated.einvoice`) and its check against the official rules (the schematrons)
        started, which `confirm_einvoice` waits for: nothing may be archived before."""
        self.check_numbering(validated.payload)
        originals = Originals(self.archive, seller_key(validated.payload))  # each read once by the checks below
        completed = self.check_history(validated.payload, originals)
        validated.seen_on_quote = self.check_cycle_complete(validated.payload, originals)
        # the quote, the deduction mode and the progress rows don't depend on what the archive
        # completes (earlier retentions): checked first, a wrong line is named before the
        # retention it throws off
        self.check_cycle_consistent(validated.payload, validated.document, originals)
        if completed is not validated.payload:  # figures again, with what the archive told
            validated.payload, validated.document = completed, figures(completed)
        self.check_credit(validated.payload, validated.document, originals)
        check_shown(bundle, validated.document)  # with the figures the archive completed
        if "facturx" not in validated.payload.formats:
            return None
        validated.einvoice, rules = einvoice_check(validated, self.rules_process)
        return rules

    def check_numbering(self, payload: InvoicePayload) -> None:
        """A new number takes its place in its series in the order of the dates: refused when an
        archived document of the series with a lower number is dated later, or with a higher
        number earlier (billing.numbering). Read from the search index, which may lag behind
        the archive for the documents it has deferred: those are not seen."""
        if self.out_of_order is None:
            return
        problem = order_problem(payload.number, payload.issue_date,
                                self.out_of_order(seller_key(payload), payload.number, payload.issue_date))
        if problem:
            raise InvalidPayload(problem)

    def check_history(self, payload: InvoicePayload, originals: Originals) -> InvoicePayload:
        """Earlier documents the payload names must agree with their archived originals.

        A previous invoice found in the archive must be of the same type, on the same quote,
        with the same figures; a corrected invoice must have the date the payload says.
        Invoices not in this archive (issued elsewhere) are taken as the payload states them.

        An earlier situation may leave out the retention it withheld: archived, it is taken
        from its original (its amount, and its release date unless the payload states one),
        for what the document says of it to be true: a situation's retention less what the
        earlier ones withheld, a final invoice's retention still owed. Returns the payload so
        completed (the same object if nothing was).
        """
        errors: dict[str, list[str]] = {}
        previous_invoices = list(payload.previous_invoices)
        for i, previous in enumerate(payload.previous_invoices):
            archived = originals(previous.number)
            if archived is None:
                unknown = _credit_note_unknown_here(originals, previous)
                if unknown:
                    errors[f"previous_invoices.{i}.number"] = [unknown]
                continue
            doc = archived["document"]
            path = f"previous_invoices.{i}"
            if archived["type"] != previous.type:
                errors[f"{path}.type"] = [f"{previous.number} is archived as a {archived['type']}."]
                continue
            quote = (doc.get("quote") or {}).get("number")
            if previous.type == "credit_note":  # a credit note has no quote: it must correct the invoice stated
                corrected = (doc.get("corrects") or {}).get("number")
                if previous.corrects is not None and corrected != previous.corrects.number:
                    errors[f"{path}.corrects.number"] = [f"{previous.number} corrects {corrected}, "
                                                         f"not {previous.corrects.number}."]
                    continue
            elif payload.quote is not None and quote != payload.quote.number:
                errors[f"{path}.number"] = [f"{previous.number} was issued on quote {quote}, "
                                            f"not {payload.quote.number}."]
                continue
            stated: dict[str, Any] = {
                "issue_date": previous.issue_date.isoformat(), "net_total": str(previous.net_total),
                "gross_total": str(previous.gross_total),
                "vat": sorted((str(Decimal(v.rate).quantize(Decimal("0.01"))), str(v.base), str(v.amount))
                              for v in previous.vat)}
            totals = archived["totals"]
            kept: dict[str, Any] = {
                "issue_date": archived["issue_date"], "net_total": totals["net_total"],
                "gross_total": totals["gross_total"],
                "vat": sorted((v["rate"], v["base"], v["amount"]) for v in totals["vat_breakdown"])}
            if previous.retention is not None:  # the retention a situation withheld, as archived
                stated["retention"] = str(previous.retention)
                kept["retention"] = totals.get("retention_total")
            if previous.retention is None and previous.type == "progress_invoice":
                previous_invoices[i] = _with_archived_retention(previous, archived)
            differing = [k for k in stated if stated[k] != kept[k]]
            if differing:
                errors[path] = [f"{previous.number} differs from its archived original on "
                                f"{', '.join(differing)}: archived " + ", ".join(
                                    f"{k} {kept[k]}" for k in differing) + "."]
        if payload.corrects is not None:
            archived = originals(payload.corrects.number)
            if archived is not None:
                if archived["issue_date"] != payload.corrects.issue_date.isoformat():
                    errors["corrects.issue_date"] = [f"{payload.corrects.number} was issued on "
                                                     f"{archived['issue_date']}."]
                if payload.corrects.type and payload.corrects.type != archived["type"]:
                    errors["corrects.type"] = [f"{payload.corrects.number} is a {archived['type']}."]
        if errors:
            raise InvalidPayload(errors, "The payload disagrees with archived originals: "
                                 + ", ".join(sorted(errors)) + ".")
        if all(a is b for a, b in zip(previous_invoices, payload.previous_invoices, strict=True)):
            return payload
        return replace(payload, previous_invoices=tuple(previous_invoices))

    def check_cycle_complete(self, payload: InvoicePayload, originals: Originals) -> int | None:
        """No double billing across a quote's cycle (DOMAIN.md): every deposit, situation and
        credit note the archive holds on this seller's quote must be in previous_invoices of
        the next situation or the final invoice (left out, it would be billed twice); a new
        deposit must list the quote's deposits already archived and comes before its situations; nothing
        follows a final invoice.
        A document already archived under this number is left to issuing (a retry or a 409).
        Returns how many issued documents of the quote it saw (None: not a cycle document),
        the place issuing claims on the quote (usecases/claims.py)."""
        kinds = {DocumentType.DEPOSIT_INVOICE: ("deposit_invoice",),
                 DocumentType.PROGRESS_INVOICE: ("deposit_invoice", "progress_invoice", "credit_note"),
                 DocumentType.FINAL_INVOICE: ("deposit_invoice", "progress_invoice", "credit_note")}
        if payload.type not in kinds or payload.quote is None:
            return None
        seller = originals.seller
        own = keys.document_id(seller, payload.number)
        if originals(payload.number) is not None:
            return None
        seen = 0
        listed = {p.number for p in payload.previous_invoices}
        quote = payload.quote.number
        problems: list[str] = []
        late: list[str] = []  # a deposit after the situations began
        for entry in call(self.archive.quote_documents, seller, quote):
            if entry["id"] == own or call(self.archive.head, keys.resource_key(entry["id"])) is None:
                continue  # this very document, or an attempt that crashed before its resource
            seen += 1
            what = f"{entry['number']} ({LABELS.get(entry['type'], entry['type'])} of {entry['issue_date']})"
            if entry["type"] == "final_invoice":
                problems.append(f"Quote {quote} already has its final invoice {what}: nothing is left to bill "
                                "on it; correct it with a credit note.")
            elif payload.type == DocumentType.DEPOSIT_INVOICE and entry["type"] == "progress_invoice":
                late.append(f"Quote {quote} already has the situation {what}: a deposit comes before the "
                            "situations, which deduct it from the works; bill the works in the next situation.")
            elif entry["type"] in kinds[payload.type] and entry["number"] not in listed:
                problems.append(f"{what} is archived on quote {quote} but not listed in previous_invoices: "
                                "the buyer would pay it twice. List it (number, issue_date, figures).")
        if problems:
            raise InvalidPayload({"previous_invoices": problems, **({"deposit": late} if late else {})},
                                 f"{len(problems)} document(s) of quote {quote} in the archive are not accounted "
                                 "for: " + "; ".join(problems))
        if late:
            raise InvalidPayload({"deposit": late}, late[0])
        return seen

    def check_cycle_consistent(self, payload: InvoicePayload, document: Document,
                               originals: Originals) -> None:
        """What the archived documents of a quote fix for the next ones (DOMAIN.md, "No double
        billing across a cycle"): the quote itself (its date and figures: one sent with other
        lines would bill another contract under the same number), how a situation deducts the
        deposits (a mode changed midway deducts them twice or never), and each line's progress,
        which starts where the latest situation listed left it (understated, the works it billed
        would be billed again). Only what this archive holds is compared."""
        if payload.quote is None or document.quote is None:
            return
        archived = []
        for i, previous in enumerate(payload.previous_invoices):
            if previous.type == "credit_note":
                continue
            resource = originals(previous.number)
            if resource is not None and resource["type"] == previous.type:
                archived.append((i, previous, resource["document"]))
        errors: dict[str, list[str]] = {}
        mine = document.quote
        ours = {"date": mine.date.isoformat(), "net_total": str(mine.net_total), "vat_total": str(mine.vat_total),
                "gross_total": str(mine.gross_total)}
        for _, previous, earlier in archived:
            quote = earlier.get("quote") or {}
            theirs = {k: quote.get(k) for k in ours}
            if quote.get("number") == mine.number and theirs != ours:
                differing = [k for k in ours if ours[k] != theirs[k]]
                errors["quote"] = [f"Quote {mine.number} is the one {previous.number} was issued on: "
                                   + ", ".join(f"{k} {theirs[k]}" for k in differing) + " (here "
                                   + ", ".join(f"{ours[k]}" for k in differing) + "). Another contract is "
                                   "another quote number."]
                break
        if payload.type == DocumentType.PROGRESS_INVOICE and document.progress is not None:
            situations = [(i, p, d) for i, p, d in archived if p.type == "progress_invoice"]
            modes = {d["progress"]["deposit_deduction"]: p.number for _, p, d in situations if d.get("progress")}
            if modes and payload.deposit_deduction not in modes:
                mode, number = next(iter(modes.items()))
                errors["deposit_deduction"] = [f"{number} deducted the deposits {mode}: a cycle keeps one mode, "
                                               "or the deposits are deducted twice or never."]
            listed = [(p.issue_date, i) for i, p in enumerate(payload.previous_invoices)
                      if p.type == "progress_invoice"]
            latest = max(listed)[1] if listed else None
            last = next(((p.number, d) for i, p, d in situations if i == latest), None)
            if last is not None and last[1].get("progress"):
                number, left = last[0], {r["line_id"]: r for r in last[1]["progress"]["rows"]}
                entries = {e.line: k for k, e in enumerate(payload.progress)}
                for row in document.progress.rows:
                    before = left.get(row.line_id)
                    if before is None or Decimal(before["cumulative_amount"]) == row.previous_amount:
                        continue
                    path = f"progress.{entries[row.line_id]}.previous_percent" if row.line_id in entries else "progress"
                    errors.setdefault(path, []).append(
                        f"Line {row.line_id} stood at {before['cumulative_percent']} % "
                        f"({before['cumulative_amount']}) after {number}, not {row.previous_percent} % "
                        f"({row.previous_amount}): a situation starts where the last one left each line.")
        if errors:
            raise InvalidPayload(errors, f"The payload disagrees with the archived documents of quote {mine.number}: "
                                 + ", ".join(sorted(errors)) + ".")

    def check_credit(self, payload: InvoicePayload, document: Document, originals: Originals) -> None:
        """A credit note on an invoice this archive holds reverses what that invoice charged,
        and no more (CGI art. 272: only VAT invoiced can be reversed): never a credit note, only
        the invoice's VAT rates, and per rate no more than its base less the credit notes
        already issued on it (listed under it, see Archive.file_under_invoice). An invoice
        issued elsewhere is taken as the payload states it."""
        if payload.type != DocumentType.CREDIT_NOTE or payload.corrects is None:
            return
        seller = originals.seller
        number = payload.corrects.number
        invoice = originals(number)
        if invoice is None:
            return
        if invoice["type"] == "credit_note":
            raise InvalidPayload({"corrects.number": [
                f"{number} is a credit note: a credit note corrects an invoice. To bill again what it "
                "credited, issue an invoice."]})
        left = {_rate_of(v): Decimal(v["base"]) for v in invoice["totals"]["vat_breakdown"]}
        own = keys.document_id(seller, payload.number)
        credited: list[str] = []
        for entry in call(self.archive.credit_notes_of, seller, number):
            earlier = originals(entry["number"]) if entry["id"] != own else None
            if earlier is None:
                continue  # this very credit note, or an attempt that crashed before its resource
            credited.append(earlier["number"])
            for v in earlier["totals"]["vat_breakdown"]:
                left[_rate_of(v)] = left.get(_rate_of(v), Decimal(0)) - Decimal(v["base"])
        charged = ", ".join(f"{wording.number(rate, 'en')} % ({category})" for category, rate in left)
        before = f", less the credit notes {', '.join(credited)} already issued on it" if credited else ""
        errors: dict[str, list[str]] = {}
        for row in document.vat_breakdown:
            key = (row.category, row.rate.normalize())
            paths = [f"lines.{i}.vat_rate" for i, line in enumerate(payload.lines)
                     if (line.vat_category, line.vat_rate.normalize()) == key] or ["lines"]
            rate = f"{wording.number(key[1], 'en')} % ({key[0]})"
            if key not in left:
                message = (f"{number} charged no VAT at {rate}: a credit note reverses the VAT the "
                           f"invoice charged, at its rates: {charged}.")
            elif row.base > left[key]:
                message = (f"At {rate} this credit note takes off {row.base}, but {number} billed "
                           f"{max(left[key], Decimal(0))} at that rate{before}: a credit note takes off at most "
                           "what the invoice billed.")
            else:
                continue
            for path in paths:
                errors.setdefault(path, []).append(message)
        if errors:
            raise InvalidPayload(errors, f"The credit note takes off more than {number} billed: "
                                 + ", ".join(sorted(errors)) + ".")


class Originals:
    """The archived originals of one seller that one check reads, by number, each fetched
    once: a cycle document's earlier invoices are read by the history, the cycle and the
    credit-note checks alike."""

    def __init__(self, archive: Archive, seller: str):
        self.archive = archive
        self.seller = seller
        self._found: dict[str, Resource | None] = {}

    def __call__(self, number: str) -> Resource | None:
        if number not in self._found:
            self._found[number] = resource_or_none(self.archive, keys.document_id(self.seller, number))
        return self._found[number]


def _credit_note_unknown_here(originals: Originals, previous: PreviousInvoice) -> str | None:
    """Why a credit note listed but not archived can't be: the invoice it corrects is in this
    archive, so a credit note on it would be too (a final invoice netting a made-up credit
    note bills its amount again). None when nothing says it is made up."""
    if previous.type != "credit_note" or previous.corrects is None:
        return None
    if originals(previous.corrects.number) is None:
        return None  # its invoice was issued elsewhere: taken as stated
    return (f"{previous.number} is listed as a credit note on {previous.corrects.number}, which this archive "
            "holds, but no such credit note was issued here: list the credit notes issued on it.")


def _rate_of(row: dict[str, Any]) -> tuple[str, Decimal]:
    """A VAT breakdown row's (category, rate) as archived, comparable with a VatRow's."""
    return row.get("category") or "S", Decimal(row["rate"]).normalize()


def _with_archived_retention(previous: PreviousInvoice, archived: Resource) -> PreviousInvoice:
    """An archived situation as its original withheld: its retention_total (0.00 when it
    withheld none) and, unless the payload states one (the works accepted later than
    foreseen), that retention's release date."""
    withheld = archived["totals"].get("retention_total")
    if withheld is None:  # an original from before the retention was archived: nothing to tell
        return previous
    release = (archived["document"].get("retention") or {}).get("release_date")
    stated = previous.retention_release_date
    return replace(previous, retention=Decimal(withheld),
                   retention_release_date=stated or (date.fromisoformat(release) if release else None))
