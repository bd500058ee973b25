"""Field types shared by the schemas: strict decimals, no booleans posing as numbers."""
from __future__ import annotations

from decimal import Decimal

from marshmallow import ValidationError, fields

from ..billing.text import bidi_controls, bidi_message


class Amount(fields.Decimal):
    """A decimal given as a JSON string or number; never a float, never a boolean.

    `max_places` bounds the digits after the point (4 for quantities and prices,
    the currency's 2 for amounts) so nothing is silently rounded away.
    """

    def __init__(self, *, max_places: int | None = None, **kwargs):
        kwargs.setdefault("as_string", True)
        super().__init__(**kwargs)
        self.max_places = max_places

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise ValidationError("Not a valid number: send a decimal string or a JSON number.")
        result = super()._deserialize(value, attr, data, **kwargs)
        if self.max_places is not None and result.as_tuple().exponent < -self.max_places:
            raise ValidationError(f"At most {self.max_places} decimal places.")
        return result


class Text(fields.String):
    """A trimmed, non-blank string with a length bound, so a layout never receives a novel.

    Names, identifiers and references refuse bidi control characters (U+202E printed
    "evil" as "live"); `free_text` fields (descriptions, notes, address lines) may need
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
        if not self.free_text and bidi_controls(result):
            raise ValidationError(bidi_message(bidi_controls(result)))
        return result
