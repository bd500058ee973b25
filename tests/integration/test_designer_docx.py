"""The DOCX is the designer's file (issue 13): every shipped document.docx passes the publish
checks and keeps its bytes, and the designer guide's example, bundles/classic/1.8.0, differs
from classic 1.7.3's DOCX (1.7.1's, lean, with the retention's working, and 1.7.3's three tags) exactly by the change
docs/templates.md walks through: the terracotta accent in place of navy, and the seller's mark
before the seller name."""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering.bundle import Bundle
from docsvc.rendering.checks import check_bundle, check_docx
from docsvc.schemas.payload import load_payload
from tests.conftest import ROOT, load_fixture
from tests.originals import docx_text

SHIPPED = ROOT / "templates" / "classic"
BASE, EXAMPLE = SHIPPED / "1.7.3", ROOT / "bundles" / "classic" / "1.8.0"  # the example and what it starts from
NAVY, TERRACOTTA = b"0F3D5E", b"B4441B"  # style.css: #0f3d5e in 1.7.0, #b4441b in 1.8.0
IMAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

#: Issued documents re-render byte for byte from their version's bundle: these files never change.
PINNED = {
    "1.0.0": "eb4a5f518ad3e4734bc52e923a888dcdb4efc5a6389d02de210916cf99f3066b",
    "1.2.0": "4bc56ce34543f754c791ee9c86bea95a5b643f01bf82beaac73e5e50c8b09bcd",
    "1.3.0": "4bc56ce34543f754c791ee9c86bea95a5b643f01bf82beaac73e5e50c8b09bcd",  # a copy of 1.2.0's
    "1.5.0": "7fa5d4441e9d6d08c0bfb50b24eb7fdfa92e622e0ee412ac3fe9708dea81dade",  # 1.3.0's + the EN 16931 blocks
    "1.7.0": "b8daa2ab83bedc9f56bbcf6b2ffca8fc2a9acc634778e91afd2131f30e9cab22",  # 1.5.0's, lean (tools/lean_docx.py)
    "1.7.1": "371d870178d00d55d7644777e07da82d6ccbdd10a2435953de44299b5ece8a50",  # 1.7.0's + the retention's working
    "1.7.2": "371d870178d00d55d7644777e07da82d6ccbdd10a2435953de44299b5ece8a50",  # 1.7.1's (1.7.2 changes the PDF only)
    "1.7.3": "1ebac6fff76241dcd014ef4b55a2ec81545811bd293935779c09ba6eadd97a06",  # 1.7.2's with 1.7.3's tags (below)
}

#: What classic 1.7.3 changed in 1.7.2's DOCX, tag by tag, as a designer retypes them in Word: the
#: narrow VAT-rate cells (lines, situation rows) name a category briefly, and the retention is
#: worked out from the cumulative works whenever this is not the first situation's works alone.
TAGS_1_7_3 = (("labels.categories[row.vat_category]", "labels.categories_short[row.vat_category]", 3),
              ("labels.categories[line.vat_category]", "labels.categories_short[line.vat_category]", 3),
              ("{% if doc.retention.withheld_before %}",
               "{% if doc.retention.cumulative_base != doc.retention.base %}", 2))


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def render_docx(bundle: Path, fixture: str, language: str = "fr") -> bytes:
    raw = load_fixture(fixture)
    raw["language"] = language
    return Bundle(bundle).render("docx", as_plain(enrich(load_payload(raw))))


@pytest.mark.parametrize("version", sorted(PINNED))
def test_shipped_docx_keep_their_bytes(version):
    assert set(PINNED) == {p.name for p in SHIPPED.iterdir()}  # a new shipped version is pinned here too
    data = (SHIPPED / version / "document.docx").read_bytes()
    assert hashlib.sha256(data).hexdigest() == PINNED[version]


def test_1_7_3s_docx_is_1_7_2s_with_its_three_tags_retyped():
    before, after = parts(SHIPPED / "1.7.2" / "document.docx"), parts(SHIPPED / "1.7.3" / "document.docx")
    assert set(before) == set(after)
    assert [n for n in sorted(before) if before[n] != after[n]] == ["word/document.xml"]
    document = before["word/document.xml"].decode()
    for old, new, count in TAGS_1_7_3:
        assert document.count(old) == count
        document = document.replace(old, new)
    assert document == after["word/document.xml"].decode()


@pytest.mark.parametrize("bundle", [*(SHIPPED / v for v in ("1.0.0", "1.2.0", "1.3.0", "1.5.0", "1.7.1", "1.7.2")),
                                    BASE, EXAMPLE], ids=lambda p: p.name)
def test_every_docx_passes_the_publish_checks(bundle):
    assert check_docx(bundle) == []
    assert check_bundle(bundle) == []


def test_the_check_catches_what_word_does_to_the_example(tmp_path):
    """The checks above can fail: the example with its seller-name tag split across two runs
    (Word, after "name" is retyped) and curly quotes in the running header's title."""
    copy = tmp_path / "1.8.0"
    shutil.copytree(EXAMPLE, copy)
    files = parts(copy / "document.docx")
    tag = "<w:t>{{ doc.seller.name }}</w:t>"
    document = files["word/document.xml"].decode()
    assert document.count(tag) == 1
    files["word/document.xml"] = document.replace(
        tag, "<w:t>{{ doc.seller.</w:t></w:r><w:r><w:t>name }}</w:t>").encode()
    header = files["word/header1.xml"].decode()
    files["word/header1.xml"] = header.replace("doc.language == 'fr'", "doc.language == \u2018fr\u2019").encode()
    with zipfile.ZipFile(copy / "document.docx", "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    messages = [(p["file"], p["message"]) for p in check_docx(copy)]
    assert messages == [
        ("document.docx (word/document.xml)",
         "tag '{{ doc.seller.name }}' is split across Word runs in: '{{ doc.seller.name }}'"),
        ("document.docx (word/header1.xml)",
         "curly quotes inside tag \"{{ ' n° ' if doc.language == \u2018fr\u2019 else ' no. ' }}\" in: "
         "\"{{ labels.titles[doc.type] }}{% if doc.title_number %}{{ ' n° ' if doc.language == \u2018fr\u2019 "
         "else ' no. ' }}{{ doc.title_number }}{% endif %} {{ labels.fields.number }} {{ doc.number }}\""),
    ]


def test_the_example_differs_from_1_5_0_by_the_accent_and_the_mark():
    before, after = parts(BASE / "document.docx"), parts(EXAMPLE / "document.docx")
    assert set(after) - set(before) == {"word/media/mark.png"} and set(before) <= set(after)
    # the accent: every navy of 1.7.0 (run colours, the table headers' shading, the running
    # header's title) is terracotta, in every part; no navy is left, nothing else is recoloured
    navy = sum(body.upper().count(NAVY) for body in before.values())
    assert navy > 10 and before["word/header1.xml"].count(NAVY) == 1
    assert sum(body.upper().count(TERRACOTTA) for body in after.values()) == navy
    assert not [name for name, body in after.items() if NAVY in body.upper()]
    unchanged = set(before) - {"word/document.xml", "word/_rels/document.xml.rels", "[Content_Types].xml"}
    assert [n for n in sorted(unchanged) if after[n] != before[n].replace(NAVY, TERRACOTTA)] == []

    # the mark: the bundle's own PNG, declared, related and drawn in the seller-name paragraph
    assert after["word/media/mark.png"] == (EXAMPLE / "assets" / "mark.png").read_bytes()
    assert after["[Content_Types].xml"] == before["[Content_Types].xml"].replace(
        b'<Default Extension="rels"', b'<Default Extension="png" ContentType="image/png"/><Default Extension="rels"')
    rels = re.findall(rb'<Relationship Id="([^"]+)" Type="([^"]+)" Target="([^"]+)"/>',
                      after["word/_rels/document.xml.rels"])
    added = set(rels) - set(re.findall(rb'<Relationship Id="([^"]+)" Type="([^"]+)" Target="([^"]+)"/>',
                                       before["word/_rels/document.xml.rels"]))
    assert len(added) == 1
    rid, kind, target = added.pop()
    assert (kind, target) == (IMAGE.encode(), b"media/mark.png")
    document = after["word/document.xml"].decode()
    paragraph = re.search(r"<w:p>(?:(?!</w:p>).)*\{\{ doc\.seller\.name \}\}.*?</w:p>", document).group(0)
    drawing = re.search(r'<w:r><w:rPr><w:b/><w:sz w:val="26"/></w:rPr><w:drawing>.*?</w:drawing></w:r>'
                        r'<w:r><w:rPr><w:b/><w:sz w:val="26"/></w:rPr><w:tab/></w:r>', paragraph).group(0)
    assert document.count("<w:drawing>") == 1 and f'<a:blip r:embed="{rid.decode()}"/>' in drawing
    assert paragraph.index(drawing) < paragraph.index("{{ doc.seller.name }}")
    # 10 mm square (360 000 EMU), decorative like the HTML's alt=""
    assert '<wp:extent cx="360000" cy="360000"/>' in drawing and 'descr=""' in drawing
    # and nothing else: without the mark and the name's 9 pt rise (18 half-points), 1.7.0 recoloured
    plain = document.replace(drawing, "").replace('<w:position w:val="18"/>', "", 1)
    assert plain.encode() == before["word/document.xml"].replace(NAVY, TERRACOTTA)


def test_the_mark_png_is_the_svg():
    """assets/mark.png is mark.svg drawn at 512 px: a terracotta rounded square, a white
    triangle, transparent corners."""
    image = Image.open(EXAMPLE / "assets" / "mark.png")
    assert image.size == (512, 512) and image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # outside the rounded corner (rx 12 of 64)
    assert image.getpixel((40, 256)) == (0xB4, 0x44, 0x1B, 255)  # the square, left of the triangle
    assert image.getpixel((256, 338)) == (255, 255, 255, 255)  # the triangle's base (y 44 of 64 = 352 ± 16)
    assert image.getpixel((256, 256)) == (0xB4, 0x44, 0x1B, 255)  # inside the triangle: not filled


@pytest.mark.parametrize("fixture, language", [("invoice", "fr"), ("progress_invoice_2", "en")])
def test_the_example_renders_with_its_mark_and_accent(fixture, language):
    data = render_docx(EXAMPLE, fixture, language)
    text = docx_text(data)
    assert load_fixture(fixture)["seller"]["name"] in text and "{{" not in text and "{%" not in text
    rendered = parts(io.BytesIO(data))
    assert rendered["word/media/mark.png"] == (EXAMPLE / "assets" / "mark.png").read_bytes()
    assert b'Target="media/mark.png"' in rendered["word/_rels/document.xml.rels"]
    document = rendered["word/document.xml"]
    assert document.count(b"<w:drawing>") == 1 and TERRACOTTA in document and NAVY not in document
    # 1.7.0 renders the same fixture without either
    older = parts(io.BytesIO(render_docx(BASE, fixture, language)))
    assert "word/media/mark.png" not in older and NAVY in older["word/document.xml"]


def repeated_headers(document: bytes) -> list[tuple[int, int]]:
    """(table, row) of every row marked to repeat as the table's header on each page."""
    tree = etree.fromstring(document)
    return [(t, r) for t, table in enumerate(tree.iter(f"{W}tbl")) for r, row in enumerate(table.findall(f"{W}tr"))
            if row.find(f"{W}trPr/{W}tblHeader") is not None]


def test_saving_the_example_in_libreoffice_keeps_every_tag_in_one_run(tmp_path):
    """docs/templates.md has the designer edit in LibreOffice Writer: a Writer save rewrites
    every part of the package, and the result still passes the checks and renders. What the
    guide says such a save changes is true: Inter loses its Arial fallback in the font table,
    and a header row that isn't its table's first row loses its repeat mark."""
    copy = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, copy)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to",
                    "docx:MS Word 2007 XML", "--outdir", str(tmp_path / "saved"), str(copy / "document.docx")],
                   check=True, capture_output=True, timeout=180)
    saved = (tmp_path / "saved" / "document.docx").read_bytes()
    assert saved != (EXAMPLE / "document.docx").read_bytes()
    (copy / "document.docx").write_bytes(saved)
    assert check_docx(copy) == []
    rendered = render_docx(copy, "invoice")
    assert "Atelier Durand Rénovation" in docx_text(rendered)  # fixtures/invoice.json's seller
    package = parts(io.BytesIO(rendered))
    assert [n for n in package if n.startswith("word/media/")]  # the mark, under the name Writer gives it
    assert TERRACOTTA in package["word/document.xml"].upper() and NAVY not in package["word/document.xml"].upper()

    before, after = parts(EXAMPLE / "document.docx"), parts(io.BytesIO(saved))
    inter = re.compile(rb'<w:font w:name="Inter">(.*?)</w:font>')
    assert b'<w:altName w:val="Arial"/>' in inter.search(before["word/fontTable.xml"]).group(1)
    assert b"altName" not in inter.search(after["word/fontTable.xml"]).group(1)
    headers = repeated_headers(before["word/document.xml"])
    assert len(headers) == 12 and [h for h in headers if h[1] > 0] == [(10, 1), (14, 1)]
    assert repeated_headers(after["word/document.xml"]) == [h for h in headers if h[1] == 0]


def test_classic_170s_docx_is_150s_without_the_styles_nothing_uses():
    """tools/lean_docx.py made 1.7.0's DOCX from 1.5.0's: the same file it makes now; every
    part but the styles, the relationships and the content types keeps its bytes; every
    style a part names is still defined; the Word 2010 copy of the styles is gone."""
    from tools.lean_docx import EFFECTS, lean, used_styles

    older, shipped = SHIPPED / "1.5.0" / "document.docx", SHIPPED / "1.7.0" / "document.docx"
    assert lean(older.read_bytes()) == shipped.read_bytes()
    before, after = parts(older), parts(shipped)
    changed = {"word/styles.xml", "word/_rels/document.xml.rels", "[Content_Types].xml"}
    assert set(before) - set(after) == {EFFECTS} and set(after) <= set(before)
    assert all(after[name] == before[name] for name in set(after) - changed)
    defined = set(re.findall(rb'w:styleId="([^"]+)"', after["word/styles.xml"]))
    assert {s.encode() for s in used_styles(after)} <= defined
    assert len(after["word/styles.xml"]) < len(before["word/styles.xml"]) / 10  # 350 KB of styles to 18 KB
    assert b"stylesWithEffects" not in after["word/_rels/document.xml.rels"] + after["[Content_Types].xml"]
