"""Properties of the billing core on random invoices (hypothesis): no crash, exact cents."""
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from docsvc.billing.document import enrich
from docsvc.schemas.payload import load_payload
from tests.conftest import quote_example

quantities = st.decimals(min_value=D("-50"), max_value=D("500"), places=4).filter(lambda q: q != 0)
prices = st.decimals(min_value=D("0"), max_value=D("99999"), places=4)
rates = st.sampled_from(["20", "10", "5.5", "2.1", "8.5"])
discounts = st.one_of(st.none(), st.builds(lambda p: {"percent": str(p)},
                                           st.decimals(min_value=D("0.01"), max_value=D("100"), places=2)))


@st.composite
def payloads(draw):
    raw = quote_example()
    raw["lines"] = []
    for _ in range(draw(st.integers(min_value=1, max_value=25))):
        line = {"description": "x", "quantity": str(draw(quantities)), "unit_price": str(draw(prices)),
                "vat_rate": draw(rates)}
        discount = draw(discounts)
        if discount:
            line["discount"] = discount
        raw["lines"].append(line)
    return raw


@settings(max_examples=200, deadline=None)
@given(payloads())
def test_totals_add_up_to_the_cent(raw):
    doc = enrich(load_payload(raw))
    cent = D("0.01")
    t = doc.totals
    for figure in (t.net_total, t.vat_total, t.gross_total, *(ln.net for ln in doc.lines)):
        assert figure == figure.quantize(cent)
    # every line lands in exactly one VAT row, and the rows carry the whole net
    assert sum(r.base for r in doc.vat_breakdown) == sum(ln.net for ln in doc.lines) == t.net_total
    assert len({(r.category, r.rate) for r in doc.vat_breakdown}) == len(doc.vat_breakdown)
    assert t.gross_total == t.net_total + t.vat_total
    assert t.amount_due == t.gross_total - t.prepaid_total - t.retention_total
    # VAT per row never differs from the exact figure by more than half a cent
    for r in doc.vat_breakdown:
        assert abs(r.amount - r.base * r.rate / 100) <= D("0.005")


@settings(max_examples=50, deadline=None)
@given(payloads(), st.randoms(use_true_random=False))
def test_line_order_does_not_change_the_figures(raw, rnd):
    before = enrich(load_payload(raw))
    rnd.shuffle(raw["lines"])
    after = enrich(load_payload(raw))
    assert after.totals == before.totals
    assert after.vat_breakdown == before.vat_breakdown
