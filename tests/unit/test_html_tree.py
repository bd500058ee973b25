"""The template's HTML parsed by lexbor gives WeasyPrint the tree its own parser, tinyhtml5,
gives (docsvc/rendering/html_tree.py): on every shipped template and fixture, on generated
markup, and for the markup left to tinyhtml5."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import tinyhtml5
from hypothesis import given, settings
from hypothesis import strategies as st

from docsvc.billing.document import enrich
from docsvc.billing.model import as_plain
from docsvc.rendering import TemplateRegistry, html_tree
from docsvc.rendering.html_tree import shape
from docsvc.schemas.payload import load_payload
from tests.conftest import FIXTURES, ROOT, load_fixture


def tinyhtml5_tree(markup: str) -> ET.Element:
    return tinyhtml5.parse(markup, namespace_html_elements=False)  # what weasyprint.HTML(string=...) parses


FIXTURE_NAMES = ["invoice", "credit_note"] + json.loads((FIXTURES / "cycle.json").read_text())


def test_every_shipped_template_and_fixture_parse_to_the_same_tree():
    registry = TemplateRegistry([ROOT / "templates"])
    versions = sorted(p.name for p in (ROOT / "templates" / "classic").iterdir() if (p / "template.toml").exists())
    assert "1.0.0" in versions and "1.7.3" in versions
    compared = 0
    for version in versions:
        bundle = registry.get("classic", version)
        for name in FIXTURE_NAMES:
            markup = bundle.html(as_plain(enrich(load_payload(load_fixture(name)))))
            assert html_tree.parse(markup) is not None, (version, name)  # nothing left to tinyhtml5
            assert shape(html_tree.parse(markup)) == shape(tinyhtml5_tree(markup)), (version, name)
            compared += 1
    assert compared == len(versions) * 9


TAGS = ["div", "p", "span", "b", "i", "table", "tr", "td", "th", "thead", "tbody", "caption", "colgroup", "col",
        "ul", "li", "br", "img", "h1", "section", "a", "small", "sup", "style", "title", "head", "body", "html"]
PIECES = list("ab <>&;#éè\u00a0\r\n\t'\"=/") + ["&amp;", "&eacute;", "&#233;", "&nbsp", "<!--c-->", "&lt;"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@st.composite
def markup(draw) -> str:
    """Tags opened and closed in any order, attributes with and without values, text with
    entities and line ends: the mistakes and shortcuts templates make."""
    out = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["open", "close", "text", "void"]))
        tag = draw(st.sampled_from(TAGS))
        if kind == "open":
            attrs = draw(st.lists(st.sampled_from(["class='a b'", 'data-row="L1"', "style=width:1mm", "hidden",
                                                   "id=x", "CLASS=c", "title='&amp;'"]), max_size=3))
            out.append(f"<{tag}{''.join(' ' + a for a in attrs)}>")
        elif kind == "close":
            out.append(f"</{tag}>")
        elif kind == "void":
            out.append(f"<{tag}/>")
        else:
            out.append(draw(TEXT))
    return "".join(out)


@given(markup())
@settings(max_examples=400, deadline=None)
def test_generated_markup_parses_to_the_same_tree(text):
    parsed = html_tree.parse(text)
    assert parsed is not None
    assert shape(parsed) == shape(tinyhtml5_tree(text))


@pytest.mark.parametrize("markup", [
    "<p>logo <svg viewBox='0 0 1 1'><path d='M0 0'/></svg></p>", "<math><mi>x</mi></math>",
    "<template><td>x</td></template>", "<noscript><p>x</p></noscript>", "<p><![CDATA[x]]></p>", "<?xml x?><p>",
    "<IFRAME src=x></iframe>", "< svg>", "<select><table>", "<nobr>x", "<ruby>a<rt>b</ruby>",
])
def test_markup_the_two_could_build_differently_is_left_to_tinyhtml5(markup):
    assert html_tree.parse(markup) is None


def test_deep_nesting_is_parsed_without_recursion():
    deep = "<div>" * 3000 + "x" + "</div>" * 3000
    assert shape(html_tree.parse(deep)) == shape(tinyhtml5_tree(deep))


def test_a_template_the_two_parsers_build_differently_stays_with_tinyhtml5():
    """<em> left open over a block: the standard's repair is where lexbor and tinyhtml5 part
    (lexbor clones the <em> into the <main>). Seen on a version's first documents, the version
    is parsed by tinyhtml5 from then on, as WeasyPrint alone would parse it."""
    from docsvc.rendering.html_tree import Parser

    sloppy = "<html><body><em class='a'><main>x</em></main></body></html>"
    assert shape(html_tree.parse(sloppy)) != shape(tinyhtml5_tree(sloppy))
    parser = Parser("sloppy 1.0.0")
    html = parser.html(sloppy, "https://bundle.invalid/", None)
    assert parser.lexbor is False and shape(html.etree_element) == shape(tinyhtml5_tree(sloppy))

    clean = "<html><body><em class='a'>x</em><main>y</main></body></html>"
    parser = Parser("clean 1.0.0", checked=2)
    for _ in range(3):
        assert shape(parser.html(clean, "https://bundle.invalid/", None).etree_element) == shape(tinyhtml5_tree(clean))
    assert parser.lexbor is True and parser.to_check == 0  # two checked, then lexbor alone


@pytest.mark.parametrize("version", ["1.0.0", "1.7.3"])
def test_the_pdf_is_the_one_tinyhtml5_gives(version, monkeypatch):
    """Byte for byte, every fixture: the parse changes the time, never the document."""
    registry = TemplateRegistry([ROOT / "templates"])
    documents = [as_plain(enrich(load_payload(load_fixture(name)))) for name in FIXTURE_NAMES]
    fast = [registry.get("classic", version).render("pdf", d) for d in documents]
    monkeypatch.setattr(html_tree, "parse", lambda markup: None)  # every document to tinyhtml5
    slow = [TemplateRegistry([ROOT / "templates"]).get("classic", version).render("pdf", d) for d in documents]
    assert [len(p) for p in fast] == [len(p) for p in slow] and fast == slow
