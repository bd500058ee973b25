"""Build classic's document.docx: the DOCX twin of each version's document.html.

Written with python-docx so every docxtpl tag sits in a single run (Word splits runs
when a designer types, which breaks tags). Same blocks, labels and filters as the HTML.
Tables have fixed column widths (gridCol + tcW, layout fixed): without them LibreOffice
and Word share the width evenly and the designation column becomes a ribbon.

- `--version 1.2.0` (the default): every table, total row and block of 1.2.0's PDF for
  every document type, addresses one line per line, a running header from page 2, Inter
  declared with a sans-serif fallback (Arial, then the system's sans), and a package
  without python-docx's thumbnail, customXml or "Microsoft Word" app.xml.
- `--version 1.0.0` rebuilds 1.0.0's layout for reading only: 1.0.0 is shipped and
  pinned documents must re-render byte for byte, so this script never overwrites it.

- `--version 1.4.0` writes bundles/classic/1.4.0/document.docx, the designer guide's
  example: 1.2.0's DOCX with the terracotta accent of its style.css.

Run: python tools/make_classic_docx.py [--version 1.2.0] [output.docx]
"""
import argparse
import io
import re
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from docsvc.rendering.docx import restamp

ROOT = Path(__file__).resolve().parent.parent
NAVY, GREY, WHITE = RGBColor(0x0F, 0x3D, 0x5E), RGBColor(0x5B, 0x66, 0x70), RGBColor(0xFF, 0xFF, 0xFF)
GREEN = RGBColor(0x1E, 0x7D, 0x32)
RULE, BOX = "E1E6EA", "C9D1D8"
R = WD_ALIGN_PARAGRAPH.RIGHT
WIDTH = 182  # mm between the margins
L = "labels.fields"


def lab(key: str) -> str:
    return "{{ " + L + "." + key + " }}"


def new_document():
    d = Document()
    section = d.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(14)
    section.top_margin, section.bottom_margin = Mm(16), Mm(20)
    section.footer_distance = Mm(8)
    normal = d.styles["Normal"]
    normal.font.name = "Inter"
    normal.font.size = Pt(8.5)
    normal.font.color.rgb = RGBColor(0x1D, 0x23, 0x27)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.line_spacing = 1.1
    return d, section


# ------------------------------------------------------------------ low-level helpers

def _el(tag: str, **attrs) -> OxmlElement:
    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(qn(f"w:{key}"), str(value))
    return el


#: Schema order of the property elements we add to (Word rejects out-of-order children).
TBL_PR = ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW",
          "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook",
          "tblCaption", "tblDescription", "tblPrChange"]
TC_PR = ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar", "textDirection",
         "tcFitText", "vAlign", "hideMark", "headers", "cellIns", "cellDel", "cellMerge", "tcPrChange"]
P_PR = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
        "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
        "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
        "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
        "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"]


def put(parent, child, order):
    """Insert `child` where the schema sequence `order` wants it among `parent`'s children."""
    name = child.tag.split("}")[1]
    later = set(order[order.index(name) + 1:])
    for existing in parent:
        if existing.tag.split("}")[1] in later:
            existing.addprevious(child)
            return child
    parent.append(child)
    return child


def write(p, runs, align=None, after=None, before=None):
    """`runs` is a string or [(text, {bold, size, color, caps}), ...]: one run per piece,
    so a tag is never split."""
    if isinstance(runs, str):
        runs = [(runs, {})]
    for text, style in runs:
        run = p.add_run(text)
        run.bold = style.get("bold")
        run.font.all_caps = style.get("caps")
        if style.get("size"):
            run.font.size = Pt(style["size"])
        if style.get("color"):
            run.font.color.rgb = style["color"]
    if align is not None:
        p.alignment = align
    if after is not None:
        p.paragraph_format.space_after = Pt(after)
    if before is not None:
        p.paragraph_format.space_before = Pt(before)
    return p


def para(container, runs="", **kw):
    """A paragraph in a document or cell; a cell's first (empty) paragraph is used first."""
    paragraphs = getattr(container, "paragraphs", [])
    if hasattr(container, "_tc") and len(paragraphs) == 1 and not paragraphs[0].text and not paragraphs[0].runs:
        p = paragraphs[0]
    else:
        p = container.add_paragraph()
    return write(p, runs, **kw)


def when(container, condition: str, *lines):
    """Paragraphs that exist only if `condition`: docxtpl drops the {%p %} paragraphs."""
    para(container, "{%p if " + condition + " %}")
    for runs, kw in lines:
        para(container, runs, **kw)
    para(container, "{%p endif %}")


def caption(container, key: str, before=6):
    """A small-caps title over a block: `key` is a label key, or already a template expression."""
    text = key if key.startswith("{{") else lab(key)
    return para(container, [(text, {"bold": True, "size": 7, "color": GREY, "caps": True})], after=2, before=before)


def tiny(p):
    """An empty paragraph that takes almost no height (its mark is 1 pt)."""
    rpr = _el("w:rPr")
    rpr.append(_el("w:sz", val=2))
    put(p._p.get_or_add_pPr(), rpr, P_PR)
    p.paragraph_format.line_spacing = Pt(1)
    return p


def shade(cell, fill: str):
    put(cell._tc.get_or_add_tcPr(), _el("w:shd", val="clear", color="auto", fill=fill), TC_PR)


def table_borders(table, **edges):
    """edges: top/bottom/insideH/... = (size in eighths of a point, hex colour); the rest none."""
    tbl_pr = table._tbl.tblPr
    borders = _el("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if edge in edges:
            size, color = edges[edge]
            borders.append(_el(f"w:{edge}", val="single", sz=size, space=0, color=color))
        else:
            borders.append(_el(f"w:{edge}", val="nil"))
    put(tbl_pr, borders, TBL_PR)


def cell_margins(table, top=0.6, bottom=0.6, left=1.6, right=1.6):
    mar = _el("w:tblCellMar")
    for edge, mm in (("top", top), ("left", left), ("bottom", bottom), ("right", right)):
        mar.append(_el(f"w:{edge}", w=int(mm / 25.4 * 1440), type="dxa"))
    put(table._tbl.tblPr, mar, TBL_PR)


def box(cell, color=BOX):
    borders = _el("w:tcBorders")
    for edge in ("top", "left", "bottom", "right"):
        borders.append(_el(f"w:{edge}", val="single", sz=4, space=0, color=color))
    put(cell._tc.get_or_add_tcPr(), borders, TC_PR)


def row_flags(row, header=False):
    """Rows never split across pages; a header row repeats on every page."""
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(_el("w:cantSplit"))
    if header:
        tr_pr.append(_el("w:tblHeader"))


def keep_together(table):
    """Rows never split and each keeps with the next, so the block moves as a whole."""
    for row in table.rows:
        row._tr.get_or_add_trPr().append(_el("w:cantSplit"))
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.keep_with_next = True


def fixed(table, widths):
    """Fixed layout with explicit grid and cell widths (mm)."""
    table.autofit = False
    for column, w in zip(table.columns, widths):
        column.width = Mm(w)
    for row in table.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = Mm(w)


def new_table(container, rows, widths, align=WD_TABLE_ALIGNMENT.LEFT):
    t = container.add_table(rows=rows, cols=len(widths))
    t.alignment = align
    fixed(t, widths)
    return t


def field(paragraph, instruction, size=7, color=GREY):
    """A Word field (PAGE, NUMPAGES) so the page count is Word's own; every run of it
    carries the footer's size, or viewers show the number in the body size."""
    def run(*children):
        r = paragraph.add_run()
        r.font.size, r.font.color.rgb = Pt(size), color
        for child in children:
            r._r.append(child)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    shown = OxmlElement("w:t")
    shown.text = "1"
    run(_el("w:fldChar", fldCharType="begin"))
    run(instr)
    run(_el("w:fldChar", fldCharType="separate"))
    run(shown)
    run(_el("w:fldChar", fldCharType="end"))


SMALL_GREY = {"size": 7.5, "color": GREY}
IDENTITY = ("{% if doc.seller.legal_form %}{{ doc.seller.legal_form }}{% if doc.seller.share_capital is not none %} "
            + lab("capital") + " {{ doc.seller.share_capital | money }}{% endif %} · {% endif %}"
            "{% if doc.seller.siret %}" + lab("siret") + " {{ doc.seller.siret }}{% elif doc.seller.siren %}"
            + lab("siren") + " {{ doc.seller.siren }}{% endif %}"
            "{% if doc.seller.registration %} · {{ doc.seller.registration }}{% endif %}"
            "{% if doc.seller.vat_id %} · " + lab("vat_id") + " {{ doc.seller.vat_id }}{% endif %}")


def address(party: str) -> str:
    return ("{% for line in " + party + ".lines %}{{ line }}, {% endfor %}{{ " + party + ".postcode }} {{ "
            + party + ".city }}{% if " + party + ".country != 'FR' %}, {{ " + party + ".country }}{% endif %}")


# ------------------------------------------------------------------ 1.2.0's building blocks

TITLE = ("{{ labels.titles[doc.type] }}{% if doc.title_number %}{{ ' n° ' if doc.language == 'fr' else ' no. ' }}"
         "{{ doc.title_number }}{% endif %}")


def VAT_OF(category: str, rate: str, mark: str | None = None) -> str:
    """A line's or a row's VAT: the rate for S, otherwise the category's words (labels
    [categories]) and the mark of its exemption wording, never a bare code."""
    return ("{% if " + category + " == 'S' %}{{ " + rate + " | percent }}{% else %}{{ labels.categories["
            + category + "] }}" + ("{% if " + mark + " %} ({{ " + mark + " }}){% endif %}" if mark else "")
            + "{% endif %}")


IDENTITY_120 = ("{% if doc.seller.legal_form %}{{ doc.seller.legal_form }}{% if doc.seller.share_capital is not none %} "
                + lab("capital") + " {{ doc.seller.share_capital | amount }}{% endif %} · {% endif %}"
                "{% if doc.seller.siret %}" + lab("siret") + " {{ doc.seller.siret | grouped('siret') }}"
                "{% elif doc.seller.siren %}" + lab("siren") + " {{ doc.seller.siren | grouped('siren') }}{% endif %}"
                "{% if doc.seller.registration %} · {{ doc.seller | registration }}{% endif %}"
                "{% if doc.seller.vat_id %} · " + lab("vat_id") + " {{ doc.seller.vat_id | grouped('vat') }}{% endif %}")


def address_lines(container, party: str):
    """Each address line on its own line, then postcode and city, then the country if not France."""
    para(container, "{%p for line in " + party + ".lines %}")
    para(container, "{{ line }}")
    para(container, "{%p endfor %}")
    para(container, "{{ " + party + ".postcode }} {{ " + party + ".city }}")
    when(container, party + ".country != 'FR'", ("{{ " + party + ".country }}", {}))


def data_table(container, headers, cells, loop, widths, caption_key=None, strong=(), foot=None, keep_tail=False,
               header_if=None):
    """Navy header repeated on every page, one {%tr for %} row per item, hairline rules, and
    an optional bold total row (`foot`, one text per column). `keep_tail`: the last two
    rows (all of them when there are four or fewer) keep with what follows. `header_if`:
    the header only when this condition holds (a table's continuation has none)."""
    if caption_key:
        caption(container, caption_key).paragraph_format.keep_with_next = True
    elif header_if is None:
        para(container, "", after=4)
    rows = (["header"] if header_if is None else ["if", "header", "endif"]) + ["for", "row", "endfor"]
    if keep_tail:
        rows += ["for", "row", "endfor"]
    if foot:
        rows.append("foot")
    t = new_table(container, len(rows), widths)
    table_borders(t, bottom=(4, RULE), insideH=(2, RULE))
    cell_margins(t, top=0.9, bottom=0.9)
    loops = [loop]
    if keep_tail:
        var, items = re.match(r"for (\w+) in (.+)", loop).groups()
        cut = f"({items} | length - 2 if {items} | length > 4 else 0)"
        loops = [f"for {var} in {items}[:{cut}]", f"for {var} in {items}[{cut}:]"]
    loop_no = 0
    for row, kind in zip(t.rows, rows):
        if kind == "if":
            row.cells[0].text = "{%tr if " + header_if + " %}"
        elif kind in ("endif", "endfor"):
            row.cells[0].text = "{%tr " + kind + " %}"
        elif kind == "for":
            row.cells[0].text = "{%tr " + loops[loop_no] + " %}"
            loop_no += 1
        elif kind == "header":
            for i, text in enumerate(headers):
                c = row.cells[i]
                para(c, [(text, {"bold": True, "size": 7.5, "color": WHITE})], align=R if i else None)
                shade(c, str(NAVY))
            row_flags(row, header=True)
            for p in row.cells[0].paragraphs:
                p.paragraph_format.keep_with_next = True
        elif kind == "row":
            for i, value in enumerate(cells):
                p = para(row.cells[i], [(value, {"bold": i in strong})], align=R if i else None)
                if loop_no > 1:  # the tail loop
                    p.paragraph_format.keep_with_next = True
            row_flags(row)
        elif kind == "foot":
            for i, text in enumerate(foot):
                c = row.cells[i]
                para(c, [(text, {"bold": True})], align=R if i else None)
                borders = _el("w:tcBorders")
                borders.append(_el("w:top", val="single", sz=6, space=0, color=BOX))
                put(c._tc.get_or_add_tcPr(), borders, TC_PR)
            row_flags(row)
    return t


LINE_HEADERS = [lab(k) for k in ("description", "quantity", "unit", "unit_price", "discount", "vat_rate", "net")]
LINE_CELLS = ["{{ line.description | nobreak }}", "{{ line.quantity | quantity | replace('-', '−') }}",
              "{{ line.unit | unit }}",
              "{{ line.unit_price | amount }}",
              "{% if line.discount_percent %}{{ line.discount_percent | percent }}{% elif line.discount_amount %}"
              "{{ line.discount_amount | amount }}{% endif %}",
              VAT_OF("line.vat_category", "line.vat_rate", "line.exemption_mark"), "{{ line.net | amount }}"]
LINE_WIDTHS = [74, 13, 13, 23, 17, 18, 24]

#: Inter where it is installed; otherwise Word takes the altName (Arial) and LibreOffice its
#: metric twin (Liberation Sans) or the system's sans-serif: never a serif Times.
INTER_FONT = ('<w:font w:name="Inter"><w:altName w:val="Arial"/><w:panose1 w:val="020B0502030000000004"/>'
              '<w:charset w:val="00"/><w:family w:val="swiss"/><w:pitch w:val="variable"/></w:font>')
APP_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           '<Application>docsvc</Application></Properties>')


def styled_fonts(d):
    """Inter for every run (ASCII, accented, complex and East-Asian scripts), the defaults too."""
    for element in (d.styles["Normal"].element.get_or_add_rPr(),
                    d.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))):
        fonts = element.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            element.insert(0, fonts)
        for attr in list(fonts.attrib):
            del fonts.attrib[attr]
        for attr in ("ascii", "hAnsi", "cs", "eastAsia"):
            fonts.set(qn(f"w:{attr}"), "Inter")


def clean_package(data: bytes, stamp=(2026, 11, 23, 0, 0, 0)) -> bytes:
    """The template's package with nothing of python-docx's own template: no thumbnail, no
    customXml, an app.xml naming docsvc, empty core properties (the renderer fills them
    per document), Inter in the font table with its fallback; zip entries dated `stamp`."""
    drop = ("docProps/thumbnail.jpeg", "customXml/")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            name = info.filename
            if name.startswith(drop):
                continue
            body = source.read(name)
            if name == "_rels/.rels":
                body = re.sub(rb'<Relationship [^>]*Target="docProps/thumbnail\.jpeg"/>', b"", body)
            elif name == "word/_rels/document.xml.rels":
                body = re.sub(rb'<Relationship [^>]*Target="\.\./customXml/[^"]*"/>', b"", body)
            elif name == "[Content_Types].xml":
                body = re.sub(rb'<Override PartName="/customXml/[^"]*"[^>]*/>', b"", body)
            elif name == "docProps/app.xml":
                body = APP_XML.encode()
            elif name == "docProps/core.xml":
                body = re.sub(rb"<dc:title>[^<]*</dc:title>", b"<dc:title/>", body)
                body = re.sub(rb"<dc:creator>[^<]*</dc:creator>", b"<dc:creator/>", body)
            elif name == "word/fontTable.xml":
                body = body.replace(b"</w:fonts>", INTER_FONT.encode() + b"</w:fonts>")
            target.writestr(zipfile.ZipInfo(name, date_time=stamp), body, zipfile.ZIP_DEFLATED)
    return restamp(out.getvalue(), stamp)


def classic_1_0_0(d, section):
    """1.0.0's layout, as shipped (kept to read how 1.0.0 was built)."""
    # ------------------------------------------------------------------ footer: identity | Page X / Y
    foot = section.footer.add_table(rows=1, cols=2, width=Mm(WIDTH))
    fixed(foot, [150, 32])
    para(foot.rows[0].cells[0], [("{{ doc.seller.name }} · " + IDENTITY, {"size": 7, "color": GREY})])
    pages = para(foot.rows[0].cells[1], [(lab("page") + " ", {"size": 7, "color": GREY})], align=R)
    field(pages, "PAGE")
    write(pages, [(" / ", {"size": 7, "color": GREY})])
    field(pages, "NUMPAGES")
    footer_first = section.footer.paragraphs[0]  # python-docx's empty paragraph, above the table: keep it tiny
    footer_first.paragraph_format.space_after = Pt(0)
    tiny(footer_first)

    # ------------------------------------------------------------------ head: seller left, title right
    head = new_table(d, 1, [96, 86])
    seller, title = head.rows[0].cells
    para(seller, [("{{ doc.seller.name }}", {"bold": True, "size": 13})], after=2)
    para(seller, address("doc.seller.address"))
    when(seller, "doc.seller.phone or doc.seller.email",
         ([("{{ doc.seller.phone or '' }}{% if doc.seller.phone and doc.seller.email %} · {% endif %}"
            "{{ doc.seller.email or '' }}", {"color": GREY})], {}))
    para(seller, [(IDENTITY, SMALL_GREY)], before=2)

    para(title, [("{{ labels.titles[doc.type] }}{% if doc.title_number %}{{ ' n° ' if doc.language == 'fr' else ' no. ' }}"
                  "{{ doc.title_number }}{% endif %}", {"bold": True, "size": 17, "color": NAVY})], align=R)
    para(title, [(lab("number") + " {{ doc.number }}", {"bold": True, "size": 11})], align=R, after=5)
    for key, value in (("issue_date", "{{ doc.issue_date | date }}"),
                       ("delivery_date", "{{ (doc.delivery_date or doc.issue_date) | date }}")):
        para(title, [(lab(key) + "   ", {"color": GREY}), (value, {"bold": True})], align=R, after=1)
    when(title, "doc.due_date", ([(lab("due_date") + "   ", {"color": GREY}), ("{{ doc.due_date | date }}", {"bold": True})],
                                 {"align": R}))

    # ------------------------------------------------------------------ references and delivery left, buyer boxed right
    para(d, "", after=10)
    parties = new_table(d, 1, [91, 91])
    cell_margins(parties, top=2.5, bottom=2.5, left=3.5, right=3.5)
    refs, buyer = parties.rows[0].cells
    tiny(para(refs, ""))  # a cell needs one paragraph that no {%p %} can remove
    when(refs, "doc.corrects", ([("{{ labels.mentions.credit_note_reference.format(number=doc.corrects.number, "
                                  "issue_date=(doc.corrects.issue_date | date)) }}", {"bold": True})], {"after": 2}))
    when(refs, "doc.quote", (lab("quote") + " " + lab("number") + " {{ doc.quote.number }} · {{ doc.quote.date | date }}",
                             {"after": 2}))
    when(refs, "doc.order_reference", (lab("order_reference") + " : {{ doc.order_reference }}", {"after": 2}))
    when(refs, "doc.buyer_reference", (lab("buyer_reference") + " : {{ doc.buyer_reference }}", {"after": 2}))
    para(refs, "{%p if doc.buyer.delivery_address %}")
    caption(refs, "delivery_address", before=4)
    para(refs, "{% for line in doc.buyer.delivery_address.lines %}{{ line }}, {% endfor %}"
               "{{ doc.buyer.delivery_address.postcode }} {{ doc.buyer.delivery_address.city }}")
    para(refs, "{%p endif %}")
    box(buyer)
    para(buyer, [(lab("client"), {"bold": True, "size": 7, "color": GREY, "caps": True})], after=2)
    para(buyer, [("{{ doc.buyer.name }}", {"bold": True, "size": 10.5})], after=1)
    para(buyer, address("doc.buyer.address"))
    when(buyer, "doc.buyer.siren or doc.buyer.vat_id",
         ([("{% if doc.buyer.siren %}" + lab("siren") + " {{ doc.buyer.siren }}{% endif %}"
            "{% if doc.buyer.siren and doc.buyer.vat_id %} · {% endif %}"
            "{% if doc.buyer.vat_id %}" + lab("vat_id") + " {{ doc.buyer.vat_id }}{% endif %}", SMALL_GREY)], {"before": 2}))

    when(d, "doc.type == 'deposit_invoice'",
         ([("{{ doc.lines[0].description.split(' (')[0] }}", {"bold": True})], {"before": 8}))
    when(d, "doc.type == 'final_invoice'",
         ([("{{ ('Facture de solde suivant devis n° ' ~ doc.quote.number ~ ' du ' ~ (doc.quote.date | short_date)) "
            "if doc.language == 'fr' else ('Final invoice on quote no. ' ~ doc.quote.number ~ ' of ' "
            "~ (doc.quote.date | short_date)) }}", {"bold": True})], {"before": 8}))


    # ------------------------------------------------------------------ data tables
    def data_table(container, headers, cells, loop, widths, caption_key=None, strong=()):
        """Navy header repeated on every page, one {%tr for %} row per item, hairline rules."""
        if caption_key:
            caption(container, caption_key)
        else:
            para(container, "", after=4)
        t = new_table(container, 4, widths)
        table_borders(t, bottom=(4, RULE), insideH=(2, RULE))
        cell_margins(t, top=0.9, bottom=0.9)
        for i, text in enumerate(headers):
            c = t.rows[0].cells[i]
            para(c, [(text, {"bold": True, "size": 7.5, "color": WHITE})], align=R if i else None)
            shade(c, "0F3D5E")
        row_flags(t.rows[0], header=True)
        t.rows[1].cells[0].text = "{%tr " + loop + " %}"
        for i, text in enumerate(cells):
            para(t.rows[2].cells[i], [(text, {"bold": i in strong})], align=R if i else None)
        row_flags(t.rows[2])
        t.rows[3].cells[0].text = "{%tr endfor %}"
        return t


    LINE_HEADERS = [lab(k) for k in ("description", "quantity", "unit", "unit_price", "discount", "vat_rate", "net")]
    LINE_CELLS = ["{{ line.description }}", "{{ line.quantity | quantity }}", "{{ line.unit | unit }}",
                  "{{ line.unit_price | money }}",
                  "{% if line.discount_percent %}{{ line.discount_percent | percent }}{% elif line.discount_amount %}"
                  "{{ line.discount_amount | money }}{% endif %}",
                  "{% if line.vat_category == 'S' %}{{ line.vat_rate | percent }}{% else %}{{ line.vat_category }}{% endif %}",
                  "{{ line.net | money }}"]
    LINE_WIDTHS = [78, 13, 13, 23, 17, 14, 24]

    # progress invoices: the progress table, deductions and recap; others: the lines
    para(d, "{%p if doc.type == 'progress_invoice' %}")
    data_table(d, [lab(k) for k in ("description", "vat_rate", "quote_amount", "previous_percent", "cumulative_percent",
                                    "cumulative_amount", "previous_amount", "this_amount")],
               ["{{ row.description }}", "{{ row.vat_rate | percent }}", "{{ row.quote_amount | money }}",
                "{{ row.previous_percent | percent }}", "{{ row.cumulative_percent | percent }}",
                "{{ row.cumulative_amount | money }}", "{{ row.previous_amount | money }}", "{{ row.this_amount | money }}"],
               "for row in doc.progress.rows", [44, 12, 22, 18, 20, 22, 22, 22], "progress_table", strong=(4, 7))
    para(d, "{%p if doc.progress.deductions %}")
    data_table(d, [lab(k) for k in ("vat_rate", "deposit_base", "previously_deducted", "deducted_now", "remaining")],
               ["{{ d.rate | percent }}", "{{ d.deposit_base | money }}", "{{ d.previously_deducted | money }}",
                "{{ d.amount | money }}", "{{ d.remaining | money }}"], "for d in doc.progress.deductions",
               [30, 38, 38, 38, 38], "deductions", strong=(3,))
    para(d, "{%p endif %}")
    caption(d, "recap")
    recap = new_table(d, 4, [80, 30])
    table_borders(recap, insideH=(2, RULE))
    for row, (key, value) in zip(recap.rows, (
            ("contract_net", "{{ doc.progress.contract_net | money }}"),
            ("cumulative_works", "{{ doc.progress.cumulative_works | money }}"),
            ("previous_works", "{{ doc.progress.previous_works | money }}"),
            ("this_works", "{{ doc.progress.this_works | money }}"))):
        label = lab(key)
        if key == "previous_works":
            label += ("{% for ps in doc.progress.previous_situations %}{% if loop.first %} ({% endif %}{{ ps.number }} · "
                      "{{ ps.issue_date | short_date }}{% if not loop.last %} ; {% else %}){% endif %}{% endfor %}")
        para(row.cells[0], [(label, {"bold": key == "this_works"})])
        para(row.cells[1], [(value, {"bold": key == "this_works"})], align=R)
    para(d, "{%p else %}")
    para(d, "{%p if doc.type == 'deposit_invoice' and doc.deposit_layout == 'detailed' %}")
    data_table(d, LINE_HEADERS, LINE_CELLS, "for line in doc.quote.lines", LINE_WIDTHS, "quote_recap")
    caption(d, "deposit_lines")
    para(d, "{%p endif %}")
    data_table(d, LINE_HEADERS, LINE_CELLS, "for line in doc.lines", LINE_WIDTHS)
    para(d, "{%p endif %}")

    # deposits: the earlier deposits on the same quote
    para(d, "{%p if doc.type == 'deposit_invoice' and doc.deposit.previous_deposits %}")
    data_table(d, [lab("invoice_number"), lab("date"), lab("gross")],
               ["{{ prev.number }}", "{{ prev.issue_date | short_date }}", "{{ prev.gross_total | money }}"],
               "for prev in doc.deposit.previous_deposits", [100, 40, 42], "deposit_recap")
    para(d, [(lab("deposits_total") + " : ", {}), ("{{ doc.deposit.deposits_total | money }}", {"bold": True})],
         align=R, before=2)
    para(d, "{%p endif %}")

    # final invoices: every earlier invoice, then what remains per rate
    para(d, "{%p if doc.type == 'final_invoice' %}")
    data_table(d, [lab("invoice_number"), lab("date"), lab("net"), lab("vat"), lab("gross")],
               ["{{ labels.fields.deposit_kind if prev.type == 'deposit_invoice' else labels.fields.progress_kind }} "
                "{{ prev.number }}", "{{ prev.issue_date | short_date }}", "{{ prev.net_total | money }}",
                "{% for v in prev.vat %}{{ v.amount | money }} ({{ v.rate | percent }}){% if not loop.last %} ; "
                "{% endif %}{% endfor %}", "{{ prev.gross_total | money }}"],
               "for prev in doc.final.previous", [60, 24, 30, 40, 28], "final_recap")
    data_table(d, [lab("vat_rate"), lab("quote_total"), lab("already_billed"), lab("remaining_billed")],
               ["{{ q.rate | percent }}", "{{ q.base | money }} + {{ q.vat | money }}",
                "{{ doc.final.billed[loop.index0].base | money }} + {{ doc.final.billed[loop.index0].vat | money }}",
                "{{ doc.final.remaining[loop.index0].base | money }} + {{ doc.final.remaining[loop.index0].vat | money }}"],
               "for q in doc.final.quote_totals", [22, 52, 54, 54], strong=(3,))
    para(d, "{%p endif %}")

    # ------------------------------------------------------------------ VAT breakdown, then the totals on the right
    # (top-level tables, not nested: text extractors and python-docx's table.cell.text see them)
    caption(d, "vat_breakdown", before=10).paragraph_format.keep_with_next = True
    vat = new_table(d, 4, [22, 32, 32])
    table_borders(vat, top=(4, BOX), bottom=(2, RULE), insideH=(2, RULE))
    cell_margins(vat, left=0, right=0, top=0.8, bottom=0.8)
    for i, key in enumerate(("rate", "base", "vat_amount")):
        para(vat.rows[0].cells[i], [(lab(key), {"bold": True, "size": 7.5, "color": GREY})], align=R if i else None)
    vat.rows[1].cells[0].text = "{%tr for row in doc.vat_breakdown %}"
    for i, text in enumerate(("{% if row.category == 'S' %}{{ row.rate | percent }}{% else %}{{ row.category }}{% endif %}",
                              "{{ row.base | money }}", "{{ row.amount | money }}")):
        para(vat.rows[2].cells[i], text, align=R if i else None)
    vat.rows[3].cells[0].text = "{%tr endfor %}"
    keep_together(vat)

    para(d, "", after=4)
    totals = new_table(d, 0, [50, 36], align=WD_TABLE_ALIGNMENT.RIGHT)
    cell_margins(totals, top=1, bottom=1, left=1.5, right=1.5)


    def total_row(label, value, bold=False, rule=False):
        row = totals.add_row()
        fixed(totals, [50, 36])
        para(row.cells[0], [(label, {"bold": bold})])
        para(row.cells[1], [(value, {"bold": bold})], align=R)
        if rule:
            for c in row.cells:
                borders = _el("w:tcBorders")
                borders.append(_el("w:top", val="single", sz=4, space=0, color=BOX))
                put(c._tc.get_or_add_tcPr(), borders, TC_PR)
        return row


    def tr_tag(text):
        row = totals.add_row()
        fixed(totals, [50, 36])
        row.cells[0].text = text


    total_row(lab("net_total"), "{{ doc.totals.net_total | money }}")
    total_row(lab("vat_total"), "{{ doc.totals.vat_total | money }}")
    total_row(lab("gross_total"), "{{ doc.totals.gross_total | money }}", bold=True, rule=True)
    tr_tag("{%tr if doc.totals.retention_total %}")
    total_row(lab("retention") + "{% if doc.retention %} ({{ doc.retention.percent | percent }}){% endif %}",
              "− {{ doc.totals.retention_total | money }}")
    tr_tag("{%tr endif %}")
    tr_tag("{%tr if doc.totals.prepaid_total %}")
    total_row(lab("prepaid"), "− {{ doc.totals.prepaid_total | money }}")
    tr_tag("{%tr endif %}")
    due = totals.add_row()
    fixed(totals, [50, 36])
    para(due.cells[0], [("{{ labels.fields.amount_to_refund if doc.type == 'credit_note' else labels.fields.amount_due }}",
                         {"bold": True, "size": 11, "color": WHITE})])
    para(due.cells[1], [("{{ doc.totals.amount_due | money }}", {"bold": True, "size": 11, "color": WHITE})], align=R)
    for c in due.cells:
        shade(c, "0F3D5E")
    keep_together(totals)
    when(d, "doc.payment_status == 'paid' and doc.type != 'credit_note'",
         ([(lab("paid_stamp"), {"bold": True, "size": 14, "color": GREEN, "caps": True})], {"align": R, "before": 6}))

    when(d, "doc.retention",
         ([(lab("retention") + " : {{ doc.retention.amount | money }} · " + lab("retention_cumulative")
            + " {{ doc.retention.cumulative | money }}{% if doc.retention.release_date %}, " + lab("release_date")
            + " {{ doc.retention.release_date | date }}{% endif %}.", SMALL_GREY)], {"before": 4}))

    # ------------------------------------------------------------------ payment, schedule, notes, mentions
    caption(d, "payment", before=12)
    when(d, "doc.due_date",
         ([(lab("due_date") + " : ", {}), ("{{ doc.due_date | date }}", {"bold": True}),
           ("{% if doc.payment.means %} · " + lab("means") + " : {{ labels.means[doc.payment.means] }}{% endif %}", {})],
          {"after": 1}))
    when(d, "doc.payment.iban",
         ("{{ labels.fields.iban }} {{ doc.payment.iban }}{% if doc.payment.bic %} · {{ labels.fields.bic }} "
          "{{ doc.payment.bic }}{% endif %}", {"after": 1}))
    when(d, "doc.payments",
         (lab("payments_received") + " : {% for p in doc.payments %}{{ p.date | short_date }} {{ p.amount | money }}"
          "{% if p.reference %} ({{ p.reference }}){% endif %}{% if not loop.last %} ; {% endif %}{% endfor %}"
          " — {{ labels.status[doc.payment_status] }}", {"after": 1}))
    para(d, "{%p if doc.schedule %}")
    data_table(d, [lab("installment"), lab("due_date"), lab("total")],
               ["{{ labels.fields.retention_installment if i.kind == 'retention' else labels.fields.installment ~ ' ' ~ "
                "i.number }}", "{{ i.due_date | date }}", "{{ i.amount | money }}"],
               "for i in doc.schedule", [70, 30, 28], "schedule")
    para(d, "{%p endif %}")

    para(d, "{%p if doc.notes %}")
    caption(d, "notes", before=10)
    para(d, "{%p for note in doc.notes %}")
    para(d, "{{ note }}", after=1)
    para(d, "{%p endfor %}")
    para(d, "{%p endif %}")

    rule = para(d, "", after=3, before=10)
    put(rule._p.get_or_add_pPr(), _el("w:pBdr"), P_PR).append(_el("w:bottom", val="single", sz=2, space=1, color=BOX))
    para(d, "{%p for m in doc.mentions if m.code != 'credit_note_reference' %}")
    para(d, [("{{ m | mention }}", {"size": 7, "color": GREY})], after=1)
    para(d, "{%p endfor %}")
    d.core_properties.author = "docsvc classic 1.0.0"
    d.core_properties.title = "Invoice"
    d.core_properties.comments = ""


def classic_1_2_0(d, section):
    """The DOCX twin of classic 1.2.0's document.html: the same blocks, rows, totals and
    words (its labels), in the same order, for every document type (docs/templates.md)."""
    styled_fonts(d)
    section.different_first_page_header_footer = True  # page 1 has the full head; later pages a running header
    section.header_distance = Mm(7)
    CREDIT = "doc.type == 'credit_note'"
    # the last two lines (all when four or fewer, as the HTML) open the closing block, when no other
    # table comes between them and it (a final invoice's recaps, a deposit's earlier deposits)
    TAIL = ("(doc.type in ('invoice', 'credit_note') or (doc.type == 'deposit_invoice' "
            "and not doc.deposit.previous_deposits))")
    CUT = "((doc.lines | length - 2 if doc.lines | length > 4 else 0) if " + TAIL + " else doc.lines | length)"
    PCUT = "(doc.progress.rows | length - 2 if doc.progress.rows | length > 4 else 0)"
    PROGRESS_HEADERS = [lab(k) for k in ("description", "vat_rate", "quote_amount", "previous_percent",
                                         "cumulative_percent", "cumulative_amount", "previous_amount", "this_amount")]
    PROGRESS_CELLS = ["{{ row.description | nobreak }}", VAT_OF("row.vat_category", "row.vat_rate"),
                      "{{ row.quote_amount | amount }}", "{{ row.previous_percent | percent }}",
                      "{{ row.cumulative_percent | percent }}", "{{ row.cumulative_amount | amount }}",
                      "{{ row.previous_amount | amount }}", "{{ row.this_amount | amount }}"]
    PROGRESS_WIDTHS = [44, 14, 22, 17, 19, 22, 22, 22]

    # -------------------------------------------------------------- footer (every page), running header (pages 2+)
    for footer in (section.footer, section.first_page_footer):
        foot = footer.add_table(rows=1, cols=2, width=Mm(WIDTH))
        fixed(foot, [150, 32])
        para(foot.rows[0].cells[0], [("{{ doc.seller.name }} · " + IDENTITY_120, {"size": 7, "color": GREY})])
        pages = para(foot.rows[0].cells[1], [(lab("page") + " ", {"size": 7, "color": GREY})], align=R)
        field(pages, "PAGE")
        write(pages, [(" / ", {"size": 7, "color": GREY})])
        field(pages, "NUMPAGES")
        tiny(footer.paragraphs[0])
    running = section.header.add_table(rows=1, cols=2, width=Mm(WIDTH))
    fixed(running, [120, 62])
    para(running.rows[0].cells[0], [(TITLE + " " + lab("number") + " {{ doc.number }}", {"bold": True, "size": 8,
                                                                                       "color": NAVY})])
    para(running.rows[0].cells[1], [("{{ doc.buyer.name }}{% if doc.quote %} · " + lab("quote") + " " + lab("number")
                                     + " {{ doc.quote.number }}{% endif %}", {"size": 8, "color": GREY})], align=R)
    tiny(section.header.paragraphs[0])
    tiny(section.first_page_header.paragraphs[0])

    # -------------------------------------------------------------- head: seller left, title right
    head = new_table(d, 1, [96, 86])
    seller, title = head.rows[0].cells
    para(seller, [("{{ doc.seller.name }}", {"bold": True, "size": 13})], after=2)
    address_lines(seller, "doc.seller.address")
    when(seller, "doc.seller.phone or doc.seller.email",
         ([("{{ doc.seller.phone or '' }}{% if doc.seller.phone and doc.seller.email %} · {% endif %}"
            "{{ doc.seller.email or '' }}", {"color": GREY})], {}))
    para(seller, [(IDENTITY_120, SMALL_GREY)], before=2)

    def date_row(label, value, condition=None, hint=None):
        runs = [(label + "   ", {"color": GREY}), (value, {"bold": True})]
        if condition:
            when(title, condition, (runs, {"align": R, "after": 1}))
        else:
            para(title, runs, align=R, after=1)

    para(title, [(TITLE, {"bold": True, "size": 17, "color": NAVY})], align=R)
    para(title, [(lab("number") + " {{ doc.number }}", {"bold": True, "size": 11})], align=R, after=5)
    date_row(lab("issue_date"), "{{ doc.issue_date | date }}")
    date_row(lab("delivery_date"), "{{ doc.delivery_date | date }}", "doc.delivery_date")
    date_row(lab("received_date"), "{{ doc.deposit.received_date | date }}", "doc.deposit and doc.deposit.received_date")
    date_row(lab("due_date"), "{{ doc.due_date | date }}", "doc.due_date and not " + CREDIT)
    when(title, "doc.due_date and not " + CREDIT + " and doc.due_date_source == 'schedule'",
         ([(lab("first_installment"), {"color": GREY, "size": 7.5})], {"align": R}))

    # a credit note: the invoice it corrects, prominent
    when(d, CREDIT + " and doc.corrects",
         ([(lab("corrects_on") + " {{ (labels.titles[doc.corrects.type] if doc.corrects.type else "
            "labels.titles.invoice) | lower }} " + lab("number") + " {{ doc.corrects.number }} " + lab("corrects_of")
            + " {{ doc.corrects.issue_date | date }}", {"bold": True, "size": 10.5, "color": NAVY})],
          {"before": 6}))

    # -------------------------------------------------------------- references and delivery left, buyer boxed right
    para(d, "", after=8)
    parties = new_table(d, 1, [91, 91])
    cell_margins(parties, top=2.5, bottom=2.5, left=3.5, right=3.5)
    refs, buyer = parties.rows[0].cells
    tiny(para(refs, ""))  # a cell needs one paragraph that no {%p %} can remove
    when(refs, "doc.quote", (lab("quote") + " " + lab("number") + " {{ doc.quote.number }} · {{ doc.quote.date | date }}",
                             {"after": 2}))
    when(refs, "doc.order_reference", (lab("order_reference") + "{{ ' : ' if doc.language == 'fr' else ': ' }}{{ doc.order_reference }}", {"after": 2}))
    when(refs, "doc.buyer_reference", (lab("buyer_reference") + "{{ ' : ' if doc.language == 'fr' else ': ' }}{{ doc.buyer_reference }}", {"after": 2}))
    para(refs, "{%p if doc.buyer.delivery_address %}")
    caption(refs, "delivery_address", before=4)
    address_lines(refs, "doc.buyer.delivery_address")
    para(refs, "{%p endif %}")
    box(buyer)
    para(buyer, [(lab("client"), {"bold": True, "size": 7, "color": GREY, "caps": True})], after=2)
    para(buyer, [("{{ doc.buyer.name }}", {"bold": True, "size": 10.5})], after=1)
    address_lines(buyer, "doc.buyer.address")
    when(buyer, "doc.buyer.siren or doc.buyer.vat_id",
         ([("{% if doc.buyer.siren %}" + lab("siren") + " {{ doc.buyer.siren | grouped('siren') }}{% endif %}"
            "{% if doc.buyer.siren and doc.buyer.vat_id %} · {% endif %}"
            "{% if doc.buyer.vat_id %}" + lab("vat_id") + " {{ doc.buyer.vat_id | grouped }}{% endif %}",
            SMALL_GREY)], {"before": 2}))

    # -------------------------------------------------------------- deposit: its basis; final: its lead line
    para(d, "{%p if doc.type == 'deposit_invoice' %}")
    para(d, [("{{ doc.lines[0].description.split(' (')[0] | nobreak }}", {"bold": True})], before=8)
    caption(d, "deposit_basis").paragraph_format.keep_with_next = True
    basis = new_table(d, 5, [100, 41, 41])
    table_borders(basis, top=(4, BOX), bottom=(4, BOX), insideH=(2, RULE))
    cell_margins(basis, top=0.8, bottom=0.8)
    HT = " {{ 'HT' if doc.language == 'fr' else 'net' }}"
    TTC = " {{ 'TTC' if doc.language == 'fr' else 'incl. VAT' }}"
    basis_rows = (
        (lab("quote") + " " + lab("number") + " {{ doc.quote.number }} " + lab("corrects_of")
         + " {{ doc.quote.date | short_date }}", lab("quote_net") + " {{ doc.quote.net_total | amount }}",
         lab("quote_gross") + " {{ doc.quote.gross_total | amount }}"),
        (lab("deposit_percent"),
         "{% if doc.deposit.percent_is_equivalent %}{{ doc.deposit.amount | amount }}" + TTC + ", "
         + lab("deposit_equivalent") + " {{ doc.deposit.percent | percent }} " + lab("of_quote_gross") + "{% else %}{{ doc.deposit.percent | percent }} "
         "{{ 'du devis, par taux de TVA' if doc.language == 'fr' else 'of the quote, per VAT rate' }}{% endif %}", None),
        (lab("deposit_this"), "{{ doc.deposit.amount | amount }}", None),
        (lab("deposits_so_far"), "{{ doc.deposit.deposits_net | amount }}" + HT,
         "{{ doc.deposit.deposits_total | amount }}" + TTC),
        (lab("remaining_to_invoice"), "{{ doc.deposit.remaining_net | amount }}" + HT,
         "{{ doc.deposit.remaining_gross | amount }}" + TTC))
    for i, (row, (label, first, second)) in enumerate(zip(basis.rows, basis_rows)):
        strong = i in (2, 4)
        para(row.cells[0], [(label, {"bold": strong})])
        if second is None:  # one value over both columns
            merged = row.cells[1].merge(row.cells[2])
            para(merged, [(first, {"bold": True})], align=R)
        else:
            para(row.cells[1], [(first, {"bold": strong})], align=R)
            para(row.cells[2], [(second, {"bold": strong})], align=R)
    keep_together(basis)
    para(d, "{%p elif doc.type == 'final_invoice' %}")
    para(d, [("{{ (('Facture de solde suivant devis n° ' ~ doc.quote.number ~ ' du ' ~ (doc.quote.date | short_date)) "
              "if doc.language == 'fr' else ('Final invoice on quote no. ' ~ doc.quote.number ~ ' of ' "
              "~ (doc.quote.date | short_date))) | nobreak }}", {"bold": True})], before=8)
    para(d, "{%p endif %}")

    # -------------------------------------------------------------- the body tables, by type
    KIND = ("{{ labels.fields.deposit_kind if X.type == 'deposit_invoice' else labels.fields.progress_kind "
            "if X.type == 'progress_invoice' else labels.fields.credit_kind }}")
    para(d, "{%p if doc.type == 'progress_invoice' %}")
    # the progress rows but the last two (none when four or fewer): the rest opens the closing block
    para(d, "{%p if " + PCUT + " > 0 %}")
    data_table(d, PROGRESS_HEADERS, PROGRESS_CELLS, "for row in doc.progress.rows[:" + PCUT + "]", PROGRESS_WIDTHS,
               "progress_table", strong=(4, 7))
    para(d, "{%p endif %}")
    para(d, "{%p else %}")
    para(d, "{%p if doc.type == 'deposit_invoice' and doc.deposit_layout == 'detailed' %}")
    data_table(d, LINE_HEADERS, LINE_CELLS, "for line in doc.quote.lines", LINE_WIDTHS, "quote_recap")
    para(d, "{%p endif %}")
    # the lines but the last two (none when there are four or fewer): those open the closing block
    para(d, "{%p if " + CUT + " > 0 %}")
    when(d, "doc.deposit_layout == 'detailed'", ([(lab("deposit_lines"), {"bold": True, "size": 7, "color": GREY,
                                                                          "caps": True})], {"before": 6, "after": 2}))
    data_table(d, LINE_HEADERS, LINE_CELLS, "for line in doc.lines[:" + CUT + "]", LINE_WIDTHS)
    para(d, "{%p endif %}")
    para(d, "{%p endif %}")

    # deposits: the earlier deposits on the quote, this one, and the total
    para(d, "{%p if doc.type == 'deposit_invoice' and doc.deposit.previous_deposits %}")
    t = data_table(d, [lab("invoice_number"), lab("date"), lab("net"), lab("gross")],
                   [lab("deposit_kind") + " " + lab("number") + " {{ prev.number }}",
                    "{{ prev.issue_date | short_date }}", "{{ prev.net_total | amount }}",
                    "{{ prev.gross_total | amount }}"],
                   "for prev in doc.deposit.previous_deposits", [90, 30, 31, 31], "deposit_recap",
                   foot=[lab("deposits_total"), "", "{{ doc.deposit.deposits_net | amount }}",
                         "{{ doc.deposit.deposits_total | amount }}"])
    this = t.add_row()
    fixed(t, [90, 30, 31, 31])
    for i, text in enumerate((TITLE + " " + lab("number") + " {{ doc.number }}", "{{ doc.issue_date | short_date }}",
                              "{{ doc.deposit.net | amount }}", "{{ doc.deposit.amount | amount }}")):
        para(this.cells[i], text, align=R if i else None)
    row_flags(this)
    t.rows[-2]._tr.addprevious(this._tr)  # before the total row (this row was just added last)
    para(d, "{%p endif %}")

    # final invoices: every earlier invoice and credit note, the balance per rate, the retention held
    para(d, "{%p if doc.type == 'final_invoice' %}")
    t = data_table(d, [lab("invoice_number"), lab("date"), lab("net"), lab("vat"), lab("gross")],
                   [KIND.replace("X.", "prev.") + " " + lab("number") + " {{ prev.number }}",
                    "{{ prev.issue_date | short_date }}", "{{ prev.net_total | amount }}",
                    "{% for v in prev.vat %}{{ v.amount | amount }} ({{ v.rate | percent }}){% if not loop.last %} ; "
                    "{% endif %}{% endfor %}", "{{ prev.gross_total | amount }}"],
                   "for prev in doc.final.previous", [62, 22, 30, 40, 28], "final_recap",
                   foot=[lab("billed_total"), "", "{{ doc.final.billed_net | amount }}",
                         "{{ doc.final.billed_vat | amount }}", "{{ doc.final.billed_gross | amount }}"])
    total_tr = t.rows[-1]._tr
    for text, cells in (("{%tr for c in doc.final.credit_notes %}", None),
                        (None, [lab("credit_kind") + " " + lab("number") + " {{ c.number }} " + lab("on_invoice")
                                + " {{ c.corrects.number }}", "{{ c.issue_date | short_date }}",
                                "{{ c.net_total | negative }}",
                                "{% for v in c.vat %}{{ v.amount | negative }} ({{ v.rate | percent }})"
                                "{% if not loop.last %} ; {% endif %}{% endfor %}", "{{ c.gross_total | negative }}"]),
                        ("{%tr endfor %}", None)):
        new = t.add_row()
        fixed(t, [62, 22, 30, 40, 28])
        if text:
            new.cells[0].text = text
        else:
            for i, value in enumerate(cells):
                para(new.cells[i], value, align=R if i else None)
            row_flags(new)
        total_tr.addprevious(new._tr)
    data_table(d, [lab("vat_rate"), lab("quote_total"), lab("already_billed"), lab("remaining_billed")],
               [VAT_OF("q.category", "q.rate"), "{{ q.base | amount }} + {{ q.vat | amount }}",
                "{{ doc.final.billed[loop.index0].base | amount }} + {{ doc.final.billed[loop.index0].vat | amount }}",
                "{{ doc.final.remaining[loop.index0].base | amount }} + "
                "{{ doc.final.remaining[loop.index0].vat | amount }}"],
               "for q in doc.final.quote_totals", [22, 52, 54, 54], "per_rate_caption", strong=(3,),
               foot=[lab("total"), "{{ doc.quote.gross_total | amount }}", "{{ doc.final.billed_gross | amount }}",
                     "{{ doc.totals.gross_total | amount }}"])
    para(d, [(lab("per_rate_legend"), SMALL_GREY)], before=2)
    para(d, "{%p for v in doc.final.vat_by_difference %}")
    para(d, [("{{ labels.fields.vat_by_difference.format(rate=(v.rate | percent), base=(v.base | amount), "
              "computed=(v.computed | amount), diff=((v.vat - v.computed) | amount)) }}", SMALL_GREY)], before=1)
    para(d, "{%p endfor %}")
    para(d, "{%p if doc.final.retentions %}")
    RELEASE = ("{% if X %}" + lab("release_date") + " {{ X | short_date }}{% else %}" + lab("retention_no_release")
               + "{% endif %}")
    data_table(d, [lab("invoice_number"), "", lab("retention")],
               [lab("progress_kind") + " " + lab("number") + " {{ h.number }} " + lab("corrects_of")
                + " {{ h.issue_date | short_date }}", RELEASE.replace("X", "h.release_date"),
                "{{ h.amount | amount }}"],
               "for h in doc.final.retentions", [92, 50, 40], "retention_held",
               foot=[lab("retention_held_total"), RELEASE.replace("X", "doc.final.retention_release_date"),
                     "{{ doc.final.retention_total | amount }}"])
    para(d, [(lab("retention_owed_note"), SMALL_GREY)], before=2)
    para(d, "{%p endif %}")
    para(d, "{%p endif %}")

    # -------------------------------------------------------------- closing block: VAT, totals, payment, mentions
    # a progress invoice: the end of its table, the deductions and the contract summary (they may
    # run over a page: they stay outside the closing block, which must fit on one)
    para(d, "{%p if doc.type == 'progress_invoice' %}")
    when(d, PCUT + " == 0", ([(lab("progress_table"), {"bold": True, "size": 7, "color": GREY, "caps": True})],
                                 {"before": 6, "after": 2}))
    data_table(d, PROGRESS_HEADERS, PROGRESS_CELLS, "for row in doc.progress.rows[" + PCUT + ":]",
               PROGRESS_WIDTHS, strong=(4, 7), header_if=PCUT + " == 0", keep_tail=True,
               foot=[lab("total"), "", "{{ doc.progress.contract_net | amount }}", "", "",
                     "{{ doc.progress.cumulative_works | amount }}", "{{ doc.progress.previous_works | amount }}",
                     "{{ doc.progress.this_works | amount }}"])
    # deposits deducted per rate, each rate naming the deposit invoices its base is made of
    para(d, "{%p if doc.progress.deductions %}")
    deductions = data_table(
        d, [lab("vat_rate") + " · " + lab("deposits_named")]
        + [lab(k) for k in ("deposit_base", "previously_deducted", "deducted_now", "remaining")],
        ["{{ d.rate | percent }}", "{{ d.deposit_base | amount }}", "{{ d.previously_deducted | amount }}",
         "{{ d.amount | amount }}", "{{ d.remaining | amount }}"], "for d in doc.progress.deductions",
        [70, 28, 28, 28, 28], "deducted_deposits_caption", strong=(0, 3),
        foot=[lab("total"), "{{ doc.progress.deductions | sum(attribute='deposit_base') | amount }}",
              "{{ doc.progress.deductions | sum(attribute='previously_deducted') | amount }}",
              "{{ doc.progress.deducted_total | amount }}",
              "{{ doc.progress.deductions | sum(attribute='remaining') | amount }}"])
    names = deductions.rows[2].cells[0]  # under the rate, one deposit invoice a line
    para(names, "{%p for dep in d.deposits %}")
    para(names, [(KIND.replace("X.", "dep.") + " " + lab("number") + " {{ dep.number }} " + lab("corrects_of")
                  + " {{ dep.issue_date | short_date }}{{ ' : ' if doc.language == 'fr' else ': ' }}{{ dep.base | amount }}", {"size": 7.5, "color": GREY})])
    para(names, "{%p endfor %}")
    para(d, "{%p endif %}")
    caption(d, "recap").paragraph_format.keep_with_next = True
    recap = new_table(d, 4, [130, 30])
    table_borders(recap, insideH=(2, RULE))
    rows = (("contract_net", "{{ doc.progress.contract_net | amount }}"),
            ("cumulative_works", "{{ doc.progress.cumulative_works | amount }}"),
            ("previous_works", "{{ doc.progress.previous_works | amount }}"),
            ("this_works", "{{ doc.progress.this_works | amount }}"))
    for row, (key, value) in zip(recap.rows, rows):
        para(row.cells[0], [(lab(key), {"bold": key == "this_works"})])
        if key == "previous_works":
            cell = row.cells[0]
            para(cell, "{%p for ps in doc.progress.previous_situations %}")
            para(cell, [(lab("progress_kind") + " " + lab("number") + " {{ ps.number }} " + lab("corrects_of")
                         + " {{ ps.issue_date | short_date }} ({{ ps.net_total | amount }}" + HT + ")", SMALL_GREY)])
            para(cell, "{%p endfor %}")
            para(cell, "{%p for c in doc.progress.credit_notes %}")
            para(cell, [(lab("credit_kind") + " " + lab("number") + " {{ c.number }} " + lab("corrects_of")
                         + " {{ c.issue_date | short_date }} " + lab("on_invoice") + " {{ c.corrects.number }} "
                         "({{ c.net_total | negative }}" + HT + "){% if loop.last %} — " + lab("credit_taken_back")
                         + "{% endif %}", SMALL_GREY)])
            para(cell, "{%p endfor %}")
        para(row.cells[1], [(value, {"bold": key == "this_works"})], align=R)
    keep_together(recap)
    para(d, "{%p endif %}")
    closing_starts = len(d.element.body)
    # one table row that never splits: Word and LibreOffice move the whole block to the next
    # page rather than leave the totals, the payment or the mentions alone
    para(d, "", after=6).paragraph_format.keep_with_next = True
    closing = new_table(d, 1, [WIDTH])
    cell_margins(closing, top=0, bottom=0, left=0, right=0)
    row_flags(closing.rows[0])
    block = closing.rows[0].cells[0]
    # the end of the lines table, so the block never starts a page without it
    para(block, "{%p if " + TAIL + " %}")
    when(block, CUT + " == 0 and doc.type == 'deposit_invoice' and doc.deposit_layout == 'detailed'",
         ([(lab("deposit_lines"), {"bold": True, "size": 7, "color": GREY, "caps": True})], {"before": 6, "after": 2}))
    data_table(block, LINE_HEADERS, LINE_CELLS, "for line in doc.lines[" + CUT + ":]", LINE_WIDTHS,
               header_if=CUT + " == 0")
    para(block, "{%p endif %}")
    # the VAT summary on the left, the totals on the right, side by side as on the PDF
    summary = new_table(block, 1, [84, 98])
    left, right = summary.rows[0].cells
    caption(left, "vat_breakdown", before=0).paragraph_format.keep_with_next = True
    vat = new_table(left, 7, [30, 26, 24])
    table_borders(vat, top=(4, BOX), bottom=(2, RULE), insideH=(2, RULE))
    cell_margins(vat, left=0, right=0, top=0.8, bottom=0.8)
    for i, key in enumerate(("rate", "base", "vat_amount")):
        para(vat.rows[0].cells[i], [(lab(key), {"bold": True, "size": 7.5, "color": GREY})], align=R if i else None)
    vat.rows[1].cells[0].text = "{%tr for row in doc.vat_breakdown %}"
    for i, text in enumerate((VAT_OF("row.category", "row.rate", "row.exemption_mark"), "{{ row.base | amount }}",
                              "{{ row.amount | amount }}")):
        para(vat.rows[2].cells[i], text, align=R if i else None)
    vat.rows[3].cells[0].text = "{%tr endfor %}"
    vat.rows[4].cells[0].text = "{%tr if doc.vat_breakdown | length > 1 %}"  # a total row once there are two rates
    for i, text in enumerate((lab("total"), "{{ doc.totals.net_total | amount }}", "{{ doc.totals.vat_total | amount }}")):
        para(vat.rows[5].cells[i], [(text, {"bold": True})], align=R if i else None)
    vat.rows[6].cells[0].text = "{%tr endif %}"
    keep_together(vat)

    tiny(right.paragraphs[0])
    totals = new_table(right, 0, [56, 34])
    cell_margins(totals, top=1, bottom=1, left=1.5, right=1.5)

    def total_row(label, value, bold=False, rule=False, due=False):
        row = totals.add_row()
        fixed(totals, [56, 34])
        style = {"bold": True, "size": 11, "color": WHITE} if due else {"bold": bold}
        para(row.cells[0], [(label, style)])
        para(row.cells[1], [(value, style)], align=R)
        for c in row.cells:
            if due:
                shade(c, str(NAVY))
            if rule:
                borders = _el("w:tcBorders")
                borders.append(_el("w:top", val="single", sz=4, space=0, color=BOX))
                put(c._tc.get_or_add_tcPr(), borders, TC_PR)

    def tr_tag(text):
        row = totals.add_row()
        fixed(totals, [56, 34])
        row.cells[0].text = text

    # a progress invoice shows the step from works to net: works, deposits deducted, total net
    tr_tag("{%tr if doc.type == 'progress_invoice' %}")
    total_row(lab("works_this"), "{{ doc.progress.this_works | amount }}")
    tr_tag("{%tr if doc.progress.deducted_total %}")
    total_row(lab("deposits_deducted"), "{{ doc.progress.deducted_total | negative }}")
    tr_tag("{%tr endif %}")
    tr_tag("{%tr endif %}")
    total_row(lab("net_total"), "{{ doc.totals.net_total | amount }}")
    total_row(lab("vat_total"), "{{ doc.totals.vat_total | amount }}")
    tr_tag("{%tr if " + CREDIT + " %}")  # a credit note: its amount, nothing "to pay"
    total_row(lab("amount_to_refund"), "{{ doc.totals.gross_total | amount }}", due=True)
    tr_tag("{%tr else %}")
    total_row(lab("gross_total"), "{{ doc.totals.gross_total | amount }}", bold=True, rule=True)
    tr_tag("{%tr if doc.totals.retention_total %}")
    total_row(lab("retention") + " ({{ doc.retention.percent | percent }})", "{{ doc.totals.retention_total | negative }}")
    tr_tag("{%tr endif %}")
    tr_tag("{%tr if doc.totals.prepaid_total %}")
    total_row(lab("prepaid"), "{{ doc.totals.prepaid_total | negative }}")
    tr_tag("{%tr endif %}")
    total_row(lab("amount_due"), "{{ doc.totals.amount_due | amount }}", due=True)
    tr_tag("{%tr endif %}")
    keep_together(totals)
    when(right, "doc.payment_status == 'paid' and not " + CREDIT,
         ([(lab("paid_stamp"), {"bold": True, "size": 14, "color": GREEN, "caps": True})], {"align": R, "before": 6}))

    when(block, "doc.retention",
         ([(lab("retention") + " {{ doc.retention.percent | percent }} {{ labels.fields.retention_base_gross "
            "if doc.retention.base_kind == 'works_gross' else labels.fields.retention_base_net }} "
            "({{ doc.retention.base | amount }}){{ ' : ' if doc.language == 'fr' else ': ' }}", SMALL_GREY),
           ("{{ doc.retention.amount | amount }}", {**SMALL_GREY, "bold": True}),
           (" · " + lab("retention_cumulative") + " {{ doc.retention.cumulative | amount }} · "
            + RELEASE.replace("X", "doc.retention.release_date").replace("| short_date", "| date") + ".",
            SMALL_GREY)], {"before": 4}))
    para(block, "{%p for e in doc.exemptions %}")
    para(block, [("({{ e.mark }}) {{ labels.categories[e.category] }}{{ ' : ' if doc.language == 'fr' else ': ' }}{{ e.reason | nobreak }}", SMALL_GREY)], after=1)
    para(block, "{%p endfor %}")

    # payment: a credit note says how it is settled; never a due date or an IBAN inviting payment
    para(block, "{%p if " + CREDIT + " %}")
    caption(block, "settlement", before=12)
    para(block, "{%p if doc.settlement %}")
    para(block, [("{{ labels.fields.settlement_deduction if doc.settlement.method == 'deduction' else "
              "labels.fields.settlement_refund }}{% if doc.settlement.means %} " + lab("settlement_by")
              + " {{ labels.means[doc.settlement.means] | lower }}{% endif %}{% if doc.settlement.date %} "
              + lab("settlement_on") + " {{ doc.settlement.date | date }}{% endif %}{{ ' : ' if doc.language == 'fr' else ': ' }}", {}),
             ("{{ doc.totals.gross_total | amount }}", {"bold": True}), (".", {})], after=1)
    para(block, "{%p else %}")
    para(block, lab("settlement_default"), after=1)
    para(block, "{%p endif %}")
    para(block, "{%p else %}")
    caption(block, "payment", before=12)
    when(block, "doc.due_date",
         ([(lab("due_date") + "{{ ' : ' if doc.language == 'fr' else ': ' }}", {}), ("{{ doc.due_date | date }}", {"bold": True}),
           ("{% if doc.due_date_source == 'schedule' %} (" + lab("first_installment") + "){% endif %}"
            "{% if doc.payment.means %} · " + lab("means") + "{{ ' : ' if doc.language == 'fr' else ': ' }}{{ labels.means[doc.payment.means] }}{% endif %}", {})],
          {"after": 1}))
    when(block, "doc.payment.iban",
         ("{{ labels.fields.iban }} {{ doc.payment.iban | grouped('iban') }}{% if doc.payment.bic %} · "
          "{{ labels.fields.bic }} {{ doc.payment.bic }}{% endif %}", {"after": 1}))
    when(block, "doc.payments",
         (lab("payments_received") + "{{ ' : ' if doc.language == 'fr' else ': ' }}{% for p in doc.payments %}{{ p.date | short_date }} {{ p.amount | amount }}"
          "{% if p.reference %} ({{ p.reference }}){% endif %}{% if not loop.last %} ; {% endif %}{% endfor %}"
          " — {{ labels.status[doc.payment_status] }}", {"after": 1}))
    para(block, "{%p if doc.schedule %}")
    data_table(block, [lab("installment"), lab("date"), lab("gross")],
               ["{{ labels.fields.retention_installment if i.kind == 'retention' else labels.fields.installment ~ ' ' ~ "
                "i.number }}", "{{ i.due_date | date }}", "{{ i.amount | amount }}"],
               "for i in doc.schedule", [70, 30, 28], "schedule",
               foot=[lab("total"), "", "{{ doc.schedule | sum(attribute='amount') | amount }}"])
    para(block, "{%p endif %}")
    para(block, "{%p endif %}")

    para(block, "{%p if doc.notes %}")
    caption(block, "notes", before=10)
    para(block, "{%p for note in doc.notes %}")
    para(block, "{{ note | nobreak }}", after=1)
    para(block, "{%p endfor %}")
    para(block, "{%p endif %}")

    rule = para(block, "", after=3, before=10)
    put(rule._p.get_or_add_pPr(), _el("w:pBdr"), P_PR).append(_el("w:bottom", val="single", sz=2, space=1, color=BOX))
    # a credit note invites no payment: no late-payment or discount terms on it (as the HTML)
    para(block, "{%p for m in doc.mentions if m.code not in (('credit_note_reference', 'vat_exemption', 'late_penalty', "
            "'recovery_indemnity', 'early_payment_discount', 'no_early_payment_discount') if " + CREDIT
         + " else ('credit_note_reference', 'vat_exemption')) %}")
    para(block, [("{{ m | mention | nobreak }}", {"size": 7.5, "color": GREY})], after=1)
    para(block, "{%p endfor %}")
    # the closing block moves as one: every paragraph in it keeps with the next, every row whole
    for element in list(d.element.body)[closing_starts:]:
        for p in element.iter(qn("w:p")):
            if p.pPr is None or p.pPr.find(qn("w:keepNext")) is None:
                put(p.get_or_add_pPr(), _el("w:keepNext"), P_PR)
        for tr in element.iter(qn("w:tr")):
            if tr.trPr is None or tr.trPr.find(qn("w:cantSplit")) is None:
                tr.get_or_add_trPr().append(_el("w:cantSplit"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.2.0", choices=["1.0.0", "1.2.0", "1.4.0"],
                        help="1.4.0: the designer guide's example, 1.2.0 with a terracotta accent")
    parser.add_argument("output", nargs="?", type=Path)
    args = parser.parse_args(argv)
    folder = "bundles" if args.version == "1.4.0" else "templates"
    out = args.output or ROOT / f"{folder}/classic/{args.version}/document.docx"
    if args.version == "1.0.0" and out.resolve() == (ROOT / "templates/classic/1.0.0/document.docx").resolve():
        print("classic 1.0.0 is shipped and pinned: give another output path", file=sys.stderr)
        return 2
    d, section = new_document()
    if args.version == "1.0.0":
        classic_1_0_0(d, section)
        d.save(out)
    else:
        if args.version == "1.4.0":  # bundles/classic/1.4.0: style.css's #b4441b in place of #0f3d5e
            global NAVY
            NAVY = RGBColor(0xB4, 0x44, 0x1B)
        classic_1_2_0(d, section)
        buffer = io.BytesIO()
        d.save(buffer)
        out.write_bytes(clean_package(buffer.getvalue()))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
