"""The official EN 16931 example invoices (CEN, ConnectingEurope/eInvoicing-EN16931, EUPL 1.2)
read back as docsvc payloads, with the figures each example states: every total (BT-106 to
BT-115), every VAT row (BG-23) and every line net (BT-131).

`read(path)` takes a CII (rsm:CrossIndustryInvoice) or a UBL (Invoice) file. What docsvc can't
express, or an example states inconsistently, is converted to the nearest thing docsvc can bill
and listed in `Example.notes`, so the test says so. Where the examples are: tests/data/en16931/README.md.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from lxml import etree

from docsvc.schemas.codes import currency_places
from tests.conftest import ROOT

CII = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
       "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
       "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}
UBL = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
       "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
TOTALS = ("line_total", "allowance_total", "charge_total", "net_total", "vat_total", "vat_accounting_total",
          "gross_total", "prepaid_total", "rounding_amount", "amount_due")
#: BT ids of TOTALS, in order
BT = dict(zip(TOTALS, ("BT-106", "BT-107", "BT-108", "BT-109", "BT-110", "BT-111", "BT-112", "BT-113", "BT-114",
                       "BT-115"), strict=True))
MANIFEST = ROOT / "tests" / "data" / "en16931" / "README.md"


def examples_dir() -> Path | None:
    """DOCSVC_EN16931_EXAMPLES, else shared/en16931 beside the repository (the steering repo's
    shared/, where fetched data files may be kept), else None."""
    given = os.environ.get("DOCSVC_EN16931_EXAMPLES")
    for folder in ([Path(given)] if given else []) + [ROOT.parent / "shared" / "en16931"]:
        if folder.is_dir():
            return folder
    return None


def manifest() -> dict[str, str]:
    """file name -> SHA-256, from the table of tests/data/en16931/README.md."""
    out = {}
    for row in MANIFEST.read_text().splitlines():
        cells = [c.strip(" `") for c in row.strip().strip("|").split("|")]
        if len(cells) >= 3 and len(cells[-1]) == 64 and cells[0].endswith((".xml", ".XML")):
            out[cells[0]] = cells[-1]
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Example:
    """A payload and what the example states."""

    name: str
    payload: dict
    totals: dict[str, Decimal | None]
    vat_rows: list[tuple[str, Decimal, Decimal, Decimal]]  # category, rate, base, amount
    line_nets: list[Decimal]
    notes: list[str] = field(default_factory=list)


def D(text: str | None) -> Decimal | None:
    return None if text is None or not text.strip() else Decimal(text.strip())


def plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _party(name: str | None, country: str | None) -> dict:
    return {"name": (name or "Party")[:200], "kind": "business",
            "address": {"lines": ["Street 1"], "postcode": "0000", "city": "City", "country": country or "DE"}}


def _reasons(rows: list[dict]) -> dict[str, str]:
    """Exemption wording per category, from the VAT rows (lines and allowances carry none)."""
    return {r["category"]: r["reason"] for r in rows if r["reason"]}


def _vat_fields(category: str, rate: Decimal | None, reasons: dict[str, str]) -> dict:
    out = {"vat_category": category, "vat_rate": plain(rate if rate is not None else Decimal(0))}
    if category in ("E", "AE", "K", "G", "O"):
        out["vat_exemption_reason"] = reasons.get(category) or {"AE": "Reverse charge", "K": "Intra-community supply",
                                                                "G": "Export outside the EU", "O": "Not subject to VAT",
                                                                "E": "Exempt"}[category]
    return out


def _part(given: dict, notes: list[str], where: str, line_amount: Decimal | None = None, places: int = 2) -> dict:
    """An allowance or charge: a percent where the example's amount is that percent of its
    base (of the line amount, for a line), else the amount; reason and code as given."""
    amount, percent, base = given["amount"], given["percent"], given["base"]
    out: dict = {}
    if given["reason"]:
        out["reason"] = given["reason"]
    if given["code"]:
        out["reason_code"] = given["code"]
    if not out:
        out["reason"] = "(none given)"
        notes.append(f"{where}: no reason nor code (EN 16931 BR-CO-21..24 ask one); 'none given' used")
    computed = None
    if percent is not None and base is not None:
        computed = _cent(base * percent / 100, places)
    if percent is not None and computed == amount and (line_amount is None or base == line_amount):
        out["percent"] = plain(percent)
        if line_amount is None:
            out["base"] = plain(base)
    else:
        if percent is not None:
            notes.append(f"{where}: {percent} % of {base} is {computed}, the example says {amount}"
                         + (f" (and the line amount is {line_amount})" if line_amount is not None else "")
                         + ": its amount is used")
        out["amount"] = plain(amount)
    return out


def read(path: Path) -> Example:
    tree = etree.parse(str(path)).getroot()
    reader = _cii if etree.QName(tree).localname == "CrossIndustryInvoice" else _ubl
    return reader(path.name, tree)


def _finish(name, number, issue, currency, seller, buyer, lines, allowances, charges, rows, totals, tax_currency,
            line_nets, notes) -> Example:
    """The payload, with what the example states and what it states inconsistently (notes)."""
    reasons = _reasons(rows)
    places = currency_places(currency)
    payload: dict = {"type": "invoice", "number": "EX-1", "issue_date": issue, "currency": currency,
                     "seller": seller, "buyer": buyer, "lines": [], "allowances": [], "charges": []}
    for i, ln in enumerate(lines):
        where = f"line {ln['id']}"
        entry: dict = {"id": str(i + 1), "description": (ln["name"] or f"Line {i + 1}")[:1000],
                       "quantity": plain(ln["quantity"]), "unit": ln["unit"],
                       **_vat_fields(ln["category"], ln["rate"], reasons)}
        net_price, gross, discount, base_quantity = ln["net_price"], ln["gross_price"], ln["price_discount"], \
            ln["base_quantity"]
        if gross is not None and gross - (discount or 0) == net_price:
            entry["gross_price"] = plain(gross)
            if discount:
                entry["price_discount"] = plain(discount)
        else:
            if gross is not None:
                notes.append(f"{where}: gross price {gross} less discount {discount or 0} is not the net price "
                             f"{net_price} (BT-146 = BT-148 - BT-147): the net price is used")
            entry["unit_price"] = plain(net_price)
        if base_quantity is not None and base_quantity != 1:
            entry["base_quantity"] = plain(base_quantity)
        amount = _amount(ln["quantity"], net_price, base_quantity, places)
        for kind in ("allowances", "charges"):
            parts = [_part(p, notes, f"{where} {kind[:-1]} {j + 1}", amount, places) for j, p in enumerate(ln[kind])]
            if parts:
                entry[kind] = parts
        _match_line_net(entry, ln, line_nets[i], notes, where, places)
        payload["lines"].append(entry)
    for kind, given in (("allowances", allowances), ("charges", charges)):
        for j, p in enumerate(given):
            part = _part(p, notes, f"document {kind[:-1]} {j + 1}", None, places)
            part.update(_vat_fields(p["category"], p["rate"], reasons))
            payload[kind].append(part)
    if totals["prepaid_total"]:
        payload["payments"] = [{"date": issue, "amount": plain(totals["prepaid_total"])}]
    if totals["rounding_amount"]:
        payload["rounding_amount"] = plain(totals["rounding_amount"])
    if tax_currency and tax_currency != currency:
        vat, accounting = totals["vat_total"], totals["vat_accounting_total"]
        assert vat is not None and accounting is not None, f"{name}: BT-6 without BT-111 (BR-53)"
        if vat == 0 and accounting == 0:  # no VAT (exempt): any rate gives 0 in the accounting currency
            payload["vat_currency"] = {"code": tax_currency, "rate": "1"}
            notes.append(f"BT-6 {tax_currency}: EN 16931 carries no exchange rate; with no VAT any rate gives "
                         "BT-111 0, so 1 is used")
        else:
            payload["vat_currency"] = {"code": tax_currency, "rate": plain(_rate(accounting, vat))}
            notes.append(f"BT-6 {tax_currency}: EN 16931 carries no exchange rate; the shortest rate that gives "
                         f"BT-111 {accounting} from BT-110 {vat} is used")
    elif tax_currency == currency:
        notes.append(f"BT-6 {tax_currency} is the invoice currency itself: no vat_currency")
        totals["vat_accounting_total"] = None
    rows_out = [(r["category"], r["rate"], r["base"], r["amount"]) for r in rows]
    return Example(name, payload, totals, rows_out, line_nets, notes)


def _cent(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def _amount(quantity: Decimal, price: Decimal, base: Decimal | None, places: int = 2) -> Decimal:
    return _cent(quantity * price / (base or 1), places)


def _net(entry: dict, places: int) -> Decimal:
    """BT-131 as docsvc computes it from a payload line."""
    price = Decimal(entry.get("unit_price") or Decimal(entry["gross_price"]) - Decimal(entry.get("price_discount", 0)))
    amount = _amount(Decimal(entry["quantity"]), price, Decimal(entry.get("base_quantity", 1)), places)

    def total(kind):
        return sum((Decimal(p["amount"]) if "amount" in p else _cent(amount * Decimal(p["percent"]) / 100, places)
                    for p in entry.get(kind, ())), Decimal(0))
    return amount - total("allowances") + total("charges")


def _match_line_net(entry: dict, ln: dict, stated: Decimal, notes: list[str], where: str, places: int) -> None:
    """Where the example's own line net (BT-131) is not quantity x net price / base quantity -
    allowances + charges, say so and bill the line as the example's totals count it: base
    quantity 1 (the CII examples that copy the price into BasisQuantity), the quantity's sign,
    or else the net price that gives the stated net."""
    net = _net(entry, places)
    if net == stated:
        return
    said = f"{where}: BT-131 is {stated} but {ln['quantity']} x {ln['net_price']}"
    said += f" / {ln['base_quantity']}" if ln["base_quantity"] not in (None, 1) else ""
    said += f" with its allowances and charges is {net}"
    if "base_quantity" in entry:
        trial = {k: v for k, v in entry.items() if k != "base_quantity"}
        if _net(trial, places) == stated:
            del entry["base_quantity"]
            notes.append(f"{said}: base quantity 1 gives the stated net (BasisQuantity copies the price), used")
            return
    if _net({**entry, "quantity": plain(-Decimal(entry["quantity"]))}, places) == stated:
        entry["quantity"] = plain(-Decimal(entry["quantity"]))
        notes.append(f"{said}: the quantity's sign is turned")
        return
    for kind in ("allowances", "charges"):  # their amounts as stated, whatever the price
        for part in entry.get(kind, ()):
            if "percent" in part:
                part["amount"] = plain(_cent(_amount(Decimal(entry["quantity"]), ln["net_price"], ln["base_quantity"],
                                                     places) * Decimal(part.pop("percent")) / 100, places))
    if Decimal(entry.get("base_quantity", 1)) == ln["net_price"]:  # the price copied into BasisQuantity
        del entry["base_quantity"]
    allowed = sum((Decimal(p["amount"]) for p in entry.get("allowances", ())), Decimal(0))
    charged = sum((Decimal(p["amount"]) for p in entry.get("charges", ())), Decimal(0))
    price = ((stated + allowed - charged) * Decimal(entry.get("base_quantity", 1)) / Decimal(entry["quantity"]))
    if price >= 0 and price == price.quantize(Decimal("0.000001")):
        entry.pop("gross_price", None)
        entry.pop("price_discount", None)
        entry["unit_price"] = plain(price)
        notes.append(f"{said}: the net price {plain(price)} that gives the stated net is used")
        return
    notes.append(f"{said}: no price, quantity or base quantity gives it")


def _rate(accounting: Decimal, vat: Decimal) -> Decimal:
    """The shortest decimal r with round(r x vat) = accounting."""
    for places in range(0, 11):
        r = (accounting / vat).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        if _cent(r * vat) == accounting:
            return r
    raise AssertionError(f"no rate of at most 10 decimals gives {accounting} from {vat}")


# ------------------------------------------------------------------ CII


def _cii(name: str, root) -> Example:
    def t(el, path):
        return el.findtext(path, namespaces=CII)

    notes: list[str] = []
    tx = root.find("rsm:SupplyChainTradeTransaction", CII)
    settlement = tx.find("ram:ApplicableHeaderTradeSettlement", CII)
    currency = t(settlement, "ram:InvoiceCurrencyCode")
    tax_currency = t(settlement, "ram:TaxCurrencyCode")
    issue = t(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString")
    issue = f"{issue[:4]}-{issue[4:6]}-{issue[6:8]}"
    agreement = tx.find("ram:ApplicableHeaderTradeAgreement", CII)
    seller = _party(t(agreement, "ram:SellerTradeParty/ram:Name"),
                    t(agreement, "ram:SellerTradeParty/ram:PostalTradeAddress/ram:CountryID"))
    buyer = _party(t(agreement, "ram:BuyerTradeParty/ram:Name"),
                   t(agreement, "ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CountryID"))

    def part(el) -> dict:
        return {"charge": t(el, "ram:ChargeIndicator/udt:Indicator") == "true",
                "amount": D(t(el, "ram:ActualAmount")), "percent": D(t(el, "ram:CalculationPercent")),
                "base": D(t(el, "ram:BasisAmount")), "reason": t(el, "ram:Reason"), "code": t(el, "ram:ReasonCode"),
                "category": t(el, "ram:CategoryTradeTax/ram:CategoryCode"),
                "rate": D(t(el, "ram:CategoryTradeTax/ram:RateApplicablePercent"))}

    lines, nets = [], []
    for item in tx.iterfind("ram:IncludedSupplyChainTradeLineItem", CII):
        price = item.find("ram:SpecifiedLineTradeAgreement", CII)
        gross = price.find("ram:GrossPriceProductTradePrice", CII)
        net = price.find("ram:NetPriceProductTradePrice", CII)
        quantity = item.find("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", CII)
        line_settlement = item.find("ram:SpecifiedLineTradeSettlement", CII)
        parts = [part(p) for p in line_settlement.iterfind("ram:SpecifiedTradeAllowanceCharge", CII)]
        gross_base, net_base = (D(t(gross, "ram:BasisQuantity")) if gross is not None else None,
                                D(t(net, "ram:BasisQuantity")))
        if gross_base is not None and net_base is not None and gross_base != net_base:
            notes.append(f"line {t(item, 'ram:AssociatedDocumentLineDocument/ram:LineID')}: base quantity "
                         f"{gross_base} on the gross price, {net_base} on the net price: the net price's is used")
        lines.append({
            "id": t(item, "ram:AssociatedDocumentLineDocument/ram:LineID"),
            "name": t(item, "ram:SpecifiedTradeProduct/ram:Name"),
            "quantity": D(quantity.text), "unit": quantity.get("unitCode"),
            "net_price": D(t(net, "ram:ChargeAmount")),
            "base_quantity": net_base if net_base is not None else gross_base,
            "gross_price": D(t(gross, "ram:ChargeAmount")) if gross is not None else None,
            "price_discount": (D(t(gross, "ram:AppliedTradeAllowanceCharge/ram:ActualAmount"))
                               if gross is not None else None),
            "category": t(line_settlement, "ram:ApplicableTradeTax/ram:CategoryCode"),
            "rate": D(t(line_settlement, "ram:ApplicableTradeTax/ram:RateApplicablePercent")),
            "allowances": [p for p in parts if not p["charge"]], "charges": [p for p in parts if p["charge"]]})
        nets.append(D(t(line_settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")))
    header = [part(p) for p in settlement.iterfind("ram:SpecifiedTradeAllowanceCharge", CII)]
    rows = [{"category": t(r, "ram:CategoryCode"), "rate": D(t(r, "ram:RateApplicablePercent")) or Decimal(0),
             "base": D(t(r, "ram:BasisAmount")), "amount": D(t(r, "ram:CalculatedAmount")),
             "reason": t(r, "ram:ExemptionReason")} for r in settlement.iterfind("ram:ApplicableTradeTax", CII)]
    sums = settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", CII)
    vat_totals = {e.get("currencyID") or currency: D(e.text) for e in sums.iterfind("ram:TaxTotalAmount", CII)}
    totals = {"line_total": D(t(sums, "ram:LineTotalAmount")),
              "allowance_total": D(t(sums, "ram:AllowanceTotalAmount")),
              "charge_total": D(t(sums, "ram:ChargeTotalAmount")), "net_total": D(t(sums, "ram:TaxBasisTotalAmount")),
              "vat_total": vat_totals.get(currency), "vat_accounting_total": vat_totals.get(tax_currency or ""),
              "gross_total": D(t(sums, "ram:GrandTotalAmount")), "prepaid_total": D(t(sums, "ram:TotalPrepaidAmount")),
              "rounding_amount": D(t(sums, "ram:RoundingAmount")), "amount_due": D(t(sums, "ram:DuePayableAmount"))}
    return _finish(name, t(root, "rsm:ExchangedDocument/ram:ID"), issue, currency, seller, buyer, lines,
                   [p for p in header if not p["charge"]], [p for p in header if p["charge"]], rows, totals,
                   tax_currency, nets, notes)


# ------------------------------------------------------------------ UBL


def _ubl(name: str, root) -> Example:
    def t(el, path):
        return el.findtext(path, namespaces=UBL)

    notes: list[str] = []
    currency = t(root, "cbc:DocumentCurrencyCode")
    tax_currency = t(root, "cbc:TaxCurrencyCode")
    parties = {kind: root.find(f"cac:{kind}/cac:Party", UBL) for kind in ("AccountingSupplierParty",
                                                                         "AccountingCustomerParty")}
    seller, buyer = (_party(t(party, "cac:PartyLegalEntity/cbc:RegistrationName"),
                            t(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode"))
                     for party in parties.values())

    def part(el) -> dict:
        factor = D(t(el, "cbc:MultiplierFactorNumeric"))
        return {"charge": t(el, "cbc:ChargeIndicator").strip() == "true", "amount": D(t(el, "cbc:Amount")),
                "percent": factor, "base": D(t(el, "cbc:BaseAmount")), "reason": t(el, "cbc:AllowanceChargeReason"),
                "code": t(el, "cbc:AllowanceChargeReasonCode"),
                "category": (t(el, "cac:TaxCategory/cbc:ID") or "").strip(),
                "rate": D(t(el, "cac:TaxCategory/cbc:Percent"))}

    lines, nets = [], []
    for item in root.iterfind("cac:InvoiceLine", UBL):
        price = item.find("cac:Price", UBL)
        discount = price.find("cac:AllowanceCharge", UBL)
        quantity = item.find("cbc:InvoicedQuantity", UBL)
        parts = [part(p) for p in item.iterfind("cac:AllowanceCharge", UBL)]
        lines.append({
            "id": t(item, "cbc:ID"), "name": t(item, "cac:Item/cbc:Name"), "quantity": D(quantity.text),
            "unit": quantity.get("unitCode"), "net_price": D(t(price, "cbc:PriceAmount")),
            "base_quantity": D(t(price, "cbc:BaseQuantity")),
            "gross_price": D(t(discount, "cbc:BaseAmount")) if discount is not None else None,
            "price_discount": D(t(discount, "cbc:Amount")) if discount is not None else None,
            "category": t(item, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID").strip(),
            "rate": D(t(item, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent")),
            "allowances": [p for p in parts if not p["charge"]], "charges": [p for p in parts if p["charge"]]})
        nets.append(D(t(item, "cbc:LineExtensionAmount")))
    header = [part(p) for p in root.iterfind("cac:AllowanceCharge", UBL)]
    rows, vat_totals = [], {}
    for total in root.iterfind("cac:TaxTotal", UBL):
        amount = total.find("cbc:TaxAmount", UBL)
        vat_totals[amount.get("currencyID")] = D(amount.text)
        for sub in total.iterfind("cac:TaxSubtotal", UBL):
            rows.append({"category": t(sub, "cac:TaxCategory/cbc:ID").strip(),
                         "rate": D(t(sub, "cac:TaxCategory/cbc:Percent")) or Decimal(0),
                         "base": D(t(sub, "cbc:TaxableAmount")), "amount": D(t(sub, "cbc:TaxAmount")),
                         "reason": t(sub, "cac:TaxCategory/cbc:TaxExemptionReason")})
    sums = root.find("cac:LegalMonetaryTotal", UBL)
    totals = {"line_total": D(t(sums, "cbc:LineExtensionAmount")),
              "allowance_total": D(t(sums, "cbc:AllowanceTotalAmount")),
              "charge_total": D(t(sums, "cbc:ChargeTotalAmount")), "net_total": D(t(sums, "cbc:TaxExclusiveAmount")),
              "vat_total": vat_totals.get(currency), "vat_accounting_total": vat_totals.get(tax_currency or ""),
              "gross_total": D(t(sums, "cbc:TaxInclusiveAmount")), "prepaid_total": D(t(sums, "cbc:PrepaidAmount")),
              "rounding_amount": D(t(sums, "cbc:PayableRoundingAmount")), "amount_due": D(t(sums, "cbc:PayableAmount"))}
    return _finish(name, t(root, "cbc:ID"), t(root, "cbc:IssueDate"), currency, seller, buyer, lines,
                   [p for p in header if not p["charge"]], [p for p in header if p["charge"]], rows, totals,
                   tax_currency, nets, notes)
