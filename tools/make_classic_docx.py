"""Build templates/classic/1.0.0/document.docx: the DOCX twin of document.html.

Written with python-docx so every docxtpl tag sits in a single run (Word splits runs
when a designer types, which breaks tags). Run: python tools/make_classic_docx.py
"""
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT  # noqa: F401 - A4 portrait is the default orientation
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

NAVY = RGBColor(0x0F, 0x3D, 0x5E)
GREY = RGBColor(0x5B, 0x66, 0x70)
F = "labels.fields"

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "templates/classic/1.0.0/document.docx"
d = Document()
section = d.sections[0]
section.page_width, section.page_height = Mm(210), Mm(297)
section.left_margin = section.right_margin = Mm(14)
section.top_margin, section.bottom_margin = Mm(14), Mm(18)
normal = d.styles["Normal"]
normal.font.name = "Inter"
normal.font.size = Pt(8.5)
normal.paragraph_format.space_after = Pt(1)


def para(container, text="", bold=False, size=None, color=None, align=None, after=None):
    p = container.add_paragraph()
    run = p.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if color:
        run.font.color.rgb = color
    if align:
        p.alignment = align
    if after is not None:
        p.paragraph_format.space_after = Pt(after)
    return p


def cell_text(cell, text, bold=False, align=None, color=None, size=None):
    cell.text = ""
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold = bold
    if color:
        run.font.color.rgb = color
    if size:
        run.font.size = Pt(size)
    if align:
        p.alignment = align
    return p


def shade(cell, hex_color):
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_color)
    tc_pr.append(shd)


def repeat_header(row):
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def field(paragraph, instruction):
    """A Word field (PAGE, NUMPAGES) so the page count is Word's own."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == instruction:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instruction} "
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


R = WD_ALIGN_PARAGRAPH.RIGHT

# -- footer: seller identity and Page X / Y
footer = section.footer.paragraphs[0]
footer.text = ("{{ doc.seller.name }}{% if doc.seller.legal_form %} · {{ doc.seller.legal_form }}{% endif %}"
               "{% if doc.seller.share_capital is not none %} {{ " + F + ".capital }} {{ doc.seller.share_capital | money }}{% endif %}"
               "{% if doc.seller.siren %} · {{ " + F + ".siren }} {{ doc.seller.siren }}{% endif %}"
               "{% if doc.seller.registration %} · {{ doc.seller.registration }}{% endif %}"
               "{% if doc.seller.vat_id %} · {{ " + F + ".vat_id }} {{ doc.seller.vat_id }}{% endif %}")
for run in footer.runs:
    run.font.size = Pt(7)
    run.font.color.rgb = GREY
pages = section.footer.add_paragraph()
pages.alignment = R
pages.add_run("{{ " + F + ".page }} ")
field(pages, "PAGE")
pages.add_run(" / ")
field(pages, "NUMPAGES")

# -- head: seller left, title right
head = d.add_table(rows=1, cols=2)
seller, title = head.rows[0].cells
cell_text(seller, "{{ doc.seller.name }}", bold=True, size=13)
para(seller, "{% for line in doc.seller.address.lines %}{{ line }}, {% endfor %}{{ doc.seller.address.postcode }} {{ doc.seller.address.city }}")
para(seller, "{{ doc.seller.phone or '' }} {{ doc.seller.email or '' }}", color=GREY)
cell_text(title, "{{ labels.titles[doc.type] }}{% if doc.title_number %} n° {{ doc.title_number }}{% endif %}",
          bold=True, size=20, align=R, color=NAVY)
para(title, "{{ " + F + ".number }} {{ doc.number }}", bold=True, size=11, align=R)
para(title, "{{ " + F + ".issue_date }} : {{ doc.issue_date | date }}", align=R)
para(title, "{{ " + F + ".delivery_date }} : {{ (doc.delivery_date or doc.issue_date) | date }}", align=R)
para(title, "{% if doc.due_date %}{{ " + F + ".due_date }} : {{ doc.due_date | date }}{% endif %}", align=R)

para(d, "", after=6)
parties = d.add_table(rows=1, cols=2)
refs, buyer = parties.rows[0].cells
cell_text(refs, "{% if doc.corrects %}{{ labels.mentions.credit_note_reference.format(number=doc.corrects.number, "
                "issue_date=(doc.corrects.issue_date | date)) }}{% endif %}", bold=True)
para(refs, "{% if doc.quote %}{{ " + F + ".quote }} {{ " + F + ".number }} {{ doc.quote.number }} · {{ doc.quote.date | date }}{% endif %}")
para(refs, "{% if doc.order_reference %}{{ " + F + ".order_reference }} : {{ doc.order_reference }}{% endif %}")
para(refs, "{% if doc.buyer_reference %}{{ " + F + ".buyer_reference }} : {{ doc.buyer_reference }}{% endif %}")
para(refs, "{% if doc.buyer.delivery_address %}{{ " + F + ".delivery_address }} : {% for line in doc.buyer.delivery_address.lines %}"
           "{{ line }}, {% endfor %}{{ doc.buyer.delivery_address.postcode }} {{ doc.buyer.delivery_address.city }}{% endif %}")
cell_text(buyer, "{{ " + F + ".client }}", bold=True, color=GREY, size=7)
para(buyer, "{{ doc.buyer.name }}", bold=True, size=10.5)
para(buyer, "{% for line in doc.buyer.address.lines %}{{ line }}, {% endfor %}{{ doc.buyer.address.postcode }} {{ doc.buyer.address.city }}")
para(buyer, "{% if doc.buyer.siren %}{{ " + F + ".siren }} {{ doc.buyer.siren }}{% endif %}"
            "{% if doc.buyer.vat_id %} · {{ " + F + ".vat_id }} {{ doc.buyer.vat_id }}{% endif %}", color=GREY)
para(d, "", after=6)


def table(headers, cells, loop, caption=None, widths=None):
    if caption:
        para(d, caption, bold=True, color=GREY, size=7, after=2)
    t = d.add_table(rows=3, cols=len(headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, h in enumerate(headers):
        c = t.rows[0].cells[i]
        cell_text(c, h, bold=True, color=RGBColor(0xFF, 0xFF, 0xFF), size=7.5, align=R if i else None)
        shade(c, "0F3D5E")
    repeat_header(t.rows[0])
    t.rows[1].cells[0].text = "{%tr " + loop + " %}"
    for i, text in enumerate(cells):
        cell_text(t.rows[2].cells[i], text, align=R if i else None)
    # the closing tag needs its own row after the repeated one
    end = t.add_row()
    end.cells[0].text = "{%tr endfor %}"
    if widths:
        for row in t.rows:
            for c, w in zip(row.cells, widths):
                c.width = Mm(w)
    return t


LINE_CELLS = ["{{ line.description }}", "{{ line.quantity | quantity }}", "{{ line.unit | unit }}",
              "{{ line.unit_price | money }}",
              "{% if line.discount_percent %}{{ line.discount_percent | percent }}{% elif line.discount_amount %}"
              "{{ line.discount_amount | money }}{% endif %}",
              "{% if line.vat_category == 'S' %}{{ line.vat_rate | percent }}{% else %}{{ line.vat_category }}{% endif %}",
              "{{ line.net | money }}"]
LINE_HEADERS = ["{{ " + F + f".{k} }}}}" for k in ("description", "quantity", "unit", "unit_price", "discount", "vat_rate", "net")]

# progress invoices: the progress table, deductions and recap; others: the lines
para(d, "{%p if doc.type == 'progress_invoice' %}")
table(["{{ " + F + f".{k} }}}}" for k in ("description", "vat_rate", "quote_amount", "previous_percent",
                                          "cumulative_percent", "cumulative_amount", "previous_amount", "this_amount")],
      ["{{ row.description }}", "{{ row.vat_rate | percent }}", "{{ row.quote_amount | money }}",
       "{{ row.previous_percent | percent }}", "{{ row.cumulative_percent | percent }}",
       "{{ row.cumulative_amount | money }}", "{{ row.previous_amount | money }}", "{{ row.this_amount | money }}"],
      "for row in doc.progress.rows", "{{ " + F + ".progress_table }}", [58, 14, 22, 16, 16, 22, 22, 22])
table(["{{ " + F + f".{k} }}}}" for k in ("vat_rate", "deposit_base", "previously_deducted", "deducted_now", "remaining")],
      ["{{ d.rate | percent }}", "{{ d.deposit_base | money }}", "{{ d.previously_deducted | money }}",
       "{{ d.amount | money }}", "{{ d.remaining | money }}"], "for d in doc.progress.deductions",
      "{{ " + F + ".deductions }}")
para(d, "{{ " + F + ".recap }}", bold=True, color=GREY, size=7, after=2)
para(d, "{{ " + F + ".contract_net }} : {{ doc.progress.contract_net | money }}")
para(d, "{{ " + F + ".cumulative_works }} : {{ doc.progress.cumulative_works | money }}")
para(d, "{{ " + F + ".previous_works }} : {{ doc.progress.previous_works | money }}{% for ps in doc.progress.previous_situations %}"
        " · {{ ps.number }} ({{ ps.issue_date | short_date }}){% endfor %}")
para(d, "{{ " + F + ".this_works }} : {{ doc.progress.this_works | money }}", bold=True)
para(d, "{%p else %}")
para(d, "{%p if doc.type == 'deposit_invoice' and doc.deposit_layout == 'detailed' %}")
table(LINE_HEADERS, [c.replace("line.", "line.") for c in LINE_CELLS], "for line in doc.quote.lines",
      "{{ " + F + ".quote_recap }}", [78, 12, 12, 22, 16, 14, 26])
para(d, "{%p endif %}")
table(LINE_HEADERS, LINE_CELLS, "for line in doc.lines", None, [78, 12, 12, 22, 16, 14, 26])
para(d, "{%p endif %}")

# final invoices: every earlier invoice, then what remains per rate
para(d, "{%p if doc.type == 'final_invoice' %}")
table(["{{ " + F + ".invoice_number }}", "{{ " + F + ".date }}", "{{ " + F + ".net }}", "{{ " + F + ".vat }}",
       "{{ " + F + ".gross }}"],
      ["{{ prev.number }}", "{{ prev.issue_date | short_date }}", "{{ prev.net_total | money }}",
       "{% for v in prev.vat %}{{ v.amount | money }} ({{ v.rate | percent }}) {% endfor %}", "{{ prev.gross_total | money }}"],
      "for prev in doc.final.previous", "{{ " + F + ".final_recap }}")
para(d, "{%p endif %}")

# VAT breakdown and totals
para(d, "", after=4)
table(["{{ " + F + ".rate }}", "{{ " + F + ".base }}", "{{ " + F + ".vat_amount }}"],
      ["{% if row.category == 'S' %}{{ row.rate | percent }}{% else %}{{ row.category }}{% endif %}",
       "{{ row.base | money }}", "{{ row.amount | money }}"], "for row in doc.vat_breakdown",
      "{{ " + F + ".vat_breakdown }}")
totals = d.add_table(rows=0, cols=2)
totals.alignment = WD_TABLE_ALIGNMENT.RIGHT
for label, value, bold in (
        ("net_total", "{{ doc.totals.net_total | money }}", False),
        ("vat_total", "{{ doc.totals.vat_total | money }}", False),
        ("gross_total", "{{ doc.totals.gross_total | money }}", True)):
    row = totals.add_row()
    cell_text(row.cells[0], "{{ " + F + f".{label} }}}}", bold=bold)
    cell_text(row.cells[1], value, bold=bold, align=R)
for condition, label, value in (
        ("doc.totals.retention_total", "retention", "− {{ doc.totals.retention_total | money }}"),
        ("doc.totals.prepaid_total", "prepaid", "− {{ doc.totals.prepaid_total | money }}")):
    row = totals.add_row()
    row.cells[0].text = "{%tr if " + condition + " %}"
    row = totals.add_row()
    cell_text(row.cells[0], "{{ " + F + f".{label} }}}}")
    cell_text(row.cells[1], value, align=R)
    row = totals.add_row()
    row.cells[0].text = "{%tr endif %}"
row = totals.add_row()
cell_text(row.cells[0], "{{ " + F + ".amount_to_refund if doc.type == 'credit_note' else " + F + ".amount_due }}",
          bold=True, size=11, color=RGBColor(0xFF, 0xFF, 0xFF))
cell_text(row.cells[1], "{{ doc.totals.amount_due | money }}", bold=True, size=11, align=R,
          color=RGBColor(0xFF, 0xFF, 0xFF))
for c in row.cells:
    shade(c, "0F3D5E")
para(d, "{% if doc.payment_status == 'paid' and doc.type != 'credit_note' %}{{ " + F + ".paid_stamp | upper }}{% endif %}",
     bold=True, size=14, color=RGBColor(0x1E, 0x7D, 0x32), align=R)

# payment, schedule, notes, mentions
para(d, "{{ " + F + ".payment }}", bold=True, color=GREY, size=7, after=2)
para(d, "{% if doc.due_date %}{{ " + F + ".due_date }} : {{ doc.due_date | date }}{% endif %}"
        "{% if doc.payment.means %} · {{ " + F + ".means }} : {{ labels.means[doc.payment.means] }}{% endif %}")
para(d, "{% if doc.payment.iban %}{{ " + F + ".iban }} {{ doc.payment.iban }}{% if doc.payment.bic %} · "
        "{{ " + F + ".bic }} {{ doc.payment.bic }}{% endif %}{% endif %}")
para(d, "{% if doc.payments %}{{ " + F + ".payments_received }} : {% for p in doc.payments %}{{ p.date | short_date }} "
        "{{ p.amount | money }} {% endfor %}— {{ labels.status[doc.payment_status] }}{% endif %}")
para(d, "{%p if doc.schedule %}")
table(["{{ " + F + ".installment }}", "{{ " + F + ".due_date }}", "{{ " + F + ".total }}"],
      ["{{ " + F + ".retention_installment if i.kind == 'retention' else i.number }}", "{{ i.due_date | date }}",
       "{{ i.amount | money }}"], "for i in doc.schedule", "{{ " + F + ".schedule }}")
para(d, "{%p endif %}")
para(d, "{%p if doc.retention %}")
para(d, "{{ " + F + ".retention }} : {{ doc.retention.amount | money }} · {{ " + F + ".retention_cumulative }} "
        "{{ doc.retention.cumulative | money }}{% if doc.retention.release_date %}, {{ " + F + ".release_date }} "
        "{{ doc.retention.release_date | date }}{% endif %}")
para(d, "{%p endif %}")
para(d, "{%p for note in doc.notes %}")
para(d, "{{ note }}")
para(d, "{%p endfor %}")
para(d, "{%p for m in doc.mentions %}")
para(d, "{% if m.code != 'credit_note_reference' %}{{ m | mention }}{% endif %}", size=7, color=GREY)
para(d, "{%p endfor %}")
d.core_properties.author = "docsvc classic 1.0.0"
d.core_properties.title = "Invoice"
d.save(out)
print(f"wrote {out}")
