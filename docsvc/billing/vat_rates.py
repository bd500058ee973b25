"""Which VAT rates a line may charge: the rates in force where the operation is taxed, on its date.

The rates come from one data file, `data/vat_rates.toml`, which names its source for each
territory (CGI art. 278 ff. for mainland France, 297 for Corsica, 296 for the overseas
departments, 294-1 for Guyane and Mayotte). A territory is a country narrowed by postcode
prefixes (Corsica is FR 20xxx). Where no table exists, any rate from 0 to 100 % passes,
as before.

Where the operation is taxed is, for this check, the seller's territory, plus the
territory the goods or works go to when it is another French one (a Lyon plumber's works
in Ajaccio bear Corsica's rates), plus a consumer's country in the EU (distance sales
and services under the OSS bear the consumer's country's rates). Rates of every such
territory are allowed: a payload is refused only when no plausible place of taxation
has its rate. Category S lines only: 0 % needs another category, checked by the schema.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from .mentions import billed_lines
from .model import Address, InvoicePayload

EU = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Period:
    start: date
    end: date | None  # inclusive; None: still in force
    rates: frozenset[Decimal]

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Territory:
    id: str
    name: str
    countries: frozenset[str]
    postcodes: tuple[str, ...]
    source: str
    periods: tuple[Period, ...]
    unchecked: bool = False

    def rates_on(self, day: date) -> frozenset[Decimal] | None:
        """The rates in force that day; None when the table says nothing about it."""
        if self.unchecked:
            return None
        return next((p.rates for p in self.periods if p.covers(day)), None)

    def last_day_of(self, rate: Decimal) -> date | None:
        """When a rate of this territory stopped applying (19.6 %: 2013-12-31), if it did."""
        ends = [p.end for p in self.periods if rate in p.rates and p.end is not None]
        current = any(rate in p.rates and p.end is None for p in self.periods)
        return max(ends) if ends and not current else None


@cache
def rate_table() -> tuple[Territory, ...]:
    """The territories of the packaged data file (read once: it ships with the code)."""
    raw = tomllib.loads((resources.files(__package__) / "data" / "vat_rates.toml").read_text(encoding="utf-8"))
    return tuple(
        Territory(id=t["id"], name=t["name"], countries=frozenset(t["countries"]),
                  postcodes=tuple(t.get("postcodes", ())), source=t["source"], unchecked=t.get("unchecked", False),
                  periods=tuple(Period(p["from"], p.get("until"), frozenset(Decimal(r) for r in p["rates"]))
                                for p in t.get("period", ())))
        for t in raw["territory"])


def territory_of(country: str, postcode: str, table: tuple[Territory, ...] | None = None) -> Territory | None:
    """The most specific territory for an address: the longest postcode prefix that matches,
    else the country's own entry (no postcodes); None when the table has no such country."""
    best, best_len = None, -1
    compact = postcode.replace(" ", "")
    for territory in table if table is not None else rate_table():
        if country not in territory.countries:
            continue
        if not territory.postcodes:
            length = 0
        else:
            length = max((len(p) for p in territory.postcodes if compact.startswith(p)), default=-1)
            if country != "FR" and length < 0:  # GP, RE...: the country code alone names the territory
                length = 0
        if length > best_len:
            best, best_len = territory, length
    return best


def places_of_taxation(payload: InvoicePayload) -> list[tuple[Territory | None, str]]:
    """The territories whose rates the document may charge, each with a label for messages.
    A None territory means "no table": any rate passes."""
    seller = payload.seller.address
    out = [(territory_of(seller.country, seller.postcode), seller.country)]
    buyer = payload.buyer
    destination: Address = buyer.delivery_address or buyer.address
    if destination.country in ("FR", "MC", "GP", "MQ", "RE", "GF", "YT", "PM") and seller.country in (
            "FR", "MC", "GP", "MQ", "RE", "GF", "YT", "PM"):
        out.append((territory_of(destination.country, destination.postcode), destination.country))
    if buyer.kind == "consumer" and destination.country in EU and destination.country != seller.country:
        out.append((territory_of(destination.country, destination.postcode), destination.country))
    return out


def _fmt(rate: Decimal) -> str:
    """19.60 -> 19.6, 20.00 -> 20."""
    return format(rate.normalize(), "f")


def allowed_rates(payload: InvoicePayload, day: date) -> tuple[frozenset[Decimal] | None, list[Territory]]:
    """Every rate some place of taxation allows on `day` (None: unchecked), and those territories."""
    allowed: set[Decimal] = set()
    territories: list[Territory] = []
    for territory, _ in places_of_taxation(payload):
        rates = territory.rates_on(day) if territory is not None else None
        if territory is None or rates is None:
            return None, []
        allowed |= rates
        if territory not in territories:
            territories.append(territory)
    return frozenset(allowed), territories


def rate_problem(rate: Decimal, day: date, allowed: frozenset[Decimal], territories: list[Territory]) -> str | None:
    """Why a category S rate can't be charged that day, naming the rates that can; None if it can."""
    if rate in allowed:
        return None
    where = " or ".join(t.name for t in territories)
    if not allowed:
        return (f"No VAT is charged in {where} ({territories[0].source}): bill this line at 0 % with a "
                "category other than S (e.g. O, with the exemption wording).")
    listed = ", ".join(_fmt(r) for r in sorted(allowed, reverse=True))
    message = f"{_fmt(rate)} % is not a VAT rate in force in {where} on {day.isoformat()}: use one of {listed}."
    if 0 < rate < 1 and rate * HUNDRED in allowed:
        message += f" Rates are percents: did you mean {_fmt(rate * HUNDRED)} (not the fraction {_fmt(rate)})?"
    ended = [d for d in (t.last_day_of(rate) for t in territories) if d is not None]
    if ended:
        message += f" {_fmt(rate)} % applied until {max(ended).isoformat()}."
    sources = "; ".join(dict.fromkeys(t.source.split(";")[0] for t in territories))
    return message + f" Source: {sources}."


def rate_errors(payload: InvoicePayload) -> dict[str, list[str]]:
    """Category S rates the document bills that no place of taxation allows, by JSON path.

    Checked on the issue date, on the delivery date when there is one (the rate of the
    chargeable event), and for a credit note on the date of the invoice it corrects (its
    VAT is reversed at that invoice's rates): a rate in force on any of them passes.
    A date before the table starts counts for nothing (a delivery "in 1999" does not turn
    the check off); a document with no date the table covers is refused on its issue date.
    Earlier invoices a cycle document deducts are checked on their own issue dates.
    """
    places = [territory for territory, _ in places_of_taxation(payload)]
    if any(territory is None or territory.unchecked for territory in places):
        return {}  # a place of taxation with no table: any rate passes
    days = [payload.issue_date] + [d for d in (payload.delivery_date,
                                               payload.corrects.issue_date if payload.corrects else None) if d]
    covered = [d for d in days if all(t.rates_on(d) is not None for t in places if t is not None)]
    if not covered:
        return {"issue_date": [_before_the_table(payload.issue_date, [t for t in places if t is not None])]}
    table = [allowed_rates(payload, d) for d in covered]
    known = [a for a, _ in table if a is not None]
    allowed = frozenset[Decimal]().union(*known)
    territories = [t for _, ts in table for t in ts]
    territories = list(dict.fromkeys(territories))
    errors: dict[str, list[str]] = {}
    lines = billed_lines(payload)
    prefix = "lines" if lines is payload.lines else "quote.lines"
    for i, line in enumerate(lines):
        if line.vat_category != "S":
            continue
        problem = rate_problem(line.vat_rate, payload.issue_date, allowed, territories)
        if problem:
            errors[f"{prefix}.{i}.vat_rate"] = [problem]
    for i, previous in enumerate(payload.previous_invoices):
        for j, part in enumerate(getattr(previous, "vat", ())):
            if part.category != "S":
                continue
            their_allowed, their_territories = allowed_rates(payload, previous.issue_date)
            if their_allowed is None:
                continue
            problem = rate_problem(part.rate, previous.issue_date, their_allowed, their_territories)
            if problem:
                errors[f"previous_invoices.{i}.vat.{j}.rate"] = [problem]
    return errors


def _before_the_table(day: date, territories: list[Territory]) -> str:
    """Why a document taxed before the rate table starts is not issued: its rates can't be checked."""
    starts = {t.name: min((p.start for p in t.periods), default=None) for t in territories}
    known = ", ".join(f"{name} from {start.isoformat()}" for name, start in starts.items() if start is not None)
    return (f"{day.isoformat()} is before the VAT rates this service knows ({known}): "
            "a document taxed then can't have its rates checked, so it is not issued.")
