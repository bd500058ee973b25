"""The PDF's streams at zlib's default level (docsvc/rendering/compression.py): pydyf takes
the level from docsvc, and the pages hold the very same content as at pydyf's level 9."""
from __future__ import annotations

import io
import zlib

import pikepdf
import pydyf
import pytest

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering import TemplateRegistry, compression, html_pdf
from docsvc.schemas.payload import load_payload
from tests.conftest import ROOT, load_fixture

DRAWING = b"BT /F1 9 Tf 1 0 0 -1 42.5 118.3 Tm [(Pose de la fa) 12 (\\357ence murale)] TJ ET\n" * 300


def test_the_pdf_engine_installs_it_and_pydyf_calls_it():
    assert html_pdf.compression is compression
    assert pydyf.zlib is compression.AT_DEFAULT_LEVEL
    assert zlib.compress(DRAWING, 9) != zlib.compress(DRAWING, 6)  # else this test could not tell the levels apart
    written = pydyf.Stream([DRAWING], compress=True).data
    assert zlib.compress(DRAWING, 6) in written
    assert zlib.compress(DRAWING, 9) not in written


@pytest.fixture
def level_9_then_back():
    yield
    compression.install()


def streams(pdf: bytes) -> list[bytes]:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        # all but the cross-reference stream, which holds where each object starts in the file
        return [obj.read_bytes() for obj in document.objects
                if isinstance(obj, pikepdf.Stream) and obj.get("/Type") != "/XRef"]


def test_the_streams_hold_what_level_9_wrote(level_9_then_back):
    document = as_plain(enrich(load_payload(load_fixture("invoice"))))
    compression.uninstall()
    at_9 = TemplateRegistry([ROOT / "templates"]).get("classic", "1.7.3").render("pdf", document)
    compression.install()
    at_6 = TemplateRegistry([ROOT / "templates"]).get("classic", "1.7.3").render("pdf", document)
    assert at_6 != at_9
    decoded = streams(at_6)
    assert len(decoded) >= 6  # three pages' drawing and the fonts, at least
    assert decoded == streams(at_9)
    # 149 bytes more on a one-page invoice (compression.py): a few per cent at most, never double
    assert len(at_9) < len(at_6) < len(at_9) * 1.05
