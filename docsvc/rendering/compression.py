"""The PDF's streams compressed at zlib's default level, not its slowest (issue 16).

pydyf, which writes WeasyPrint's PDFs, compresses every stream (the page's drawing and the
embedded fonts) at level 9. On a one-page invoice that took 8.6 ms; level 6, zlib's own
default, takes 3.2 ms for 149 bytes more in 55 KB (0.3 %), and 6.7 instead of 16.5 ms at
200 lines (measured 6 December 2026). What the streams hold is unchanged: only how tightly
it is packed, so the pages are the same, and a document's bytes are still the same on every
run and in every process that renders (installed with the PDF engine, as borders.py is).

`install()` gives pydyf's module a `zlib` whose `compressobj` and `compress` take level 6,
whatever level pydyf asks for; tests/unit/test_compression.py checks that pydyf still
calls them, and that the decompressed streams are those of level 9.
"""
from __future__ import annotations

import types
import zlib

import pydyf

LEVEL = 6
_PYDYF_ZLIB = pydyf.zlib


def _compressobj(level: int = LEVEL, *args, **kwargs):
    return zlib.compressobj(LEVEL, *args, **kwargs)


def _compress(data, /, level: int = LEVEL, **kwargs):
    return zlib.compress(data, LEVEL, **kwargs)


#: zlib as pydyf sees it once installed: the same module, at level 6
AT_DEFAULT_LEVEL = types.SimpleNamespace(**{**vars(zlib), "compressobj": _compressobj, "compress": _compress})


def install() -> None:
    pydyf.zlib = AT_DEFAULT_LEVEL


def uninstall() -> None:
    """pydyf's own level 9 again (for the naive baseline in bench/render.py and the tests)."""
    pydyf.zlib = _PYDYF_ZLIB
