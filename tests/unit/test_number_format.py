"""NumberFormat (the money, price and quantity filters' formatter, issue 16) gives Babel's
own text byte for byte: every value below is formatted both ways and compared, for French
and English, in euros, dollars and as a plain decimal, rounded to the currency or not."""
from __future__ import annotations

import decimal
import random
import re
from decimal import Decimal as D

import pytest
from babel.numbers import format_currency, format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from docsvc.rendering import environment
from docsvc.rendering.environment import NumberFormat, number_format

LOCALES = ["fr_FR", "en_GB"]
CURRENCIES = ["EUR", "USD", None]  # None: format_decimal's pattern (quantities, rates)

EDGES = [D(text) for text in (
    "0", "-0", "0.00", "-0.00", "-0.001", "0.005", "0.015", "0.025", "-0.005", "0.0049999", "0.995", "-0.995",
    "1", "-1", "10", "1E+1", "1E+3", "1E-7", "12.5", "12.50", "0.00101", "0.000001", "0.0000005", "0.3333333333",
    "999.995", "999.994", "1000", "-1000", "1234.56", "-120.00", "1234567.891", "-1234567.891", "1234567.895",
    "99999999999999.999", "-12345678901234567890.12", "123456789012345678901234.5", "1E+27",
    "1234567890123456789012345678.9", "1234567890123456789012345678901", "152.70", "40.00", "0.1", "5.5", "20")]


def babel(value, locale, currency, quantization):
    if currency is None:
        return format_decimal(value, locale=locale, decimal_quantization=quantization)
    return format_currency(value, currency, locale=locale, decimal_quantization=quantization)


def outcome(fn, *args):
    """The text, or the exception's type (a value too long for the Decimal context raises in
    Babel: it must raise the same way)."""
    try:
        return fn(*args)
    except (decimal.InvalidOperation, ValueError, ArithmeticError) as exc:
        return type(exc)


def random_values(count: int, seed: int = 16) -> list[D]:
    """Amounts of 1 to 22 digits with 0 to 8 decimals, either sign, some with trailing zeros."""
    rng = random.Random(seed)
    values = []
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 22)))
        places = rng.randint(0, 8)
        text = digits if places == 0 else f"{digits[:-places] or '0'}.{digits[-places:].rjust(places, '0')}"
        values.append(D(("-" if rng.random() < 0.3 else "") + text))
    return values


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("currency", CURRENCIES)
@pytest.mark.parametrize("quantization", [True, False])
def test_the_text_is_babels_for_edge_and_random_values(locale, currency, quantization):
    fmt = NumberFormat(locale, currency)
    assert fmt.fast  # the patterns of fr_FR and en_GB are all done without Babel
    for value in EDGES + random_values(1500):
        assert outcome(fmt, value, quantization) == outcome(babel, value, locale, currency, quantization), value


def test_the_known_figures():
    # 1 234 567,891 € rounds half-even to the cent: ,891 -> ,89; a narrow no-break space (U+202F)
    # groups the thousands in French, a comma in English
    assert number_format("fr_FR", "EUR")(D("1234567.891")) == "1\u202f234\u202f567,89\xa0€"
    assert number_format("en_GB", "EUR")(D("-1234567.891")) == "-€1,234,567.89"
    assert number_format("en_GB", "USD")(D("0.005")) == "US$0.00"  # half-even: 0.005 -> 0.00
    assert number_format("en_GB", "USD")(D("0.015")) == "US$0.02"  # half-even: 0.015 -> 0.02
    assert number_format("fr_FR", "EUR")(D("-0.00")) == "-0,00\xa0€"  # Babel keeps the sign of -0
    assert number_format("fr_FR", "EUR")(D("0.00101"), decimal_quantization=False) == "0,00101\xa0€"
    assert number_format("fr_FR")(D("12.5"), decimal_quantization=False) == "12,5"


@pytest.mark.parametrize("rounding, precision", [(decimal.ROUND_HALF_UP, 28), (decimal.ROUND_DOWN, 12)])
def test_the_callers_decimal_context_applies_as_in_babel(rounding, precision):
    with decimal.localcontext() as context:
        context.rounding, context.prec = rounding, precision
        for locale in LOCALES:
            for currency in CURRENCIES:
                fmt = NumberFormat(locale, currency)
                for value in EDGES + random_values(300, seed=precision):
                    for quantization in (True, False):
                        assert (outcome(fmt, value, quantization)
                                == outcome(babel, value, locale, currency, quantization)), (value, context)


def test_a_figure_met_before_gives_the_same_text_under_the_same_context_only(monkeypatch):
    """Texts are kept per value, sign, quantization and the context's precision and rounding."""
    fmt = NumberFormat("fr_FR", "EUR")
    values = EDGES + random_values(300, seed=7)
    first = [outcome(fmt, value, quantization) for value in values for quantization in (True, False)]
    assert len(fmt.texts) > 300
    assert [outcome(fmt, value, quantization) for value in values for quantization in (True, False)] == first
    with decimal.localcontext() as context:  # the same values, now met in another context
        context.rounding, context.prec = decimal.ROUND_DOWN, 12
        for value in values:
            for quantization in (True, False):
                assert outcome(fmt, value, quantization) == outcome(babel, value, "fr_FR", "EUR", quantization), value
    # equal values written with other exponents are one figure; −0 is not 0 (Babel keeps its sign)
    assert fmt(D("12.5")) == fmt(D("12.50")) == fmt(D("1.25E+1")) == "12,50\xa0€"
    assert (fmt(D("0.00")), fmt(D("-0.00")), fmt(D("0"))) == ("0,00\xa0€", "-0,00\xa0€", "0,00\xa0€")
    monkeypatch.setattr(environment, "TEXTS_KEPT", 10)  # full: started again, never beyond
    for value in random_values(50, seed=8):
        assert outcome(fmt, value, True) == outcome(babel, value, "fr_FR", "EUR", True), value
        assert len(fmt.texts) <= 10


@settings(max_examples=300, deadline=None)
@given(value=st.decimals(allow_nan=True, allow_infinity=True, places=None),
       locale=st.sampled_from(LOCALES), currency=st.sampled_from(CURRENCIES), quantization=st.booleans())
def test_any_decimal(value, locale, currency, quantization):
    assert (outcome(number_format(locale, currency), value, quantization)
            == outcome(babel, value, locale, currency, quantization))


def test_a_pattern_it_does_not_cover_is_left_to_babel(monkeypatch):
    fmt = NumberFormat("en_GB", "EUR")
    fmt.fast = False  # as for a quoted or scientific pattern
    calls = []
    monkeypatch.setattr(environment, "format_currency", lambda *a, **k: calls.append(a) or "babel")
    assert fmt(D("1.5")) == "babel" and calls == [(D("1.5"), "EUR")]


@pytest.mark.parametrize("text", [
    "Pose de 12 m² à 20 % de remise", "TVA 5,5 % et 20 %", "facture n° 12", "Facture N° 12", "no. 7 and no.8",
    "piano. 3", "casino° 3", "5 %5 %", "x %", " %", "n° ", "sans rien", "Dépose de l'ancienne baignoire",
    "100 %, n° 3, no. 4", "a\u00a0%", "12\u00a0% déjà",
])
def test_nobreak_is_its_two_substitutions(text):
    # the filter looks for " %" and "n° " / "no. " before running its patterns: same text
    expected = re.sub(r"\b(n°|no\.) ", "\\1\u00a0", re.sub(r"(\d) %", "\\1\u00a0%", text))
    assert environment.nobreak(text) == expected
