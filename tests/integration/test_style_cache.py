"""Computed styles worked out once per template version (docsvc/rendering/style_cache.py): a PDF
is the same bytes whether its styles were computed for it or copied from reference styles kept
from documents before; layout never sees a reference; what could differ from one document to
the next (viewport units, other stylesheets, a document's own unplain declarations) is left
to WeasyPrint; what a document declares itself in plain data (lang, ids) is shared."""
from __future__ import annotations

import gc
import hashlib
import json
import weakref

import pytest
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering import TemplateRegistry, html_pdf, style_cache
from docsvc.schemas.payload import load_payload
from tests.conftest import FIXTURES, ROOT, load_fixture

FIXTURE_NAMES = ["invoice", "credit_note"] + json.loads((FIXTURES / "cycle.json").read_text())


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return [as_plain(enrich(load_payload(load_fixture(name)))) for name in FIXTURE_NAMES]


@pytest.fixture
def installed():
    style_cache.install()
    yield
    style_cache.install()


def pdfs(version: str, documents: list[dict]) -> tuple[list[str], style_cache._Kept | None]:
    """The SHA-256 of each document's PDF through a registry of its own (its fonts and kept styles
    anew), and what its font configuration kept."""
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", version)
    digests = [hashlib.sha256(bundle.render("pdf", document)).hexdigest() for document in documents]
    return digests, style_cache.kept(bundle._pdf.fonts)


@pytest.mark.parametrize("version", ["1.0.0", "1.7.3"])
def test_every_fixture_is_the_same_pdf_with_or_without_kept_styles_in_any_order(version, documents, installed):
    style_cache.uninstall()
    computed_each_time, _ = pdfs(version, documents)
    style_cache.install()
    from_empty, kept = pdfs(version, documents)
    reversed_order, _ = pdfs(version, documents[::-1])
    assert len(set(computed_each_time)) == len(documents)  # eleven different PDFs, not one eleven times
    assert from_empty == computed_each_time
    assert reversed_order[::-1] == computed_each_time
    # used, not bypassed: more styles lent a reference than references made
    assert kept is not None and 50 < kept.made < kept.lent


def test_the_pdf_engine_installs_it_for_its_fonts(installed):
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", "1.7.3")
    assert html_pdf.style_cache is style_cache
    assert style_cache.kept(bundle._pdf.fonts) is not None
    assert style_cache.kept(FontConfiguration()) is None  # WeasyPrint used directly keeps nothing


def styles_of(document) -> list:
    """Every box's style in a laid-out document, its page's and its page margins' included."""
    return [box.style for page in document.pages for box in page._page_box.descendants()]


def test_the_same_document_again_makes_no_reference_and_layout_never_sees_one(documents, installed):
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", "1.7.3")
    kept = style_cache.kept(bundle._pdf.fonts)
    bundle.lay_out(documents[0])
    made, lent = kept.made, kept.lent
    laid_out = bundle.lay_out(documents[0])
    assert kept.made == made and kept.lent > lent
    references = {id(reference) for reference in kept.references.values()}
    styles = styles_of(laid_out)
    assert len(styles) > 500 and not [style for style in styles if id(style) in references]
    assert sum(style._reference is not None for style in styles if isinstance(style, style_cache.DocumentStyle)) > 100


def lay_out(fonts, sheet, html: str):
    return HTML(string=html, base_url="https://bundle.invalid/").render(font_config=fonts, stylesheets=[sheet])


def blocks(document, tag: str) -> list:
    return [box for box in document.pages[0]._page_box.descendants()
            if box.element_tag == tag and type(box).__name__ == "BlockBox"]


def box_of(document, tag: str):
    return next(box for box in document.pages[0]._page_box.descendants() if box.element_tag == tag)


@pytest.mark.parametrize("width", ["50vw", "calc(40px + 40vw)"])
def test_viewport_units_are_left_to_weasyprint(width, installed):
    """50vw of a 400 px wide page is 200 px, known once the page is made: a reference made
    before any page would have taken WeasyPrint's initial page size (A4, 794 px wide)."""
    fonts = FontConfiguration()
    style_cache.keep_styles(fonts)
    css = CSS(string=f"@page {{ size: 400px 300px; margin: 0 }} section {{ width: {width} }}", font_config=fonts)
    html = '<html lang="fr"><body><p>Avant</p><section><p>Texte</p></section></body></html>'
    expected = 200 if width == "50vw" else 40 + 160  # 40 % of 400 px = 160 px
    for _ in range(2):  # the second time, every reference the first one made is there
        document = lay_out(fonts, css, html)
        section = box_of(document, "section")
        assert section.width == pytest.approx(expected)
        assert section.style._reference is None
        assert box_of(document, "p").style._reference is not None  # its sibling paragraph has one


def test_the_documents_own_plain_declarations_are_shared_and_the_others_left(installed):
    fonts = FontConfiguration()
    style_cache.keep_styles(fonts)
    css = CSS(string="p { color: #123456 } em { font-weight: bold }", font_config=fonts)
    html = ('<html lang="fr"><body><p id="intro">Bonjour <em>ici</em></p>'
            '<p style="color: red">Rouge <em>là</em></p><p style="width: 47%">Large</p></body></html>')
    first = lay_out(fonts, css, html)
    kept = style_cache.kept(fonts)
    made = kept.made
    second = lay_out(fonts, css, html)
    assert kept.made == made  # lang="fr", id="intro" and 47 % are the same objects the second time
    paragraphs = blocks(second, "p")
    intro, red, wide = (box.style for box in paragraphs)
    assert intro._reference is not None and wide._reference is not None
    assert red._reference is None  # `red` is a token, not plain data: no reference, nor for its <em>
    red_em = next(box for box in paragraphs[1].descendants() if box.element_tag == "em")
    assert red_em.style._reference is None
    assert red["color"] != intro["color"]
    for document in (first, second):  # 47 % of the body's width, both times
        body, wide_box = box_of(document, "body"), blocks(document, "p")[2]
        assert wide_box.width == pytest.approx(0.47 * body.width)


def test_other_stylesheets_with_the_same_fonts_get_no_reference(installed):
    fonts = FontConfiguration()
    style_cache.keep_styles(fonts)
    html = '<html><body><p>Texte</p></body></html>'
    lay_out(fonts, CSS(string="p { font-size: 10px }", font_config=fonts), html)
    made = style_cache.kept(fonts).made
    other = lay_out(fonts, CSS(string="p { font-size: 20px }", font_config=fonts), html)  # not the first one's
    paragraph = box_of(other, "p")
    assert paragraph.style["font_size"] == 20 and paragraph.style._reference is None
    assert style_cache.kept(fonts).made == made


def test_position_float_and_display_are_the_documents_own(installed):
    """WeasyPrint keeps their specified values beside them, and lays an absolutely positioned
    inline box out from its specified display: a document style must compute them itself."""
    fonts = FontConfiguration()
    style_cache.keep_styles(fonts)
    css = CSS(string=".note { position: absolute; top: 0 }", font_config=fonts)
    html = '<html><body><p>Montant <span class="note">*</span> dû</p></body></html>'
    positions = []
    for _ in range(2):
        note = next(box for box in lay_out(fonts, css, html).pages[0]._page_box.descendants()
                    if box.element_tag == "span" and box.style["position"] == "absolute")
        assert note.style._reference is not None and note.style.specified["display"] == ("inline", "flow")
        positions.append((note.position_x, note.position_y))
    assert positions[0] == positions[1]


def test_a_dropped_template_version_lets_go_of_its_fonts_and_references(documents, installed):
    """A bundle rendered once (a designer's, checked at publishing): its references, kept on its
    font configuration, go with it."""
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", "1.7.3")
    bundle.render("pdf", documents[0])
    kept = style_cache.kept(bundle._pdf.fonts)
    assert kept is not None and kept.references
    fonts, references = weakref.ref(bundle._pdf.fonts), weakref.ref(kept)
    del bundle, kept
    gc.collect()
    assert fonts() is None and references() is None
