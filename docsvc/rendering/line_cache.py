"""Lines of text measured once per process, as browsers cache shaped words (issue 16).

WeasyPrint measures every run of text with Pango (`split_first_line`): how much of it fits
on a line of a given width, and that first line's width, height and baseline. A table cell
is measured up to three times per layout (its narrowest and widest widths, then at its
column's width), and most of an invoice's text is the same from one invoice to the next:
the labels, the seller's block, the legal mentions, the payment terms, recurring line
descriptions, units and rates. Pango's answer depends only on the text, the width, the
font configuration (one per template version) and the style properties listed below, so
the answer is kept, keyed by all of them: 4 096 lines at most in a process (3.7 MB),
the least recently used dropped first, so a worker's memory stays flat.

What is kept is what WeasyPrint keeps after measuring: the figures, and its Layout object
once it has let go of Pango's (`deactivate`), which the drawing rebuilds from the text.
Each caller gets its own copy, as drawing may change the copy's text (ellipses, justified
spaces). Automatic hyphenation (`hyphens: auto`, which reads the layout's dictionaries
and more of the style) is measured every time.

`install()` puts it in front of `split_first_line` where WeasyPrint's inline and
preferred-width layouts call it; tests/integration/test_line_cache.py checks that every fixture's
PDF is the same bytes with and without it, in whatever order documents are rendered.
"""
from __future__ import annotations

import itertools
import threading
import weakref
from collections import OrderedDict

from weasyprint.layout import inline, preferred
from weasyprint.text import line_break

_WEASYPRINT_SPLIT_FIRST_LINE = line_break.split_first_line
MAX_LINES = 4096

#: every style property split_first_line reads, through Layout, get_font_description,
#: font_features, set_text, set_tabs and first_line_metrics (WeasyPrint 70)
PROPERTIES = (
    "direction", "lang", "font_language_override", "font_family", "font_style", "font_stretch",
    "font_weight", "font_size", "font_variation_settings", "font_kerning", "font_variant_ligatures",
    "font_variant_position", "font_variant_caps", "font_variant_numeric", "font_variant_alternates",
    "font_variant_east_asian", "font_feature_settings", "text_decoration_line", "word_spacing",
    "letter_spacing", "overflow_wrap", "tab_size", "white_space", "word_break", "hyphens",
    "hyphenate_character", "hyphenate_limit_chars", "hyphenate_limit_zone")


class _Lines:
    """The measured lines, least recently used first, of every font configuration."""

    def __init__(self) -> None:
        self.lines: OrderedDict = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0
        # A font configuration is named in the keys by a number, not held: a template version
        # rendered once (a designer's bundle checked at publishing) lets go of its fonts and
        # their temporary folder, and its lines are dropped at the next measuring.
        self.numbers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.counter = itertools.count()
        self.gone: list[int] = []  # appended by the collector, which must not take the lock

    def number(self, fonts) -> int:
        number = self.numbers.get(fonts)
        if number is None:
            number = self.numbers[fonts] = next(self.counter)
            weakref.finalize(fonts, self.gone.append, number)
        return number

    def drop_gone(self) -> None:
        """Under the lock: the lines of font configurations no longer in use."""
        if self.gone:
            gone = set()
            while self.gone:
                gone.add(self.gone.pop())
            for key in [key for key in self.lines if key[0] in gone]:
                del self.lines[key]


LINES = _Lines()


def _copy(layout):
    """A Layout of its own for each caller: the drawing sets text and Pango objects on it."""
    twin = object.__new__(type(layout))
    twin.__dict__.update(layout.__dict__)
    return twin


def split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True,
                     minimum=False):
    """WeasyPrint's split_first_line, answered from the cache when it has measured the same."""
    given = (text, style, context, max_width, justification_spacing, is_line_start, minimum)
    if style["hyphens"] == "auto":
        return _WEASYPRINT_SPLIT_FIRST_LINE(*given)
    key = (LINES.number(style.font_config), text, max_width, justification_spacing, is_line_start, minimum,
           *(style[name] for name in PROPERTIES))
    try:
        with LINES.lock:
            kept = LINES.lines.get(key)
            if kept is not None:
                LINES.lines.move_to_end(key)
                LINES.hits += 1
    except TypeError:  # a property whose value can't be a key: measured every time
        return _WEASYPRINT_SPLIT_FIRST_LINE(*given)
    if kept is not None:
        return (_copy(kept[0]), *kept[1:])
    measured = _WEASYPRINT_SPLIT_FIRST_LINE(*given)
    with LINES.lock:
        LINES.drop_gone()
        LINES.misses += 1
        LINES.lines[key] = (_copy(measured[0]), *measured[1:])
        if len(LINES.lines) > MAX_LINES:
            LINES.lines.popitem(last=False)
    return measured


def install() -> None:
    inline.split_first_line = split_first_line
    preferred.split_first_line = split_first_line


def uninstall() -> None:
    """WeasyPrint's own measuring again (for the naive baseline and the tests)."""
    inline.split_first_line = _WEASYPRINT_SPLIT_FIRST_LINE
    preferred.split_first_line = _WEASYPRINT_SPLIT_FIRST_LINE


def clear() -> None:
    """Nothing kept, nothing counted (for the tests)."""
    with LINES.lock:
        LINES.lines.clear()
        LINES.hits = LINES.misses = 0
