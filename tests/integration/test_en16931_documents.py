"""The whole EN 16931 invoice as an accountant reads it, in classic 1.5.0: the PDF and the DOCX
show the gross price and its discount, the price base, each allowance and charge, the totals
from the lines to the amount due with the rounding, and for a foreign currency the VAT in
euros with its rate (CGI art. 242 nonies A), the same figures the CII states.

Expected text is written by hand (French "1 234,56 €", English "US$1,234.56"); the figures are
those of tests/unit/test_en16931_billing.py's `everything()`, worked out there:
  câble 250 m at (12,50 − 2,50) € per 100 m = 25,00 €; 5 % of 25,00 = 1,25 off, 3,00 packing: 26,75 €
  électricité 1 234 kWh × 0,00101 € = 1,24634 → 1,25 €; pose 3 h × 52,00 = 156,00 − 10 % = 140,40 €
  lines 26,75 + 1,25 + 140,40 = 168,40; − 2 % of 100,00 = 2,00; + 15,00 shipping: net 181,40
  VAT 20 % on 26,75 + 1,25 + 15,00 = 43,00 → 8,60; 10 % on 140,40 − 2,00 = 138,40 → 13,84; 22,44
  gross 203,84; rounding 0,01; due 203,85; in USD with VAT in EUR at 0.9214: 22.44 × 0.9214 = 20.676 → €20.68
"""
from __future__ import annotations

from pathlib import Path

import pytest

from docsvc.rendering import TemplateRegistry
from docsvc.usecases.issuing import RenderDocument
from tests.originals import docx_text, flat, pdf_text
from tests.unit.test_en16931_billing import everything

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def render():
    return RenderDocument(TemplateRegistry([ROOT / "templates"]))


def payload(fmt: str, **changes) -> dict:
    raw = {**everything(), "template": {"name": "classic", "version": "1.5.0"}, "formats": [fmt], **changes}
    return raw


FRENCH = [
    "Prix brut 12,50 € − remise 2,50 €",  # BT-148 less BT-147
    "0,00101 €",  # a price to 5 decimals, not rounded to the cent
    "Remise fidélité (5 % de 25,00 €) : −1,25 €", "Emballage : +3,00 €",  # BG-27, BG-28
    "Remise globale (2 % de 100,00 €)", "−2,00 €", "Frais de port",  # BG-20, BG-21
    "Total des lignes HT", "168,40 €", "Total HT", "181,40 €", "22,44 €", "203,84 €",
    "Arrondi", "0,01 €", "Net à payer", "203,85 €",
]
ENGLISH_USD = [
    "Gross price US$12.50 − discount US$2.50", "US$0.00101",
    "Remise fidélité (5% of US$25.00): −US$1.25", "Emballage: +US$3.00",
    "Lines total excl. VAT", "US$168.40", "Rounding", "US$0.01", "Amount due", "US$203.85",
    "VAT in EUR: €20.68 (exchange rate 1 USD = 0.9214 EUR",  # BT-6, BT-111
    "SARL share capital €20,000.00",  # a French company's capital is in euros, whatever the invoice's currency
]


def test_the_pdf_shows_every_en16931_figure(render):
    text = pdf_text(render(payload("pdf"), "pdf")[0])
    for expected in FRENCH:
        assert flat(expected) in text, expected
    assert "pour 100 m" in text  # BT-149 beside the price
    assert "remises et frais" in text.lower()  # the block's caption (capitals by the stylesheet)


def test_the_docx_shows_the_same_figures(render):
    text = flat(docx_text(render(payload("docx"), "docx")[0]))
    for expected in FRENCH:
        assert flat(expected) in text, expected
    assert "10,00 € pour 100 m" in text
    assert "remises et frais" in text.lower()


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_a_foreign_currency_invoice_gives_the_vat_in_euros(render, fmt):
    raw = payload(fmt, currency="USD", language="en", vat_currency={"code": "EUR", "rate": "0.9214"})
    data = render(raw, fmt)[0]
    text = pdf_text(data) if fmt == "pdf" else flat(docx_text(data))
    for expected in ENGLISH_USD:
        assert flat(expected) in text, expected
    assert "US$20,000.00" not in text


def test_a_plain_invoice_shows_none_of_it(render):
    """Nothing of the above appears where the payload has none of it: no empty block."""
    raw = {**payload("pdf"), "lines": everything()["lines"][2:], "allowances": [], "charges": []}
    del raw["rounding_amount"]
    text = pdf_text(render(raw, "pdf")[0])
    assert "remises et frais" not in text.lower()
    for absent in ("Total des lignes HT", "Arrondi", "Prix brut", "TVA en EUR"):
        assert absent not in text, absent
    assert "52,00 €" in text and "140,40 €" in text  # 3 h × 52,00 − 10 %
