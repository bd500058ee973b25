"""The sandboxed Jinja2 environment both engines share, with Babel formatting filters.

Templates are semi-trusted: `SandboxedEnvironment` keeps them away from Python
internals, and `StrictUndefined` turns a misspelt variable into an error at publish
time instead of a blank on an issued invoice.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, getcontext

from babel import Locale
from babel.dates import format_date
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)
from jinja2 import StrictUndefined, pass_context
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from ..billing.wording import LOCALES

SHORT_DATE = {"fr": "dd/MM/yyyy", "en": "dd/MM/yyyy"}


def _lang(ctx) -> str:
    return ctx["doc"]["language"]


def _decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


class NumberFormat:
    """Babel's format_currency / format_decimal for one locale (and currency), with the
    pattern, symbols and precision looked up once instead of on every call (issue 16: they
    were half of a long DOCX's time). The digits are those of Babel's NumberPattern.apply,
    step for step (same Decimal operations in the caller's context, same rounding, grouping
    and trailing zeros), so the text is byte for byte Babel's; tests/unit/test_number_format.py
    compares them over many values. A pattern this does not cover (scientific, significant
    digits, percent scale, quoted text, the currency's long name) is left to Babel."""

    def __init__(self, locale: str, currency: str | None = None):
        self.locale, self.currency = locale, currency
        parsed = Locale.parse(locale)
        pattern: NumberPattern = (parsed.currency_formats["standard"] if currency is not None
                                  else parsed.decimal_formats[None])
        self.frac_prec = ((get_currency_precision(currency),) * 2 if currency else pattern.frac_prec)
        self.min_int = pattern.int_prec[0]
        self.grouping = pattern.grouping
        self.group = get_group_symbol(parsed, numbering_system="latn")
        self.decimal = get_decimal_symbol(parsed, numbering_system="latn")
        symbol = get_currency_symbol(currency, parsed) if currency else ""
        affixes = pattern.prefix + pattern.suffix
        self.fast = (currency != "" and pattern.exp_prec is None and "@" not in pattern.pattern
                     and pattern.scale == 0 and pattern.number_pattern != ""
                     and not any("'" in text or "¤¤" in text or ("¤" in text and currency is None)
                                 for text in affixes)
                     and not any(ch in "'¤" for ch in symbol + self.group + self.decimal))
        self.prefix = [text.replace("¤", symbol) for text in pattern.prefix]  # [positive, negative]
        self.suffix = [text.replace("¤", symbol) for text in pattern.suffix]
        self.texts: dict[tuple, str] = {}

    def __call__(self, value: Decimal, decimal_quantization: bool = True) -> str:
        if not self.fast or not value.is_finite():
            if self.currency is None:
                return format_decimal(value, locale=self.locale, decimal_quantization=decimal_quantization)
            return format_currency(value, self.currency, locale=self.locale,
                                   decimal_quantization=decimal_quantization)
        # The text depends on the value (not its exponent: it is normalized), its sign (−0),
        # the quantization and the context's precision and rounding: a figure met before is
        # not worked out again (a long invoice's rates, units, prices and quantities repeat).
        context = getcontext()
        key = (value, value.is_signed(), decimal_quantization, context.prec, context.rounding)
        text = self.texts.get(key)
        if text is None:
            text = self._text(value, decimal_quantization)
            if len(self.texts) >= TEXTS_KEPT:
                self.texts.clear()
            self.texts[key] = text
        return text

    def _text(self, value: Decimal, decimal_quantization: bool) -> str:
        # NumberPattern.apply: sign apart, magnitude normalized (its scaleb(0), for a pattern of
        # scale 0, only rounds to the context's precision, which abs() does here)
        negative = int(value.is_signed())
        value = abs(value).normalize()
        low, high = self.frac_prec
        if not decimal_quantization:  # get_decimal_precision(value), value being normalized already
            high = max(high, -value.as_tuple().exponent)  # type: ignore[operator]  # finite: an int
        quantum = _QUANTA.get(high)
        if quantum is None:
            quantum = _QUANTA.setdefault(high, Decimal(10) ** (-high))  # babel get_decimal_quantum
        whole, _, fraction = f"{value.quantize(quantum):f}".partition(".")
        # _format_int: zero-padded to the minimum, grouped by the primary then secondary size
        if len(whole) < self.min_int:
            whole = "0" * (self.min_int - len(whole)) + whole
        size, grouped = self.grouping[0], ""
        while len(whole) > size:
            grouped = self.group + whole[-size:] + grouped
            whole = whole[:-size]
            size = self.grouping[1]
        # _format_frac: padded to the minimum, trailing zeros dropped down to it
        fraction = fraction or "0"
        if len(fraction) < low:
            fraction += "0" * (low - len(fraction))
        if high == 0 or (low == 0 and int(fraction) == 0):
            fraction = ""
        else:
            fraction = self.decimal + (fraction[:low] + fraction[low:].rstrip("0"))
        return self.prefix[negative] + whole + grouped + fraction + self.suffix[negative]


#: figures' texts kept per locale and currency (about 0.6 MB when full)
TEXTS_KEPT = 2048
_QUANTA: dict[int, Decimal] = {}
ONE = Decimal(1)
_FORMATS: dict[tuple[str, str | None], NumberFormat] = {}


def number_format(locale: str, currency: str | None = None) -> NumberFormat:
    """The NumberFormat of `locale` (a Babel identifier) for `currency`, or for plain
    decimals without one; kept per process (a few locales and currencies)."""
    key = (locale, currency)
    found = _FORMATS.get(key)
    if found is None:
        found = _FORMATS[key] = NumberFormat(locale, currency)
    return found


def _as_given(value) -> Decimal:
    """A figure with the decimals it was given and no more: 12.50 -> 12.5, 1E+1 -> 10."""
    normal = _decimal(value).normalize()
    return normal.quantize(ONE) if normal == normal.to_integral() else normal


@pass_context
def money(ctx, value, currency: str | None = None) -> str:
    """1 234,56 € in French, €1,234.56 in English; the currency's own minor units."""
    if value is None:
        return ""
    doc = ctx["doc"]
    return number_format(LOCALES[doc["language"]], currency or doc["currency"])(_decimal(value))


@pass_context
def long_date(ctx, value: date | None) -> str:
    return format_date(value, "long", locale=LOCALES[_lang(ctx)]) if value else ""


@pass_context
def short_date(ctx, value: date | None) -> str:
    return format_date(value, SHORT_DATE[_lang(ctx)], locale=LOCALES[_lang(ctx)]) if value else ""


@pass_context
def number(ctx, value) -> str:
    """A quantity or a rate as given, without trailing zeros: 12,5 ; 1 ; 0,3333."""
    if value is None:
        return ""
    return number_format(LOCALES[_lang(ctx)])(_as_given(value), decimal_quantization=False)


@pass_context
def percent(ctx, value) -> str:
    """20 -> "20 %" (fr, with a no-break space) or "20%" (en); 5.5 -> "5,5 %"."""
    if value is None:
        return ""
    return number(ctx, value) + ("\u00a0%" if _lang(ctx) == "fr" else "%")


@pass_context
def unit(ctx, code: str) -> str:
    """UN/ECE Rec. 20 code to the short label a reader expects (HUR -> h)."""
    return ctx["labels"].get("units", {}).get(code, code)


@pass_context
def mention(ctx, item: dict) -> str:
    """A legal mention {code, values} as its sentence, figures formatted in the locale."""
    wording = ctx["labels"]["mentions"][item["code"]]
    values = {}
    for key, value in (item.get("values") or {}).items():
        if isinstance(value, date):
            values[key] = long_date(ctx, value)
        elif isinstance(value, (Decimal, int)) and key in ("rate", "percent"):
            values[key] = percent(ctx, value)
        elif isinstance(value, Decimal):  # share capital, the 40 € indemnity: euros in French law
            values[key] = money(ctx, value, "EUR")
        else:
            values[key] = value
    return wording.format(**values)


MINUS = "\u2212"
NBSP = "\u00a0"


@pass_context
def amount(ctx, value, currency: str | None = None) -> str:
    """`money` with one true minus sign (U+2212) for a negative amount, never a hyphen,
    and no place where a line could break (digits, sign and currency stay together)."""
    if value is None:
        return ""
    text = money(ctx, value, currency)
    return text.replace("-", MINUS).replace(" ", NBSP)


@pass_context
def price(ctx, value, currency: str | None = None) -> str:
    """A unit price as given, to 6 decimals, never fewer than the currency's: 0.00101 ->
    "0,00101 €", 12.5 -> "12,50 €" (EN 16931 prices are not rounded to the cent)."""
    if value is None:
        return ""
    text = number_format(LOCALES[_lang(ctx)], currency or ctx["doc"]["currency"])(_as_given(value),
                                                                               decimal_quantization=False)
    return text.replace("-", MINUS).replace(" ", NBSP)


@pass_context
def negative(ctx, value, currency: str | None = None) -> str:
    """A positive figure shown as what it takes off: 152.70 -> "−152,70 €"."""
    if value is None:
        return ""
    return amount(ctx, -_decimal(value), currency)


def grouped(value: str | None, kind: str = "auto") -> str:
    """Identifiers grouped for reading, with no-break spaces: IBAN by 4, SIREN 3-3-3,
    SIRET 3-3-3-5, French VAT number FRkk 3-3-3."""
    if not value:
        return ""
    text = str(value).replace(" ", "")
    if kind == "auto":
        kind = ("siren" if len(text) == 9 and text.isdigit() else "siret" if len(text) == 14 and text.isdigit()
                else "vat" if text.startswith("FR") and len(text) == 13 else "iban" if len(text) > 14 else "")
    if kind == "siren":
        parts = [text[0:3], text[3:6], text[6:9]]
    elif kind == "siret":
        parts = [text[0:3], text[3:6], text[6:9], text[9:]]
    elif kind == "vat" and text.startswith("FR") and len(text) == 13:
        parts = [text[0:4], text[4:7], text[7:10], text[10:]]
    elif kind == "iban":
        parts = [text[i:i + 4] for i in range(0, len(text), 4)]
    else:
        return text
    return NBSP.join(parts)


PERCENT_AFTER_DIGIT = re.compile(r"(\d) %")
NUMBER_SIGN = re.compile(r"\b(n°|no\.) ")


def nobreak(text: str | None) -> str:
    """Keep "20 %", "n° 12" and "D-2026-0007" whole where they sit in running text."""
    if not text:
        return ""
    text = str(text)
    if " %" in text:  # what each pattern needs, looked for first: most texts have neither
        text = PERCENT_AFTER_DIGIT.sub("\\1" + NBSP + "%", text)
    if "n° " in text or "no. " in text:
        text = NUMBER_SIGN.sub("\\1" + NBSP, text)
    return text


def registration(party: dict) -> str:
    """"RCS Lyon 912 345 675": the registry with the SIREN beside it, unless it already has one."""
    reg = party.get("registration")
    if not reg:
        return ""
    if party.get("siren") and not any(ch.isdigit() for ch in reg):
        return reg + NBSP + grouped(party["siren"], "siren")
    return reg


FILTERS = {"money": money, "amount": amount, "negative": negative, "grouped": grouped, "nobreak": nobreak,
           "registration": registration, "date": long_date, "short_date": short_date, "number": number,
           "quantity": number, "percent": percent, "unit": unit, "mention": mention, "price": price}


#: What an exact dict has as attributes (its methods and object's): `d.items` is the method.
DICT_ATTRIBUTES = frozenset(dir(dict))


MAX_EXPONENT = 64
MAX_REPEATED = 100_000


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


class DocumentEnvironment(SandboxedEnvironment):
    """The sandbox, reading `line.net` from the render context's plain dicts without raising
    and catching an AttributeError first (a long document does it tens of thousands of
    times). For an exact dict and a name no dict has as an attribute, the sandbox's getattr
    finds no attribute and returns obj[name]: this returns the same item; anything else
    (a missing key, a dict method, another type) goes through the sandbox's own."""

    #: Arithmetic a template could make unbounded: `9 ** (9 ** 9)` held a worker until it was
    #: killed, and `"x" * 10 ** 9` would take its memory. Intercepted, they are not folded at
    #: compile time either.
    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and _is_number(right) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"a template raises to a power of at most {MAX_EXPONENT} (here {right})")
        if operator == "*" and (isinstance(left, (str, list, tuple)) and _is_number(right)
                                or isinstance(right, (str, list, tuple)) and _is_number(left)):
            repeat, item = (right, left) if _is_number(right) else (left, right)
            if repeat * len(item) > MAX_REPEATED:
                raise SecurityError(f"a template repeats text to at most {MAX_REPEATED} characters")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                pass
        return super().getattr(obj, attribute)


def make_environment(loader=None, autoescape: bool = True) -> SandboxedEnvironment:
    env = DocumentEnvironment(loader=loader, autoescape=autoescape, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    return env
