"""docsvc's border drawing (docsvc/rendering/borders.py) draws the pages WeasyPrint draws.

Each PDF is written twice, with WeasyPrint's own border drawing and with docsvc's, and
rasterized by cairo without anti-aliasing (pdftocairo): the pages must be the same pixel
for pixel, while the bytes differ (else the fast path was never taken and the test would
prove nothing). Anti-aliased, rasterizers differ by a few levels of grey on the rules'
edges (WeasyPrint draws each side inside a clipping trapezoid); the geometry is the same.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from weasyprint import HTML

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering import borders
from docsvc.rendering.registry import TemplateRegistry
from docsvc.schemas.payload import load_payload
from tests.conftest import FIXTURES, ROOT, load_fixture

FIXTURE_NAMES = ["invoice", "credit_note"] + json.loads((FIXTURES / "cycle.json").read_text())


@pytest.fixture
def weasyprint_borders():
    """Writes with WeasyPrint's own border drawing inside the block; docsvc's again after."""
    class Switch:
        def __enter__(self):
            borders.uninstall()

        def __exit__(self, *exc):
            borders.install()
    yield Switch()
    borders.install()


def pixels(pdf: bytes, folder: Path, name: str) -> list[Image.Image]:
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftocairo", "-r", "100", "-antialias", "none", "-png", str(source), str(folder / name)],
                   check=True)
    return [Image.open(p).convert("RGB") for p in sorted(folder.glob(f"{name}-*.png"))]


def same_pages(ours: bytes, theirs: bytes, folder: Path) -> None:
    mine, weasyprint = pixels(ours, folder, "ours"), pixels(theirs, folder, "theirs")
    assert len(mine) == len(weasyprint) > 0
    for number, (a, b) in enumerate(zip(mine, weasyprint, strict=True), start=1):
        assert ImageChops.difference(a, b).getbbox() is None, f"page {number} differs"


@pytest.mark.parametrize("version", ["1.0.0", "1.7.1"])
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_looks_the_same_drawn_either_way(name, version, weasyprint_borders, tmp_path):
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", version)
    document = as_plain(enrich(load_payload(load_fixture(name))))
    ours = bundle.render("pdf", document)
    with weasyprint_borders:
        theirs = bundle.render("pdf", document)
    assert ours != theirs  # every fixture has ruled tables: the rectangles were drawn
    same_pages(ours, theirs, tmp_path)


PAGE = """<html><head><style>@page {{ size: 80mm 60mm; margin: 5mm }} td {{ padding: 2mm }}
{css}</style></head><body><table><tr><td class="a">Maçonnerie</td><td class="b">1 250,00 €</td></tr>
<tr><td class="a">Électricité</td><td class="b">980,00 €</td></tr></table>
<div class="c">Net à payer</div></body></html>"""


@pytest.mark.parametrize("css, ours", [
    # drawn as rectangles: plain sides, one opaque colour, square corners
    ("td { border-bottom: .2mm solid #e1e6ea }", True),
    ("td { border-top: .4mm solid #0f3d5e } .c { border-left: 1mm solid #0f3d5e }", True),
    (".c { border: .6mm solid #1e7d32 }", True),
    # left to WeasyPrint
    (".c { border: .6mm solid #1e7d32; border-radius: 1.5mm }", False),
    ("td { border-bottom: .5mm dashed #e1e6ea }", False),
    ("td { border-bottom: .5mm double #e1e6ea }", False),
    ("td { border-top: .5mm solid red; border-bottom: .5mm solid blue }", False),
    ("td { border-bottom: .5mm solid rgba(0, 0, 0, .5) }", False),
    ("td { border-bottom: .5mm solid #e1e6ea; visibility: hidden }", False),
])
def test_what_is_drawn_as_rectangles_and_what_is_left_to_weasyprint(css, ours, weasyprint_borders, tmp_path):
    def write():
        return HTML(string=PAGE.format(css=css)).write_pdf()
    drawn = write()
    with weasyprint_borders:
        theirs = write()
    assert (drawn != theirs) is ours
    same_pages(drawn, theirs, tmp_path)
