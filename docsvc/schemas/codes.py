"""Identifier checks and the EN 16931 code lists (units, countries, currencies)."""
from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from babel.numbers import get_currency_precision


@cache
def codelists() -> dict[str, frozenset[str]]:
    raw = json.loads((Path(__file__).with_name("codelists.json")).read_text())
    return {k: frozenset(v) for k, v in raw.items() if isinstance(v, list)}


def currency_places(code: str) -> int:
    """Minor units of an ISO 4217 currency (EUR 2, JPY 0)."""
    return get_currency_precision(code)


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum SIREN and SIRET numbers carry (La Poste's SIRET excepted)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def siren_ok(siren: str) -> bool:
    return bool(re.fullmatch(r"\d{9}", siren)) and luhn_ok(siren)


def siret_ok(siret: str) -> bool:
    if not re.fullmatch(r"\d{14}", siret):
        return False
    # La Poste's establishments (SIREN 356000000) use a sum-of-digits-multiple-of-5 rule.
    return luhn_ok(siret) or (siret.startswith("356000000") and sum(map(int, siret)) % 5 == 0)


def french_vat_key(siren: str) -> str:
    """The two-digit key of a French VAT number: (12 + 3 x (SIREN mod 97)) mod 97."""
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"


def iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
