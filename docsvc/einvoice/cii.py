"""UN/CEFACT CII (Factur-X) XML built from the enriched document.

Profile EN 16931, or EXTENDED when a progress or final invoice references more than
one earlier invoice (EN 16931 allows one BT-25) or a retention needs its own payment
term. Deposits already billed are deducted as negative-quantity lines at their own
VAT rate, never as a prepaid amount, so the buyer deducts each VAT amount once.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency
from lxml import etree

from ..billing import wording
from ..billing.model import Document

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
PROFILES = {"en16931": "urn:cen.eu:en16931:2017",
            "extended": "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended"}
#: UNTDID 4461 payment means.
PAYMENT_MEANS = {"transfer": "58", "card": "48", "cheque": "20", "direct_debit": "59", "cash": "10",
                 "other": "1"}


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


class _Builder:
    def __init__(self):
        self.root = etree.Element(_q("rsm", "CrossIndustryInvoice"), nsmap=NS)

    @staticmethod
    def add(parent, path: str, text=None, **attrs):
        prefix, name = path.split(":")
        el = etree.SubElement(parent, _q(prefix, name))
        if text is not None:
            el.text = str(text)
        for key, value in attrs.items():
            el.set(key, str(value))
        return el


def amount(value: Decimal, places: int = 2) -> str:
    return f"{value:.{places}f}"


def _rate(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _date(parent, b: _Builder, path: str, day: date, qualified: bool = False) -> None:
    holder = b.add(parent, path)
    b.add(holder, ("qdt" if qualified else "udt") + ":DateTimeString", day.strftime("%Y%m%d"), format="102")


def profile_for(doc: Document) -> str:
    """EXTENDED only where EN 16931 can't say it: several BT-25, or partial payment terms."""
    several_terms = bool(doc.schedule) or (doc.retention is not None and bool(doc.retention.amount))
    return "extended" if len(_references(doc)) > 1 or several_terms else "en16931"


def _references(doc: Document) -> list[tuple[str, date]]:
    """BT-25/BT-26: the invoice a credit note corrects, or the earlier invoices a situation
    or a final invoice names on paper: every deposit it deducts and every earlier situation."""
    if doc.corrects is not None:
        return [(doc.corrects.number, doc.corrects.issue_date)]
    if doc.final is not None:
        return [(p.number, p.issue_date) for p in doc.final.previous]
    if doc.progress is not None:
        return [(p.number, p.issue_date) for p in (*doc.progress.previous_deposits, *doc.progress.previous_situations)]
    return []


def billing_frame(doc: Document) -> str:
    """French "cadre de facturation" (BT-23): B goods, S services, M mixed; 1 to pay,
    2 already paid, 4 a final invoice after deposits."""
    letter = {"goods": "B", "services": "S", "mixed": "M"}.get(doc.operation or "", "M")
    if doc.final is not None or (doc.progress is not None and doc.progress.previous_deposits):
        return letter + "4"
    return letter + ("2" if doc.payment_status == "paid" else "1")


def type_code(doc: Document) -> str:
    """UNTDID 1001 (BT-3): 380, 386 for a deposit, 381 for a credit note."""
    return doc.type_code


#: The rule by which an e-invoice billing a VAT category names its seller for VAT: by its VAT
#: number (BT-31), its tax registration identifier (BT-32) or its tax representative's (BT-63).
SELLER_TAX_ID_RULES = {"S": "BR-S-02", "Z": "BR-Z-02", "E": "BR-E-02", "AE": "BR-AE-02", "K": "BR-IC-02",
                       "G": "BR-G-02", "L": "BR-AF-02", "M": "BR-AG-02"}


def seller_tax_id_missing(doc: Document) -> dict[str, list[str]]:
    """What the schematron would refuse in its own words, said with the field to give: a seller
    without a VAT number (franchise en base, art. 293 B, bills category E) names its BT-32."""
    if doc.seller.vat_id or doc.seller.tax_registration_id:
        return {}
    rules = sorted({SELLER_TAX_ID_RULES[r.category] for r in doc.vat_breakdown if r.category in SELLER_TAX_ID_RULES})
    if not rules:
        return {}
    return {"seller.tax_registration_id": [
        f"A Factur-X names the seller for VAT ({', '.join(rules)}): give seller.vat_id, or, for a seller without "
        "a VAT number (franchise en base, art. 293 B du CGI), its tax registration identifier (BT-32)."]}


def build_cii(doc: Document) -> tuple[bytes, str]:
    """The CII XML of a document and the Factur-X level it conforms to."""
    level = profile_for(doc)
    b = _Builder()
    root = b.root
    places = doc.currency_places
    ctx = b.add(root, "rsm:ExchangedDocumentContext")
    b.add(b.add(ctx, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID", billing_frame(doc))
    b.add(b.add(ctx, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", PROFILES[level])

    header = b.add(root, "rsm:ExchangedDocument")
    b.add(header, "ram:ID", doc.number)
    b.add(header, "ram:TypeCode", type_code(doc))
    _date(header, b, "ram:IssueDateTime", doc.issue_date)
    for text, subject in _notes(doc):
        note = b.add(header, "ram:IncludedNote")
        b.add(note, "ram:Content", text)
        if subject:
            b.add(note, "ram:SubjectCode", subject)

    tx = b.add(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        item = b.add(tx, "ram:IncludedSupplyChainTradeLineItem")
        b.add(b.add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.id)
        b.add(b.add(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        agreement = b.add(item, "ram:SpecifiedLineTradeAgreement")
        _prices(b, agreement, line)
        b.add(b.add(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity",
              format(line.quantity, "f"), unitCode=line.unit)
        settlement = b.add(item, "ram:SpecifiedLineTradeSettlement")
        tax = b.add(settlement, "ram:ApplicableTradeTax")
        b.add(tax, "ram:TypeCode", "VAT")
        b.add(tax, "ram:CategoryCode", line.vat_category)
        if line.vat_category != "O":
            b.add(tax, "ram:RateApplicablePercent", _rate(line.vat_rate))
        for is_line_charge, line_parts in ((False, line.allowances), (True, line.charges)):
            for line_part in line_parts:
                _allowance_charge(b, settlement, is_line_charge, line_part, places)
        b.add(b.add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
              "ram:LineTotalAmount", amount(line.net, places))

    agreement = b.add(tx, "ram:ApplicableHeaderTradeAgreement")
    if doc.buyer_reference:
        b.add(agreement, "ram:BuyerReference", doc.buyer_reference)
    _party(b, agreement, "ram:SellerTradeParty", doc.seller)
    _party(b, agreement, "ram:BuyerTradeParty", doc.buyer)
    if doc.order_reference:
        b.add(b.add(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", doc.order_reference)
    if doc.quote is not None:
        b.add(b.add(agreement, "ram:ContractReferencedDocument"), "ram:IssuerAssignedID", doc.quote.number)

    delivery = b.add(tx, "ram:ApplicableHeaderTradeDelivery")
    intra_eu = any(row.category == "K" for row in doc.vat_breakdown)
    if doc.buyer.delivery_address is not None or intra_eu:  # BR-IC-12: an intra-EU supply names where it went
        ship = b.add(delivery, "ram:ShipToTradeParty")
        b.add(ship, "ram:Name", doc.buyer.name)
        _address(b, ship, doc.buyer.delivery_address or doc.buyer.address)
    if doc.delivery_date is not None:  # BT-72 only when the payload gives one: never an invented date
        event = b.add(delivery, "ram:ActualDeliverySupplyChainEvent")
        _date(event, b, "ram:OccurrenceDateTime", doc.delivery_date)

    settlement = b.add(tx, "ram:ApplicableHeaderTradeSettlement")
    if doc.vat_currency is not None:  # BT-6
        b.add(settlement, "ram:TaxCurrencyCode", doc.vat_currency.code)
    b.add(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    terms = doc.payment
    credit = doc.type_code in ("381", "503")  # the seller owes: no account of the seller's to pay into
    # a transfer names its account
    if terms.means and not credit and not (terms.means == "transfer" and not terms.iban):
        means = b.add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        b.add(means, "ram:TypeCode", PAYMENT_MEANS[terms.means])
        if terms.iban:
            b.add(b.add(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", terms.iban)
            if terms.bic:
                b.add(b.add(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", terms.bic)
    for row in doc.vat_breakdown:
        tax = b.add(settlement, "ram:ApplicableTradeTax")
        b.add(tax, "ram:CalculatedAmount", amount(row.amount, places))
        b.add(tax, "ram:TypeCode", "VAT")
        if row.exemption_reason:
            b.add(tax, "ram:ExemptionReason", row.exemption_reason)
        b.add(tax, "ram:BasisAmount", amount(row.base, places))
        b.add(tax, "ram:CategoryCode", row.category)
        if doc.vat_on_debits and row.category == "S":
            b.add(tax, "ram:DueDateTypeCode", "5")
        if row.category != "O":
            b.add(tax, "ram:RateApplicablePercent", _rate(row.rate))
    for is_charge, header_parts in ((False, doc.allowances), (True, doc.charges)):  # BG-20, BG-21
        for header_part in header_parts:
            _allowance_charge(b, settlement, is_charge, header_part, places)
    totals = doc.totals
    due_now = totals.gross_total - totals.prepaid_total + totals.rounding_amount
    for description, day, part in _payment_terms(doc, due_now):
        pt = b.add(settlement, "ram:SpecifiedTradePaymentTerms")
        if description:
            b.add(pt, "ram:Description", description)
        if day:
            _date(pt, b, "ram:DueDateDateTime", day)
        if part is not None:
            b.add(pt, "ram:PartialPaymentAmount", amount(part, places))
    sums = b.add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    b.add(sums, "ram:LineTotalAmount", amount(totals.line_total, places))  # BT-106
    if doc.charges:
        b.add(sums, "ram:ChargeTotalAmount", amount(totals.charge_total, places))  # BT-108
    if doc.allowances:
        b.add(sums, "ram:AllowanceTotalAmount", amount(totals.allowance_total, places))  # BT-107
    b.add(sums, "ram:TaxBasisTotalAmount", amount(totals.net_total, places))
    b.add(sums, "ram:TaxTotalAmount", amount(totals.vat_total, places), currencyID=doc.currency)
    if doc.vat_currency is not None:  # BT-111, in the VAT accounting currency (BR-53)
        b.add(sums, "ram:TaxTotalAmount", amount(doc.vat_currency.vat_total, _places_of(doc.vat_currency.vat_total)),
              currencyID=doc.vat_currency.code)
    if totals.rounding_amount:  # BT-114
        b.add(sums, "ram:RoundingAmount", amount(totals.rounding_amount, places))
    b.add(sums, "ram:GrandTotalAmount", amount(totals.gross_total, places))
    if totals.prepaid_total:
        b.add(sums, "ram:TotalPrepaidAmount", amount(totals.prepaid_total, places))
    b.add(sums, "ram:DuePayableAmount", amount(due_now, places))
    refs = _references(doc)
    for number, day in refs:
        ref = b.add(settlement, "ram:InvoiceReferencedDocument")
        b.add(ref, "ram:IssuerAssignedID", number)
        _date(ref, b, "ram:FormattedIssueDateTime", day, qualified=True)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True), level


def _places_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _price(value: Decimal) -> str:
    """A price as given, up to 6 decimals."""
    return format(value, "f")


def _prices(b: _Builder, agreement, line) -> None:
    """BT-148 with its price discount BT-147, and the net price BT-146, each for the base
    quantity BT-149 (written on both prices when it is not 1)."""
    base = None if line.base_quantity == 1 else format(line.base_quantity, "f")
    if line.gross_price is not None:
        gross = b.add(agreement, "ram:GrossPriceProductTradePrice")
        b.add(gross, "ram:ChargeAmount", _price(line.gross_price))
        if base is not None:
            b.add(gross, "ram:BasisQuantity", base, unitCode=line.unit)
        if line.price_discount:
            discount = b.add(gross, "ram:AppliedTradeAllowanceCharge")
            b.add(b.add(discount, "ram:ChargeIndicator"), "udt:Indicator", "false")
            b.add(discount, "ram:ActualAmount", _price(line.price_discount))
    net = b.add(agreement, "ram:NetPriceProductTradePrice")
    b.add(net, "ram:ChargeAmount", _price(line.unit_price))
    if base is not None:
        b.add(net, "ram:BasisQuantity", base, unitCode=line.unit)


def _allowance_charge(b: _Builder, parent, charge: bool, part, places: int) -> None:
    """BG-20/BG-21 at header level (with their VAT category, BT-95/BT-102), BG-27/BG-28 in a
    line: ChargeIndicator, percent and base when a percent, amount, reason code, reason.
    The `discount` shorthand has neither reason nor code: it is written "Remise" (BR-CO-23)."""
    el = b.add(parent, "ram:SpecifiedTradeAllowanceCharge")
    b.add(b.add(el, "ram:ChargeIndicator"), "udt:Indicator", "true" if charge else "false")
    if part.percent is not None:
        b.add(el, "ram:CalculationPercent", _rate(part.percent))
        b.add(el, "ram:BasisAmount", amount(part.base, places))
    b.add(el, "ram:ActualAmount", amount(part.amount, places))
    if part.reason_code:
        b.add(el, "ram:ReasonCode", part.reason_code)
    if part.reason or not part.reason_code:
        b.add(el, "ram:Reason", part.reason or "Remise")
    if hasattr(part, "vat_category"):  # document level
        tax = b.add(el, "ram:CategoryTradeTax")
        b.add(tax, "ram:TypeCode", "VAT")
        b.add(tax, "ram:CategoryCode", part.vat_category)
        if part.vat_category != "O":
            b.add(tax, "ram:RateApplicablePercent", _rate(part.vat_rate))


def _party(b: _Builder, parent, path: str, party) -> None:
    el = b.add(parent, path)
    b.add(el, "ram:Name", party.name)
    if party.siren or party.siret:
        legal = b.add(el, "ram:SpecifiedLegalOrganization")
        b.add(legal, "ram:ID", party.siren or party.siret[:9], schemeID="0002")
    _address(b, el, party.address)
    if party.siren and party.address.country == "FR":  # the French directory address (BT-34/BT-49)
        b.add(b.add(el, "ram:URIUniversalCommunication"), "ram:URIID", party.siren, schemeID="0225")
    elif party.email:
        b.add(b.add(el, "ram:URIUniversalCommunication"), "ram:URIID", party.email, schemeID="EM")
    if party.vat_id:
        b.add(b.add(el, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")
    if party.tax_registration_id:  # BT-32 (a buyer has none)
        b.add(b.add(el, "ram:SpecifiedTaxRegistration"), "ram:ID", party.tax_registration_id, schemeID="FC")


def street_lines(lines: tuple[str, ...]) -> tuple[str, ...]:
    """The address lines as CII holds them: three at most (BT-35, BT-36, BT-162). A payload may
    give four, which the PDF prints; the third and fourth share the third line, so the XML
    loses none of them."""
    return lines if len(lines) <= 3 else (*lines[:2], ", ".join(lines[2:]))


def _address(b: _Builder, parent, address) -> None:
    el = b.add(parent, "ram:PostalTradeAddress")
    b.add(el, "ram:PostcodeCode", address.postcode)
    for path, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), street_lines(address.lines), strict=False):
        b.add(el, path, text)
    b.add(el, "ram:CityName", address.city)
    b.add(el, "ram:CountryID", address.country)


_NOTE_TEXT = {
    "fr": {
        "late_penalty": "Pénalités de retard : {rate} % par an, exigibles dès le lendemain de l'échéance.",
        "recovery_indemnity": "Indemnité forfaitaire pour frais de recouvrement : {amount} "
                              "(art. L441-10 et D441-5 du Code de commerce).",
        "no_early_payment_discount": "Pas d'escompte pour paiement anticipé.",
        "early_payment_discount": "Escompte de {percent} % pour paiement sous {days} jours.",
        "vat_on_debits": "Option pour le paiement de la TVA d'après les débits.",
        "retention": "Retenue de garantie de {percent} % : {amount}, libérable le {release}.",
        "retention_no_date": "Retenue de garantie de {percent} % : {amount}, date de libération non fixée.",
        "retention_held": "Retenue de garantie retenue sur les situations : {amount}, restant due, "
                          "libérable le {release}.",
        "retention_held_no_date": "Retenue de garantie retenue sur les situations : {amount}, restant due, "
                                  "date de libération non fixée.",
        "settled_deduction": "Avoir à déduire du prochain règlement",
        "settled_refund": "Avoir remboursé",
        "settled_on": " le {date}",
    },
    "en": {
        "late_penalty": "Late payment penalties: {rate}% a year from the day after the due date.",
        "recovery_indemnity": "Fixed recovery indemnity: {amount} (French Commercial Code L441-10, D441-5).",
        "no_early_payment_discount": "No discount for early payment.",
        "early_payment_discount": "{percent}% discount for payment within {days} days.",
        "vat_on_debits": "VAT paid on debits.",
        "retention": "Retention guarantee of {percent}%: {amount}, releasable on {release}.",
        "retention_no_date": "Retention guarantee of {percent}%: {amount}, release date not set.",
        "retention_held": "Retention withheld by the progress invoices: {amount}, still owed, "
                          "releasable on {release}.",
        "retention_held_no_date": "Retention withheld by the progress invoices: {amount}, still owed, "
                                  "release date not set.",
        "settled_deduction": "Credit to be deducted from the next payment",
        "settled_refund": "Credit refunded",
        "settled_on": " on {date}",
    },
}
_NOTE_SUBJECTS = {"late_penalty": "PMD", "recovery_indemnity": "PMT", "no_early_payment_discount": "AAB",
                  "early_payment_discount": "AAB", "vat_on_debits": "TXD"}


def _notes(doc: Document) -> list[tuple[str, str | None]]:
    """Free text notes (BT-22) carrying the legal mentions, each with its UNTDID 4451 subject."""
    texts = _NOTE_TEXT.get(doc.language, _NOTE_TEXT["fr"])
    notes: list[tuple[str, str | None]] = [(text, "AAI") for text in doc.notes]
    seller = doc.seller
    identity = ", ".join(x for x in (
        seller.name, seller.legal_form,
        f"capital {seller.share_capital} {doc.currency}" if seller.share_capital is not None else None,
        f"SIREN {seller.siren}" if seller.siren else None, seller.registration) if x)
    notes.append((identity, "REG"))
    lang = doc.language
    for mention in doc.mentions:
        if mention.code in texts:  # a credit note's too: the French CTC rules ask for them (BR-FR-05)
            values = {k: _money(v, lang) if k == "amount" else _plain(v, lang) for k, v in mention.values.items()}
            notes.append((texts[mention.code].format(**values), _NOTE_SUBJECTS[mention.code]))
    if doc.retention is not None:
        r = doc.retention
        key = "retention" if r.release_date else "retention_no_date"
        notes.append((texts[key].format(percent=_plain(r.percent, lang), amount=_money(r.amount, lang),
                                        release=_day(r.release_date, lang)), "AAI"))
    if doc.final is not None and doc.final.retention_total:
        f = doc.final
        key = "retention_held" if f.retention_release_date else "retention_held_no_date"
        notes.append((texts[key].format(amount=_money(f.retention_total, lang),
                                        release=_day(f.retention_release_date, lang)), "AAI"))
    if doc.settlement is not None:
        notes.append((_settlement_text(doc), "AAI"))
    return notes


def _settlement_text(doc: Document) -> str:
    texts = _NOTE_TEXT.get(doc.language, _NOTE_TEXT["fr"])
    st = doc.settlement
    assert st is not None, "called for a credit note's settlement"
    on = texts["settled_on"].format(date=_day(st.date, doc.language)) if st.date else ""
    return texts["settled_" + st.method] + on + "."


def _plain(value, lang: str = "en") -> str:
    """A rate or a count as the notes' language writes it: 12, 5,5 (fr) or 5.5 (en)."""
    return wording.number(value, lang) if isinstance(value, Decimal) else str(value)


def _money(value, lang: str) -> str:
    """An amount in euros as the PDF prints it: 1 500,00 € (fr), €1,500.00 (en): never 152.7."""
    if not isinstance(value, Decimal):
        return str(value)
    return format_currency(value, "EUR", locale=wording.LOCALES.get(lang, "fr_FR"))


def _day(day: date | None, lang: str) -> str:
    """A date as the PDF prints it: 18 décembre 2027 (fr), 18 December 2027 (en)."""
    return format_date(day, "d MMMM y", locale=wording.LOCALES.get(lang, "fr_FR")) if day else ""


def _payment_terms(doc: Document, due_now: Decimal) -> list[tuple[str | None, date | None, Decimal | None]]:
    """One term with the due date, or (EXTENDED) one per instalment, retention included."""
    if doc.type_code in ("381", "503"):  # no buyer due date on a credit note: the money runs the other way
        return [] if doc.settlement is None else [(_settlement_text(doc), None, None)]
    if doc.schedule:
        return [(None, i.due_date, i.amount) for i in doc.schedule]
    if doc.retention is not None and doc.retention.amount:
        return [(None, doc.due_date, doc.totals.amount_due),
                ("Retenue de garantie" if doc.language == "fr" else "Retention guarantee",
                 doc.retention.release_date, doc.retention.amount)]
    text = None
    if doc.payment.terms_days is not None:
        text = (f"Paiement à {doc.payment.terms_days} jours" if doc.language == "fr"
                else f"Payment within {doc.payment.terms_days} days")
    return [(text, doc.due_date, None)]
