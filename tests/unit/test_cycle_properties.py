"""Properties of whole cycles (hypothesis): a quote, deposits, situations up to 100 %, a final invoice.

For any such cycle: the situations' works per rate add up to the quote's bases exactly,
each deposit is deducted exactly once, and everything billed equals the quote's gross.
"""
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from docsvc.billing.document import BillingError, enrich
from docsvc.schemas.payload import load_payload
from tests.conftest import quote_example

RATES = ["20", "10", "5.5"]


def previous(doc, kind):
    return {"type": kind, "number": doc.number, "issue_date": "2026-10-05",
            "net_total": str(doc.totals.net_total), "gross_total": str(doc.totals.gross_total),
            "vat": [{"rate": str(r.rate), "base": str(r.base), "amount": str(r.amount)} for r in doc.vat_breakdown]}


@st.composite
def cycles(draw):
    n_lines = draw(st.integers(min_value=1, max_value=6))
    lines = [{"id": f"L{i}", "description": f"line {i}",
              "quantity": str(draw(st.decimals(min_value=D("0.5"), max_value=D("40"), places=2))),
              "unit_price": str(draw(st.decimals(min_value=D("1.00"), max_value=D("5000"), places=2))),
              "vat_rate": draw(st.sampled_from(RATES))} for i in range(n_lines)]
    deposits = draw(st.lists(st.sampled_from(["5", "10", "12.5", "30", "33.33"]), max_size=2))
    n_situations = draw(st.integers(min_value=1, max_value=4))
    # per line, a non-decreasing sequence of cumulative percents ending at 100
    progress = []
    for _ in lines:
        steps = sorted(draw(st.lists(st.decimals(min_value=D("0"), max_value=D("100"), places=2),
                                     min_size=n_situations - 1, max_size=n_situations - 1)))
        progress.append(steps + [D("100")])
    mode = draw(st.sampled_from(["full", "progressive"]))
    return lines, deposits, progress, mode


def base_payload(doc_type, number, quote, **extra):
    raw = quote_example()
    del raw["lines"]
    raw.update({"type": doc_type, "number": number, "quote": quote, **extra})
    return raw


@settings(max_examples=60, deadline=None)
@given(cycles())
def test_a_whole_cycle_bills_the_quote_exactly_once(cycle):
    lines, deposit_percents, progress, mode = cycle
    quote = {"number": "D-1", "date": "2026-09-01", "lines": lines}
    billed = []
    deposit_docs = []
    for i, percent in enumerate(deposit_percents):
        doc = enrich(load_payload(base_payload("deposit_invoice", f"FA-{i}", quote, deposit={"percent": percent},
                                               previous_invoices=[previous(d, "deposit_invoice")
                                                                  for d in deposit_docs])))
        deposit_docs.append(doc)
        billed.append(doc)
    quote_doc = deposit_docs[0].quote if deposit_docs else None
    situations = []
    works = {}
    deducted = {}
    for k in range(len(progress[0])):
        entries = [{"line": line["id"], "percent": str(progress[j][k]),
                    "previous_percent": str(progress[j][k - 1] if k else D(0))} for j, line in enumerate(lines)]
        if all(progress[j][k] == (progress[j][k - 1] if k else 0) for j in range(len(lines))):
            continue  # a situation that bills nothing is refused; the billing system skips it
        prev = [previous(d, "deposit_invoice") for d in deposit_docs] + [
            previous(s, "progress_invoice") for s in situations]
        try:
            doc = enrich(load_payload(base_payload("progress_invoice", f"S-{k}", quote, progress=entries,
                                                   deposit_deduction=mode, previous_invoices=prev)))
        except BillingError as exc:  # progress too small to move any line by a cent
            assert "bills no work" in str(exc)
            continue
        assert doc.title_number == len(situations) + 1
        for row in doc.progress.rows:
            key = row.vat_rate.normalize()
            works[key] = works.get(key, D(0)) + row.this_amount
        for d in doc.progress.deductions:
            deducted[d.rate.normalize()] = deducted.get(d.rate.normalize(), D(0)) + d.amount
        situations.append(doc)
        billed.append(doc)
        quote_doc = doc.quote
    # the situations' works per rate add up to the quote's bases exactly
    assert works == {r.rate.normalize(): r.base for r in quote_doc.per_rate}
    # each deposit is deducted exactly once, per rate
    deposit_bases = {}
    for d in deposit_docs:
        for r in d.vat_breakdown:
            deposit_bases[r.rate.normalize()] = deposit_bases.get(r.rate.normalize(), D(0)) + r.base
    assert {k: v for k, v in deducted.items() if v or k in deposit_bases} == deposit_bases
    final = enrich(load_payload(base_payload(
        "final_invoice", "F-1", quote,
        previous_invoices=[previous(d, "deposit_invoice") for d in deposit_docs]
        + [previous(s, "progress_invoice") for s in situations])))
    billed.append(final)
    # nothing left to bill but rounding cents of VAT, and the whole cycle is the quote's gross
    assert final.totals.net_total == 0
    assert abs(final.totals.vat_total) <= D("0.01") * len(situations) * 3
    assert sum(d.totals.gross_total for d in billed) == quote_doc.gross_total
    assert sum(d.totals.vat_total for d in billed) == quote_doc.vat_total


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.decimals(min_value=D("1.00"), max_value=D("20000"), places=2),
                          st.sampled_from(RATES + ["2.1", "8.5"])), min_size=1, max_size=5),
       st.decimals(min_value=D("0.01"), max_value=D("1"), places=2), st.sampled_from(["gross", "net"]))
def test_a_fixed_deposit_is_the_amount_to_the_cent(quote_lines, share, basis):
    lines = [{"description": "x", "quantity": "1", "unit_price": str(p), "vat_rate": r} for p, r in quote_lines]
    quote = {"number": "D-1", "date": "2026-09-01", "lines": lines}
    whole = enrich(load_payload(base_payload("deposit_invoice", "FA-0", quote, deposit={"percent": "100"})))
    total = whole.totals.gross_total if basis == "gross" else whole.totals.net_total
    amount = max((total * share).quantize(D("0.01")), D("0.01"))
    try:
        doc = enrich(load_payload(base_payload("deposit_invoice", "FA-1", quote,
                                               deposit={"amount": str(amount), "basis": basis})))
    except BillingError as exc:  # e.g. 3.38 at 8.5 % alone: 3.11 + 0.26 = 3.37, 3.12 + 0.27 = 3.39
        assert basis == "gross" and "can't be billed exactly" in exc.errors["deposit.amount"][0]
        return
    figure = doc.totals.gross_total if basis == "gross" else doc.totals.net_total
    assert figure == amount
    for r in doc.vat_breakdown:  # and every VAT row is still round(base x rate) (BR-CO-17)
        assert r.amount == (r.base * r.rate / 100).quantize(D("0.01"), rounding="ROUND_HALF_UP")
