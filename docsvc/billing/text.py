"""Text that would print wrong forever: bidi controls that reorder what a reader sees, and
characters the template's fonts can't draw (an archived original with an empty box in
the buyer's name can never be corrected). Pure functions; the fonts' coverage is given.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterator

#: Unicode bidirectional controls (UAX #9): embeddings and overrides U+202A-U+202E, isolates
#: U+2066-U+2069, the marks U+200E, U+200F and the Arabic letter mark U+061C. An override
#: in a name prints "evil" as "live".
BIDI_CONTROLS = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])

#: Characters no font needs a glyph for: line breaks and tabs (kept by text fields), soft
#: hyphen, zero-width space and joiners, word joiner, BOM, variation selectors.
NOT_DRAWN = frozenset([0x09, 0x0A, 0x0D, 0xAD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, *range(0xFE00, 0xFE10)])


def describe(char: str) -> str:
    """U+202E RIGHT-TO-LEFT OVERRIDE: what a reader of a 422 needs to find the character."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def bidi_controls(text: str) -> list[str]:
    """The bidi control characters in `text`, each once, in order."""
    return list(dict.fromkeys(c for c in text if ord(c) in BIDI_CONTROLS))


#: Characters that print nothing, or whatever a font puts there: in a name or an identifier
#: they make two that look the same differ (zero-width space, word joiner, BOM; private use)
INVISIBLE = frozenset([0x200B, 0x2060, 0xFEFF])


def invisible(text: str) -> list[str]:
    """The invisible and private-use characters in `text`, each once, in order."""
    return list(dict.fromkeys(c for c in text if ord(c) in INVISIBLE or 0xE000 <= ord(c) <= 0xF8FF))


def invisible_message(found: list[str]) -> str:
    return (f"Invisible or private-use character(s) {', '.join(describe(c) for c in found)}: not allowed in "
            "names, identifiers and references, where two that look the same would differ.")


def bidi_message(found: list[str]) -> str:
    return (f"Bidirectional control character(s) {', '.join(describe(c) for c in found)}: not allowed in "
            "names, identifiers and amounts, since they change the order in which characters print.")


def strings(value, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a decoded JSON payload with its JSON path (list indexes from 0)."""
    if isinstance(value, str):
        yield path or "$", value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings(item, f"{path}.{i}" if path else str(i))


def undrawable(raw, drawable: frozenset[int], template: str, fonts: tuple[str, ...]) -> dict[str, list[str]]:
    """Each field of the payload with characters no font of the template draws, by JSON path.

    `drawable` is every code point the template's fonts map (its own and the fallback fonts
    it declares); `template` and `fonts` name them in the message.
    """
    errors: dict[str, list[str]] = {}
    for path, text in strings(raw):
        missing = list(dict.fromkeys(c for c in text if ord(c) not in drawable and ord(c) not in NOT_DRAWN))
        if missing:
            shown = ", ".join(describe(c) for c in missing[:10]) + (f" and {len(missing) - 10} more"
                                                                     if len(missing) > 10 else "")
            errors[path] = [f"Template {template} can't draw {shown}: its fonts ({', '.join(fonts)}) have no "
                            "glyph for it. Change the text, or use a template version that declares a "
                            "fallback font drawing it (fallback_fonts in template.toml)."]
    return errors
