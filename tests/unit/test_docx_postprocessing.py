"""DocxEngine's cheaper docxtpl post-processing (issue 16) gives docxtpl's own result: its
resolve_listing (tabs, line and page breaks in the data) and fix_tables (table grids fitted
to their cells) are run both ways on the same XML and compared, including tables docxtpl
refits, nested tables and the errors it raises."""
from __future__ import annotations

import copy
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from docxtpl import DocxTemplate
from lxml import etree

from docsvc.rendering import docx
from docsvc.rendering.environment import make_environment

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BODY = f'<w:body xmlns:w="{W}">{{}}</w:body>'


CLASSIC = Path(__file__).resolve().parents[2] / "templates" / "classic" / "1.5.0" / "document.docx"
ENGINE = docx.DocxEngine(CLASSIC.read_bytes(), make_environment(autoescape=False))


def ours(in_place: bool = False):
    """The engine's template, its body parsed alone or (in_place) inside classic's document
    element; the methods use no other state."""
    template = object.__new__(docx._Template)
    template._engine = ENGINE if in_place else SimpleNamespace(shell=None)
    return template


def theirs():
    return object.__new__(DocxTemplate)


def as_document(body) -> bytes:
    """The document part's bytes with this body: moved into classic's document element as
    docxtpl's map_tree does, or the element it was parsed in."""
    root = body.getparent()
    if root is None:
        root = copy.deepcopy(ENGINE.master.element)
        root.replace(root.find(f"{{{W}}}body"), body)
    return etree.tostring(root, encoding="UTF-8", standalone=True)


def paragraphs(rng: random.Random, count: int) -> str:
    """Paragraphs with and without properties, runs with and without properties, texts with
    tabs, bells, new lines, form feeds, escaped markup, and special characters between tags."""
    alphabet = ["a", "é", " ", "\t", "\a", "\n", "\f", "&lt;w:p&gt;", "1\u202f234,56"]
    out = []
    for _ in range(count):
        runs = []
        for _ in range(rng.randint(0, 3)):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
            properties = '<w:rPr><w:b/></w:rPr>' if rng.random() < 0.5 else ""
            space = ' xml:space="preserve"' if rng.random() < 0.5 else ""
            runs.append(f'<w:r>{properties}<w:t{space}>{text}</w:t></w:r>' + ("\n" if rng.random() < 0.2 else ""))
        properties = '<w:pPr><w:jc w:val="right"/></w:pPr>' if rng.random() < 0.5 else ""
        attributes = ' w:rsidR="00A1"' if rng.random() < 0.3 else ""
        out.append(f"<w:p{attributes}>{properties}{''.join(runs)}</w:p>")
    return "".join(out)


@pytest.mark.parametrize("seed", range(40))
def test_resolve_listing_is_docxtpls(seed):
    xml = BODY.format(paragraphs(random.Random(seed), 12))
    assert ours().resolve_listing(xml) == theirs().resolve_listing(xml)


def test_resolve_listing_turns_the_datas_breaks_into_word_markup():
    xml = BODY.format('<w:p><w:r><w:t>Rue\nBP 12\tx</w:t></w:r></w:p><w:p><w:r><w:t>ok</w:t></w:r></w:p>')
    resolved = ours().resolve_listing(xml)
    assert '<w:br/>' in resolved and '<w:tab/>' in resolved and resolved == theirs().resolve_listing(xml)
    plain = BODY.format('<w:p><w:r><w:t>ok</w:t></w:r></w:p>')
    assert ours().resolve_listing(plain) is plain  # nothing to resolve: the text itself, untouched


def cell(text: str = "x", span: str | None = None) -> str:
    properties = f'<w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>' if span is not None else ""
    return f"<w:tc>{properties}<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


def table(widths: list[int], rows: list[str], grid: bool = True) -> str:
    columns = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (f"<w:tbl><w:tblPr/>{f'<w:tblGrid>{columns}</w:tblGrid>' if grid else ''}"
            + "".join(f"<w:tr>{row}</w:tr>" for row in rows) + "</w:tbl>")


TABLES = {
    "as it is": table([1000, 2000, 3000], [cell() * 3] * 4),
    "a spanned row": table([1000, 2000, 3000], [cell("a", "2") + cell(), cell() * 3]),
    "more cells than columns": table([1000, 2000], [cell() * 2, cell() * 4]),
    "fewer cells than columns": table([1000, 2000, 3000, 4000], [cell() * 2] * 3),
    "spans short of the grid": table([1000, 2000, 3000], [cell("a", "2")] * 2),
    "no column": table([], [cell()]),
    "no row": table([1000, 2000], []),
    "nested, as the classic layout tables": table([9000], [
        cell(), "<w:tc>" + table([1000, 2000], [cell() * 2, cell() * 3]) + "<w:p/></w:tc>", cell() * 3]),
    "the lines": table([4195, 737, 737, 1304, 964, 1020, 1361], [cell() * 7] * 300),
    "spans as int() reads them": table([1000, 2000, 3000], [cell("a", "03"), cell() + cell("b", "2")]),
    "refitted, with text after it": table([1000], [cell() * 2]) + "tail text",
    # docxtpl counts a nested table's rows for the table around it too: 3 cells in a 1-column grid
    "a nested row wider than the outer grid": table([9000], [
        "<w:tc>" + table([1000, 2000], [cell() * 3]) + "<w:p/></w:tc>"]),
    "rows in a content control": ("<w:tbl><w:tblPr/><w:tblGrid><w:gridCol w:w=\"1000\"/></w:tblGrid>"
                                  f"<w:sdt><w:sdtContent><w:tr>{cell() * 2}</w:tr></w:sdtContent></w:sdt>"
                                  f"<w:tr>{cell()}</w:tr></w:tbl>"),
    "two grids": table([1000, 2000], [cell() * 2]).replace("</w:tblGrid>", "</w:tblGrid><w:tblGrid/>", 1),
    "a span of 0": table([1000, 2000], [cell("a", "0") + cell(), cell() * 2]),
    "spans in other digits, as int() reads them": table([1000, 2000, 3000], [cell("a", "\u0662") + cell()]),
    "a span in a nested table, short of its grid": table([9000], [
        "<w:tc>" + table([1000, 2000, 3000], [cell("a", "2")]) + "<w:p/></w:tc>"]),
}


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("name", TABLES)
def test_fix_tables_is_docxtpls(name, in_place):
    # each table alone, then all of them in one body
    for xml in (BODY.format(TABLES[name]), BODY.format("<w:p/>".join(TABLES.values()))):
        body = ours(in_place).fix_tables(xml)
        assert (body.getparent() is not None) == in_place
        assert as_document(body) == as_document(theirs().fix_tables(xml)), name


def test_fix_tables_refits_what_docxtpl_refits():
    xml = BODY.format(TABLES["more cells than columns"])
    grid = ours(in_place=True).fix_tables(xml).find(f"{{{W}}}tbl/{{{W}}}tblGrid")
    # 1000 + 2000 = 3000 twips kept over 4 columns: the average 1500 becomes 3000 / 4 = 750, the
    # old columns scaled by 750 / 1500 (1000 -> 500, 2000 -> 1000), the 2 new ones 750 each
    assert [c.get(f"{{{W}}}w") for c in grid] == ["500", "1000", "750", "750"]


@pytest.mark.parametrize("xml, error", [
    (BODY.format(table([1000], [cell()], grid=False)), AttributeError),  # no grid
    (BODY.format(table([1000, 2000], [cell("a", "two")])), ValueError),  # a span int() cannot read
    (BODY.format(table([1000, 2000], [cell("a", "1.5")])), ValueError),
    (BODY.format(table([9000], ["<w:tc>" + table([1000, 2000], [cell("a", "x")]) + "<w:p/></w:tc>"])), ValueError),
])
@pytest.mark.parametrize("in_place", [False, True])
def test_fix_tables_fails_where_docxtpl_fails(xml, error, in_place):
    with pytest.raises(error):
        theirs().fix_tables(xml)
    with pytest.raises(error):
        ours(in_place).fix_tables(xml)


def test_classics_body_is_parsed_in_place():
    body = ours(in_place=True)._in_place(BODY.format("<w:p/>"))
    assert body is not None and type(body.getparent()).__name__ == "CT_Document"  # python-docx's


@pytest.mark.parametrize("xml", [
    f'<w:body xmlns:w="{W}" xmlns:x="urn:x"><w:p/></w:body>',  # a namespace the document element lacks
    '<w:body xmlns:w="urn:other"><w:p/></w:body>',  # w: bound elsewhere
    f'<w:body xmlns:w="{W}"><w:p xmlns:v="urn:schemas-microsoft-com:vml"/></w:body>',  # declared below the body
    f'<w:body xmlns:w="{W}" xmlns:r="{W}"><w:p/></w:body>',  # w's name under another prefix
    f'<w:body xmlns:w="{W}"><w:p></w:body>',  # docxtpl's parser recovers from it
    f'<w:body xmlns:w="{W}"><w:p/>',
    f'<w:body xmlns:w="{W}" w:rsidR="1"><w:p/></w:body>',  # an attribute
    f'<w:body xmlns:w="{W}"/>',
])
def test_a_body_that_cannot_be_parsed_in_place_is_moved_in_as_docxtpl_does(xml):
    template = ours(in_place=True)
    assert template._in_place(xml) is None
    assert as_document(template.fix_tables(xml)) == as_document(theirs().fix_tables(xml))
