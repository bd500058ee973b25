"""Computed styles worked out once per template version, not once per document (issue 16).

WeasyPrint computes an element's style property by property, when layout first asks for it
(`ComputedStyle.__missing__`): about 8 600 times for a one-page invoice, a fifth of its
time. Within a document it already shares one computed style between elements with the same
parent style and the same matched rules; from one invoice to the next it starts again,
though classic's elements match the same rules in the same places each time.

A computed value depends only on the element's cascaded declarations, its parent's computed
values, the root's (`rem`), the pseudo-element, the base URL, the font configuration (`ex`,
`ch`) and the page's size (viewport units). So each template version (its PdfEngine's font
configuration, with its stylesheets and base URL) keeps, for each such combination met, a
*reference style*: a plain WeasyPrint ComputedStyle of its own that computes each property
once, with WeasyPrint's own code, when a document first asks for it. A document's styles are
WeasyPrint's as before, each with its reference: a property it has not got yet is copied from
the reference instead of computed. Layout only ever sees the document's own styles, which it
may change (a footnote's display, a table's padding); a reference is never handed to it.

A reference is keyed by its parent's reference, the pseudo-element and each cascaded
declaration's value object and weight: the stylesheets' value objects live as long as the
stylesheets, which the reference holds. The declarations a document makes itself (`lang`,
an element's `id` as its anchor, a `style` attribute) are new objects on every document;
those that are plain data (strings, numbers, `47%`) are made the same object for the same
text (`_Kept.intern`), the others leave their element and its descendants without a
reference, as do values in viewport units (which depend on the page's size). `position`,
`float`, `display` and `anchor` are always computed by the document's style (see OWN). Page
and margin-box styles, made during layout, have no reference.

Measured (6 December 2026, one process, 10-line invoices of their own, alternating with and
without): 90 instead of 101 ms for classic 1.7.0, 92 instead of 103 for 1.0.0. No gain at 200
lines, where WeasyPrint's own sharing between the rows already does it. The references a
template version needs are a few hundred (133 for classic 1.0.0, 305 for 1.7.3, 368 for
1.5.0 over all the fixtures, about 3 KB each); at most 1 024 are kept per template version,
and 4 096 interned values, after which new combinations are computed as before. Like the
rest of rendering, references are used by one render at a time per process (Bundle's lock).

`install()` puts it in WeasyPrint's css module; `keep_styles(font_config)` turns it on for
one font configuration (PdfEngine does, for its own). tests/integration/test_style_cache.py
checks that every fixture's PDF is the same bytes with and without it, in whatever order
documents come.
"""
from __future__ import annotations

import threading
from typing import Any

from weasyprint import css as weasyprint_css
from weasyprint.css.units import VIEWPORT_UNITS

_COMPUTED_STYLE = weasyprint_css.ComputedStyle
_STYLE_FOR_INIT = weasyprint_css.StyleFor.__init__
_PREPROCESS_DECLARATIONS = weasyprint_css.preprocess_declarations

MAX_REFERENCES = 1024
MAX_INTERNED = 4096

#: computed by the document's style itself: position, float and display, whose specified
#: values WeasyPrint keeps beside them; the anchor and display, which it asks every style for
#: (six pseudo-elements' per element, most never asked anything else: no reference looked for)
OWN = frozenset({"position", "float", "display", "anchor"})
#: the attribute a kept font configuration holds its references in (a cycle the collector frees with it)
ATTRIBUTE = "_docsvc_kept_styles"

#: in this thread, while a StyleFor is built: its _Kept if any, and the ids of the values its
#: document declares itself that are not shared (`own`)
_current = threading.local()


class _Kept:
    """The reference styles of one template version: its font configuration, bound to the
    stylesheets and base URL of the first document laid out with it."""

    def __init__(self) -> None:
        self.sheets: list | None = None
        self.base_url: str | None = None
        self.references: dict[tuple, Any] = {}
        self.interned: dict[tuple, Any] = {}
        self.made = self.lent = 0  # references made, document styles given one

    def serves(self, sheets: list, base_url: str | None) -> bool:
        """Whether this document's stylesheets and base URL are the first document's."""
        if self.sheets is None:
            self.sheets, self.base_url = list(sheets), base_url
            return True
        return (base_url == self.base_url and len(sheets) == len(self.sheets)
                and all(a[0] is b[0] and a[1:] == b[1:] for a, b in zip(sheets, self.sheets, strict=True)))

    def reference(self, style):
        """The reference style for a document's style, or None."""
        parent_style = style.parent_style
        if parent_style is None:
            parent = root = None
        else:
            parent, root = _reference_of(parent_style), _reference_of(style.root_style)
            if parent is None or root is None:
                return None
        cascaded = style.cascaded
        key = (id(parent), style.pseudo_type,
               tuple([(name, id(values), weight) for name, (values, weight) in cascaded.items()]))
        found = self.references.get(key)
        if found is None:
            if len(self.references) >= MAX_REFERENCES or any(
                    _uses_page_size(values) for values, _ in cascaded.values()):
                return None
            # its own copy of the declarations, which hold the value objects of the key alive
            found = _COMPUTED_STYLE(parent, dict(cascaded), style.pseudo_type,
                                    weasyprint_css.InitialStyle(style.font_config) if parent is None else root,
                                    style.base_url, style.font_config, {"box": None, "area": None})
            self.references[key] = found
            self.made += 1
        self.lent += 1
        return found

    def intern(self, name: str, values, importance):
        """The same object for the same plain value of a declaration the document makes itself,
        or None when there is none (not plain data, or no room left)."""
        text = _plain(values)
        if text is None:
            return None
        key = (name, text, importance)
        found = self.interned.get(key)
        if found is None:
            if len(self.interned) >= MAX_INTERNED:
                return None
            found = self.interned[key] = values
        return found


def _plain(value) -> tuple | None:
    """`value` as data that compares equal only to the same value of the same types, or None
    when it is not only strings, numbers and tuples of them."""
    if value is None or isinstance(value, (str, int, float)):
        return (type(value), value)
    if isinstance(value, tuple):
        items = []
        for item in value:
            plain = _plain(item)
            if plain is None:
                return None
            items.append(plain)
        return (type(value), tuple(items))
    return None


def _uses_page_size(value) -> bool:
    """Whether a declared value has a viewport unit anywhere in it (a Dimension, a token, a
    math function's arguments, a var() still to resolve)."""
    unit = getattr(value, "unit", None)
    if isinstance(unit, str) and unit.lower() in VIEWPORT_UNITS:
        return True
    if value is None or isinstance(value, (str, int, float)):
        return False
    if isinstance(value, (tuple, list)):
        return any(_uses_page_size(item) for item in value)
    for attribute in ("arguments", "content", "tokens"):  # tinycss2's functions and blocks, Pending
        inner = getattr(value, attribute, None)
        if isinstance(inner, (tuple, list)) and _uses_page_size(inner):
            return True
    return False


class DocumentStyle(weasyprint_css.ComputedStyle):
    """WeasyPrint's ComputedStyle of a document's element, which copies a property from its
    reference style, when it has one, instead of computing it. The reference is found when
    the style is first asked for a property: most pseudo-element styles (a marker, a footnote
    call: six per element) never are."""

    _kept: _Kept | None = None  # until the reference is looked for
    _reference = None

    def __init__(self, parent_style, cascaded, pseudo_type, root_style, base_url, font_config,
                 initial_page_sizes):
        super().__init__(parent_style, cascaded, pseudo_type, root_style, base_url, font_config,
                         initial_page_sizes)
        kept = getattr(_current, "kept", None)
        own = _current.own if kept is not None else None
        if own and any(id(values) in own for values, _ in cascaded.values()):
            kept = None  # declares a value of this document's own (see _preprocess_declarations)
        self._kept = kept

    def __missing__(self, key):
        if key in OWN:
            return _COMPUTED_STYLE.__missing__(self, key)
        if self._kept is not None:  # looked for once; then only this test on the hot path
            _reference_of(self)
        reference = self._reference
        if reference is None:
            return _COMPUTED_STYLE.__missing__(self, key)
        value = self[key] = reference[key]
        return value


def _reference_of(style):
    """A document style's reference, looked for now if it has not been."""
    kept = getattr(style, "_kept", None)
    if kept is not None:
        style._kept = None
        style._reference = kept.reference(style)
    return getattr(style, "_reference", None)


def _style_for_init(self, html, sheets, presentational_hints, font_config, target_collector):
    """StyleFor's, with the document's styles given references when its font configuration
    is kept and its stylesheets and base URL are those it was first used with."""
    kept = getattr(font_config, ATTRIBUTE, None)
    if kept is not None and (presentational_hints or not kept.serves(sheets, html.base_url)):
        kept = None
    _current.kept, _current.own = kept, set()
    try:
        _STYLE_FOR_INIT(self, html, sheets, presentational_hints, font_config, target_collector)
    finally:
        _current.kept, _current.own = None, set()


def _preprocess_declarations(base_url, declarations, prelude=None):
    """WeasyPrint's, the plain values of a document's own declarations interned while its
    styles are built (the stylesheets are parsed outside of that, and left as they are)."""
    kept = getattr(_current, "kept", None)
    items = _PREPROCESS_DECLARATIONS(base_url, declarations, prelude)
    if kept is None:
        yield from items
        return
    for name, values, importance in items:
        interned = kept.intern(name, values, importance)
        if interned is None:  # this document's own object: its element gets no reference
            _current.own.add(id(values))
            interned = values
        yield name, interned, importance


def keep_styles(font_config) -> None:
    """Keep reference styles for the documents laid out with `font_config` (one template version's)."""
    if getattr(font_config, ATTRIBUTE, None) is None:
        setattr(font_config, ATTRIBUTE, _Kept())


def kept(font_config) -> _Kept | None:
    return getattr(font_config, ATTRIBUTE, None)


def install() -> None:
    weasyprint_css.ComputedStyle = DocumentStyle
    weasyprint_css.StyleFor.__init__ = _style_for_init
    weasyprint_css.preprocess_declarations = _preprocess_declarations


def uninstall() -> None:
    """WeasyPrint's own again (for the naive baseline in bench/render.py and the tests)."""
    weasyprint_css.ComputedStyle = _COMPUTED_STYLE
    weasyprint_css.StyleFor.__init__ = _STYLE_FOR_INIT
    weasyprint_css.preprocess_declarations = _PREPROCESS_DECLARATIONS
