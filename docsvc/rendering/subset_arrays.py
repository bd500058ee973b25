"""The glyph arrays of font subsetting made without parsing a new C type each time (issue 16).

WeasyPrint subsets each embedded font with HarfBuzz, handing it the glyphs a document uses
as `ffi.new(f"hb_codepoint_t[{len(glyphs)}]", glyphs)`. cffi parses every new type string
with pycparser, about 2 ms, and keeps it: each glyph count and highest glyph a process has
not met yet costs one, up to two per embedded font (classic embeds four). A worker meets new
ones for its first hundreds of documents, and gunicorn replaces workers. Measured on 10-line
invoices of their own, alternating with and without in one process: 0.8 ms a PDF on average
over 120, 2.5 ms over the first 40.

`install()` gives WeasyPrint's font module an ffi whose `new("T[n]", items)`, with n items
given, is `new("T[]", items)`: the same array, sized by its items, of a type parsed once.
Everything else is cffi's own. tests/integration/test_subset_arrays.py checks that the PDF is
the same bytes and that no sized type is parsed any more.
"""
from __future__ import annotations

import re
from typing import Any

from weasyprint.pdf import fonts

SIZED = re.compile(r"(\w+)\[(\d+)\]")
_FONTS_FFI = fonts.ffi


class UnsizedArrays:
    """cffi's ffi, whose `new` sizes an array of given items by them (see above)."""

    def __init__(self, ffi: Any):
        self._ffi = ffi

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ffi, name)

    def new(self, cdecl: str, init: Any = None) -> Any:
        sized = SIZED.fullmatch(cdecl) if isinstance(cdecl, str) else None
        if sized is not None and isinstance(init, (list, tuple)) and len(init) == int(sized[2]):
            return self._ffi.new(sized[1] + "[]", init)
        return self._ffi.new(cdecl, init)


def install() -> None:
    fonts.ffi = UnsizedArrays(_FONTS_FFI)


def uninstall() -> None:
    """WeasyPrint's own ffi again (for the naive baseline in bench/render.py and the tests)."""
    fonts.ffi = _FONTS_FFI
