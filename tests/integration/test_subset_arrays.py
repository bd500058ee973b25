"""Font subsetting's glyph arrays made of a C type parsed once (docsvc/rendering/subset_arrays.py):
the PDF is the same bytes as with WeasyPrint's own sized arrays, and a render asks cffi for no
sized array type any more."""
from __future__ import annotations

import re

import pytest
from weasyprint.pdf import fonts

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering import TemplateRegistry, html_pdf, subset_arrays
from docsvc.schemas.payload import load_payload
from tests.conftest import ROOT, load_fixture


class Recording:
    """An ffi that records the types `new` is asked for and passes everything on."""

    def __init__(self, ffi):
        self.ffi, self.types = ffi, []

    def __getattr__(self, name):
        return getattr(self.ffi, name)

    def new(self, cdecl, init=None):
        self.types.append(cdecl)
        return self.ffi.new(cdecl, init)


@pytest.fixture
def recorded():
    """WeasyPrint's font module sees a recording ffi (under docsvc's when installed)."""
    real = subset_arrays._FONTS_FFI
    recording = Recording(real)
    yield recording
    subset_arrays._FONTS_FFI = real
    subset_arrays.install()


def render() -> bytes:
    document = as_plain(enrich(load_payload(load_fixture("invoice"))))
    return TemplateRegistry([ROOT / "templates"]).get("classic", "1.7.3").render("pdf", document)


def test_the_pdf_engine_installs_it():
    assert html_pdf.subset_arrays is subset_arrays
    assert isinstance(fonts.ffi, subset_arrays.UnsizedArrays)


def test_the_same_bytes_and_no_sized_type(recorded):
    fonts.ffi = recorded  # WeasyPrint's own: a sized type per array
    theirs = render()
    sized = [cdecl for cdecl in recorded.types if re.fullmatch(r"hb_codepoint_t\[\d+\]", cdecl)]
    # each font embedded: its glyphs, the 11 tables dropped, the glyphs up to the highest kept
    embedded = sized.count("hb_codepoint_t[11]")
    assert embedded >= 3 and len(sized) == 3 * embedded  # three Inter weights at least
    recorded.types.clear()
    fonts.ffi = subset_arrays.UnsizedArrays(recorded)
    ours = render()
    assert ours == theirs
    assert recorded.types.count("hb_codepoint_t[]") == len(sized)
    assert not [cdecl for cdecl in recorded.types if re.fullmatch(r"hb_codepoint_t\[\d+\]", cdecl)]


def test_anything_else_is_cffis_own():
    arrays = subset_arrays.UnsizedArrays(Recording(subset_arrays._FONTS_FFI))
    made = arrays.new("hb_codepoint_t[3]", (5, 6, 7))
    assert list(made) == [5, 6, 7] and len(made) == 3
    arrays.new("hb_codepoint_t[4]", [1, 2])  # fewer items than the size: the sized type, zeros after
    arrays.new("unsigned int *", 100)
    assert arrays._ffi.types == ["hb_codepoint_t[]", "hb_codepoint_t[4]", "unsigned int *"]
    assert arrays.NULL == subset_arrays._FONTS_FFI.NULL
