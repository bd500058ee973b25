"""The few sentences billing itself writes: descriptions of computed lines, fr and en.

They become item names in the e-invoice too, so they belong to the billing model,
not to a template.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

#: The locale each document language is written in: the PDF's and DOCX's figures and dates
#: (rendering/environment.py), and the e-invoice's notes (einvoice/cii.py)
LOCALES = {"fr": "fr_FR", "en": "en_GB"}

_TEXT = {
    "fr": {
        "deposit_percent": "Acompte de {percent} % sur devis n° {quote} du {date}",
        "deposit_amount": "Acompte sur devis n° {quote} du {date}",
        "rate_suffix": " (TVA {rate} %)",
        "progress_line": "{description} (avancement {cumulative} %)",
        "deposit_deduction": "Déduction des acomptes versés sur devis n° {quote}",
        "previous_deduction": "Déduction facture n° {number} du {date}",
        "credit_added_back": "Avoir n° {number} du {date} sur facture n° {corrected}, réintégré",
    },
    "en": {
        "deposit_percent": "Deposit of {percent}% on quote no. {quote} of {date}",
        "deposit_amount": "Deposit on quote no. {quote} of {date}",
        "rate_suffix": " (VAT {rate}%)",
        "progress_line": "{description} (progress {cumulative}%)",
        "deposit_deduction": "Deduction of deposits paid on quote no. {quote}",
        "previous_deduction": "Deduction of invoice no. {number} of {date}",
        "credit_added_back": "Credit note no. {number} of {date} on invoice no. {corrected}, added back",
    },
}


def number(value: Decimal, language: str) -> str:
    """A rate or a count as the language writes it, without trailing zeros: 10, 5,5 (fr), 5.5 (en)."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if language == "fr" else text


def day(value: date, language: str) -> str:
    return value.strftime("%d/%m/%Y") if language == "fr" else value.isoformat()


def text(key: str, language: str, **values) -> str:
    formatted = {k: number(v, language) if isinstance(v, Decimal) else day(v, language) if isinstance(v, date)
                 else v for k, v in values.items()}
    return _TEXT.get(language, _TEXT["fr"])[key].format(**formatted)
