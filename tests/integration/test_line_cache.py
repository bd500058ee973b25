"""Lines of text measured once per process (docsvc/rendering/line_cache.py): a PDF is the
same bytes whether its lines were measured for it, kept from documents rendered before,
or dropped from a full cache; a kept line is never changed by the document it is lent to."""
from __future__ import annotations

import gc
import hashlib
import json
import weakref

import pytest
import weasyprint
from weasyprint.layout import inline, preferred

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering import TemplateRegistry, line_cache
from docsvc.schemas.payload import load_payload
from tests.conftest import FIXTURES, ROOT, load_fixture

FIXTURE_NAMES = ["invoice", "credit_note"] + json.loads((FIXTURES / "cycle.json").read_text())


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return [as_plain(enrich(load_payload(load_fixture(name)))) for name in FIXTURE_NAMES]


def pdfs(version: str, documents: list[dict]) -> list[str]:
    """The SHA-256 of each document's PDF, through a registry of its own (fonts and styles anew)."""
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", version)
    return [hashlib.sha256(bundle.render("pdf", document)).hexdigest() for document in documents]


@pytest.fixture
def cache_installed():
    line_cache.install()
    line_cache.clear()
    yield
    line_cache.install()
    line_cache.clear()


@pytest.mark.parametrize("version", ["1.0.0", "1.7.3"])
def test_every_fixture_is_the_same_pdf_with_or_without_the_cache_in_any_order(version, documents,
                                                                              cache_installed):
    line_cache.uninstall()
    measured_each_time = pdfs(version, documents)
    line_cache.install()
    line_cache.clear()
    from_empty = pdfs(version, documents)
    kept = len(line_cache.LINES.lines)
    hits_before = line_cache.LINES.hits
    reversed_after_others = pdfs(version, documents[::-1])[::-1]  # each finds what the others left
    assert len(set(measured_each_time)) == len(documents)  # nine different PDFs, not one nine times
    assert from_empty == measured_each_time
    assert reversed_after_others == measured_each_time
    assert kept > 100 and line_cache.LINES.hits > hits_before  # it was used, not bypassed


def test_a_full_cache_drops_the_oldest_lines_and_changes_no_pdf(documents, cache_installed, monkeypatch):
    line_cache.uninstall()
    measured_each_time = pdfs("1.7.3", documents[:3])
    line_cache.install()
    monkeypatch.setattr(line_cache, "MAX_LINES", 20)
    assert pdfs("1.7.3", documents[:3]) == measured_each_time
    assert len(line_cache.LINES.lines) == 20


def test_the_layout_and_preferred_widths_ask_the_cache(cache_installed):
    assert inline.split_first_line is line_cache.split_first_line
    assert preferred.split_first_line is line_cache.split_first_line
    line_cache.uninstall()
    assert inline.split_first_line is preferred.split_first_line is line_cache._WEASYPRINT_SPLIT_FIRST_LINE


def kept_texts() -> set[str]:
    return {key[1] for key in line_cache.LINES.lines}


def a_text_style():
    """The computed style of a paragraph's text, as WeasyPrint hands it to split_first_line."""
    page, = weasyprint.HTML(string="<p style='font: 10pt sans-serif'>x</p>").render().pages
    return next(box.style for box in page._page_box.descendants() if getattr(box, "text", None) == "x")


def test_a_line_lent_to_a_document_is_its_own_copy(cache_installed):
    style = a_text_style()
    line_cache.clear()
    text = "Pose de la faïence murale, joints époxy"
    measured = line_cache.split_first_line(text, style, None, 60.0, 0)
    lent = line_cache.split_first_line(text, style, None, 60.0, 0)
    assert line_cache.LINES.hits == 1 and line_cache.LINES.misses == 1
    assert lent[0] is not measured[0] and lent[1:] == measured[1:]
    assert measured[2] is not None and 0 < measured[3] <= 60  # it broke the line, and the first part fits
    lent[0].text = "Pose de la faïence…"  # as drawing an ellipsis does to the layout it is given
    again = line_cache.split_first_line(text, style, None, 60.0, 0)
    assert again[0].text == measured[0].text != "Pose de la faïence…"
    wider = line_cache.split_first_line(text, style, None, 400.0, 0)  # another width: measured anew
    assert line_cache.LINES.misses == 2 and wider[2] is None


def test_automatic_hyphenation_is_measured_every_time(cache_installed):
    weasyprint.HTML(string="<p lang='fr' style='hyphens: auto; width: 20mm'>anticonstitutionnellement</p>"
                           "<p lang='fr' style='width: 20mm'>incontestablement</p>").render()
    texts = kept_texts()
    assert "incontestablement" in texts  # the paragraph without hyphenation was kept
    assert not any("anticonstitutionnellement" in text for text in texts)  # the hyphenated one never


def test_the_lines_of_fonts_no_longer_in_use_are_dropped(documents, cache_installed):
    """A bundle rendered once (a designer's, checked at publishing) lets go of its fonts and
    their temporary folder; its lines go at the next measuring."""
    bundle = TemplateRegistry([ROOT / "templates"]).get("classic", "1.7.3")
    bundle.render("pdf", documents[0])
    number = line_cache.LINES.numbers[bundle._pdf.fonts]
    assert sum(key[0] == number for key in line_cache.LINES.lines) > 100
    fonts = weakref.ref(bundle._pdf.fonts)
    del bundle
    gc.collect()
    assert fonts() is None  # the cache did not keep the fonts alive
    a_text_style()  # another document measures its lines
    assert not any(key[0] == number for key in line_cache.LINES.lines)
    assert line_cache.LINES.lines  # the other's are kept
