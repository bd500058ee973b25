"""Field types shared by the schemas: strict decimals, no booleans posing as numbers."""
from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import ValidationError, fields

from ..billing.text import bidi_controls, bidi_message, invisible, invisible_message

#: The one grammar of a decimal sent as a string: ASCII digits, an optional sign, an
#: optional point, an optional exponent of at most two digits. No spaces, no "_", no
#: other scripts' digits, no "NaN" or "Infinity".
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?", re.ASCII)
MAX_LITERAL = 40
#: Magnitude bounds (absolute values), so no figure can overflow the arithmetic or the page.
QUANTITY_MAX = Decimal("1e9")
PRICE_MAX = Decimal("1e9")
AMOUNT_MAX = Decimal("1e12")
DECIMAL_HELP = ('Not a valid number: ASCII digits with an optional sign, point and exponent '
                '(e.g. "1850.00", "-2.5", "1.5E3"), as a string or a JSON number.')


def _readable(number: Decimal) -> bool:
    """A JSON number within the grammar's bounds (at most 40 digits, an exponent of at most
    two digits): 1e999999999999999999 parses, but abs() of it overflows the decimal context."""
    if not number.is_finite():
        return False
    _, digits, exponent = number.as_tuple()
    return isinstance(exponent, int) and abs(exponent) <= 99 and len(digits) <= MAX_LITERAL


class Amount(fields.Decimal):
    """A decimal given as a JSON string or number; never a float, never a boolean.

    Strings follow DECIMAL exactly; JSON numbers (already parsed as Decimal) and strings
    then meet the same bounds: `max_places` digits after the point (4 for quantities and
    prices, the currency's 2 for amounts) so nothing is silently rounded away, and
    `max_abs` in absolute value (AMOUNT_MAX unless the field says otherwise).
    """

    def __init__(self, *, max_places: int | None = None, max_abs: Decimal = AMOUNT_MAX, **kwargs):
        kwargs.setdefault("as_string", True)
        super().__init__(**kwargs)
        self.max_places = max_places
        self.max_abs = max_abs
        self.metadata = {"x-docsvc-max-abs": f"{max_abs:f}", **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise ValidationError("Not a valid number: send a decimal string or a JSON number.")
        if isinstance(value, str) and (len(value) > MAX_LITERAL or not DECIMAL.fullmatch(value)):
            raise ValidationError(DECIMAL_HELP)
        if isinstance(value, Decimal) and not _readable(value):
            raise ValidationError(DECIMAL_HELP)
        number = Decimal(value)
        if number.is_zero():
            number = abs(number)  # "-0" would print "-0,00 €" and break BR-DEC rules: it is 0
        if abs(number) > self.max_abs:
            raise ValidationError(f"At most {self.max_abs:,f} in absolute value.")
        if _exponent(number) > 0:  # an exponent is read, never kept: "1.5E3" is 1500
            number = number.quantize(Decimal(1))
        if self.max_places is not None and _exponent(number) < -self.max_places:
            raise ValidationError(f"At most {self.max_places} decimal places.")
        return super()._deserialize(number, attr, data, **kwargs)


class Text(fields.String):
    """A trimmed, non-blank string with a length bound, so a layout never receives a novel.

    Names, identifiers and references are one line and refuse bidi control characters (U+202E
    printed "evil" as "live"); `free_text` fields (descriptions, notes, address lines) may need
    them for right-to-left scripts, and are checked against the template's fonts instead.
    """

    def __init__(self, *, max_length: int = 500, free_text: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.free_text = free_text

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs).strip()
        if not result:
            raise ValidationError("Must not be blank.")
        if len(result) > self.max_length:
            raise ValidationError(f"At most {self.max_length} characters.")
        if any(ord(c) < 32 and c not in "\n\t" for c in result):
            raise ValidationError("Control characters are not allowed.")
        if not self.free_text and ("\n" in result or "\t" in result):  # the PDF would join what the XML keeps apart
            raise ValidationError("One line: no line break or tab in a name, identifier or reference.")
        if not self.free_text and bidi_controls(result):
            raise ValidationError(bidi_message(bidi_controls(result)))
        if not self.free_text and invisible(result):
            raise ValidationError(invisible_message(invisible(result)))
        return result


def _exponent(number: Decimal) -> int:
    """The exponent of a finite decimal (the fields refuse NaN and infinities before)."""
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int), "a finite decimal"
    return exponent
