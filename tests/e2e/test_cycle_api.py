"""The whole acompte / situation / solde story through the API, checked against the archive."""
import json
from decimal import Decimal as D

from tests.conftest import DEPOSIT_30, FIXTURES, cycle_payload, load_fixture
from tests.cycle_figures import CYCLE
from tests.e2e.test_api import post
from tests.originals import pdf_text, plain_spaces

STORY = json.loads((FIXTURES / "cycle.json").read_text())


def test_the_story_issues_in_order_and_adds_up(client):
    issued = {}
    for name in STORY:
        r = post(client, load_fixture(name))
        assert r.status_code == 201, (name, r.json)
        issued[name] = r.json
    # each document's figures as worked out by hand in tests/cycle_figures.py
    for name, expected in CYCLE.items():
        totals = issued[name]["totals"]
        assert {v["rate"]: (D(v["base"]), D(v["amount"])) for v in totals["vat_breakdown"]} == expected.vat, name
        assert tuple(D(totals[k]) for k in ("net_total", "vat_total", "gross_total", "retention_total",
                                            "amount_due")) == (
            expected.net, expected.vat_total, expected.gross, expected.retention, expected.amount_due), name
        progress = issued[name]["document"]["progress"]
        assert ({d["rate"]: D(d["amount"]) for d in progress["deductions"]} if progress else {}) == (
            expected.deducted), name
    # the quote D-2026-0098: 10 %: 2850.00 + 64 x 58.00 (3712.00) + 48 x 96.50 (4632.00) + 4620.00
    #   + 210 x 21.00 (4410.00) = 20224.00 -> VAT 2022.40
    # 5.5 %: 72 x 64.00 (4608.00) + 9800.00 - 5 % (9310.00) = 13918.00 -> VAT 765.49 (765.49)
    # 20 %: 6400.00 -> VAT 1280.00;  net 40542.00, VAT 4067.89, gross 44609.89
    quote = issued["deposit_invoice"]["document"]["quote"]
    assert (quote["net_total"], quote["vat_total"], quote["gross_total"]) == ("40542.00", "4067.89", "44609.89")
    # the 30 % deposit: 20224.00 x 30 % = 6067.20 (VAT 606.72), 13918.00 x 30 % = 4175.40 (VAT 229.647 -> 229.65),
    # 6400.00 x 30 % = 1920.00 (VAT 384.00) -> gross 6673.92 + 4405.05 + 2304.00 = 13382.97
    assert issued["deposit_invoice"]["totals"]["gross_total"] == "13382.97"
    assert issued["deposit_invoice_2"]["totals"]["gross_total"] == "5000.00"
    sign = {n: -1 if n == "credit_note_progress" else 1 for n in STORY}
    billed_gross = sum(sign[n] * D(issued[n]["totals"]["gross_total"]) for n in STORY)
    billed_vat = sum(sign[n] * D(issued[n]["totals"]["vat_total"]) for n in STORY)
    # the credit note A-2026-0011 takes 20 x 21.00 = 420.00 + 42.00 VAT off situation 2, and the final
    # invoice, which lists it, bills it again: the whole cycle, credit note netted, bills exactly the quote:
    # 44609.89 gross, of which 4067.89 VAT
    assert D(issued["credit_note_progress"]["totals"]["gross_total"]) == D("462.00")
    assert (billed_gross, billed_vat) == (D("44609.89"), D("4067.89"))
    final_doc = issued["final_invoice"]["document"]
    assert [c["number"] for c in final_doc["final"]["credit_notes"]] == ["A-2026-0011"]
    assert [c["number"] for c in issued["progress_invoice_3"]["document"]["progress"]["credit_notes"]] == [
        "A-2026-0011"]
    # retention 5 % of the works incl. VAT, telescoping: at situation 3 the cumulative works are
    # 10 %: 19783.00 + 1978.30; 5.5 %: 13918.00 + 765.49; 20 %: 3200.00 + 640.00 = 40284.79 -> 5 % = 2014.2395
    # -> 2014.24 withheld over the three situations, still owed on the final invoice at 18/12/2027
    assert final_doc["final"]["retention_total"] == "2014.24"
    assert final_doc["final"]["retention_release_date"] == "2027-12-18"
    assert [r["number"] for r in final_doc["final"]["retentions"]] == ["F-2026-0120", "F-2026-0131", "F-2026-0140"]
    # with a schedule the due date is the first instalment's (31/01/2027), not issue date + 30 days
    assert issued["progress_invoice_3"]["document"]["due_date"] == "2027-01-31"
    s1 = issued["progress_invoice_1"]["document"]
    assert s1["title_number"] == 1 and s1["progress"]["situation_number"] == 1
    assert issued["progress_invoice_3"]["document"]["progress"]["situation_number"] == 3
    # every deposit deducted exactly once over the three situations, per rate
    deducted = {}
    for n in ("progress_invoice_1", "progress_invoice_2", "progress_invoice_3"):
        for d in issued[n]["document"]["progress"]["deductions"]:
            deducted[d["rate"]] = deducted.get(d["rate"], D(0)) + D(d["amount"])
    deposits = {}
    for n in ("deposit_invoice", "deposit_invoice_2"):
        for v in issued[n]["totals"]["vat_breakdown"]:
            deposits[v["rate"]] = deposits.get(v["rate"], D(0)) + D(v["base"])
    # deposits per rate (each split in tests/cycle_figures.py): 10 %: 6067.20 + 2266.76 = 8333.96;
    # 20 %: 1920.00 + 717.33 = 2637.33;
    # 5.5 %: 4175.40 + 1559.96 = 5735.36
    assert deposits == {"10.00": D("8333.96"), "20.00": D("2637.33"), "5.50": D("5735.36")}
    # progressive deduction telescopes: after situation 3, round(D x cumulative works / quote) per rate.
    # 5.5 % works are complete: 5735.36 deducted in full.
    # 10 %: works 2850 + 3712 + 4632 + 4620 + 90 % x 4410 (3969.00) = 19783.00 of 20224.00:
    #       8333.96 x 19783 / 20224 = 8152.2326.. -> 8152.23
    # 20 %: the kitchen at 50 %: 2637.33 x 3200 / 6400 = 1318.665 -> 1318.67
    assert deducted == {"10.00": D("8152.23"), "20.00": D("1318.67"), "5.50": D("5735.36")}
    final = issued["final_invoice"]["document"]["final"]
    assert [p["number"] for p in final["previous"]] == [
        "FA-2026-0101", "FA-2026-0105", "F-2026-0120", "F-2026-0131", "F-2026-0140"]
    text = pdf_text(client.get(issued["final_invoice"]["files"][0]["url"]).data, layout=True, clean=plain_spaces)
    assert "D-2026-0098" in text and "FA-2026-0101" in text


def test_a_previous_invoice_that_disagrees_with_the_archive_is_refused(client):
    deposit = cycle_payload("deposit_invoice", "FA-2026-0010", deposit={"percent": "30"})
    assert post(client, deposit).status_code == 201
    wrong = dict(DEPOSIT_30, gross_total="1605.95", vat=[dict(DEPOSIT_30["vat"][0]),
                                                          dict(DEPOSIT_30["vat"][1], amount="99.95")])
    final = cycle_payload("final_invoice", "F-2026-0050", previous_invoices=[wrong])
    r = post(client, final)
    assert r.status_code == 422
    assert "FA-2026-0010 differs from its archived original" in r.json["errors"]["previous_invoices.0"][0]
    other_quote = cycle_payload("final_invoice", "F-2026-0051", previous_invoices=[DEPOSIT_30])
    other_quote["quote"] = dict(other_quote["quote"], number="D-2026-0999")
    r = post(client, other_quote)
    assert r.status_code == 422
    assert r.json["errors"]["previous_invoices.0.number"] == [
        "FA-2026-0010 was issued on quote D-2026-0007, not D-2026-0999."]
    ok = post(client, cycle_payload("final_invoice", "F-2026-0052", previous_invoices=[DEPOSIT_30]))
    # remaining 3300.50 net + 446.60 VAT = 3747.10 (DOMAIN.md)
    assert ok.status_code == 201 and ok.json["totals"]["amount_due"] == "3747.10"


def test_deposit_total_over_the_quote_is_422(client):
    big = dict(DEPOSIT_30, number="FA-0", net_total="4000.00", gross_total="4550.00",
               vat=[{"rate": "10", "base": "2500.00", "amount": "250.00"},
                    {"rate": "20", "base": "1500.00", "amount": "300.00"}])
    r = post(client, cycle_payload("deposit_invoice", "FA-1", deposit={"percent": "30"}, previous_invoices=[big]))
    assert r.status_code == 422 and "deposit" in r.json["errors"]


def test_a_final_invoice_nets_an_archived_credit_note_on_the_deposit(client):
    assert post(client, cycle_payload("deposit_invoice", "FA-2026-0070", deposit={"percent": "30"})).status_code == 201
    credit = cycle_payload("credit_note", "A-2026-0070", issue_date="2026-10-20",
                           corrects={"number": "FA-2026-0070", "issue_date": "2026-10-05", "type": "deposit_invoice"})
    del credit["quote"]
    credit["lines"] = [{"description": "Acompte trop perçu", "quantity": "1", "unit_price": "100.00", "vat_rate": "10"}]
    assert post(client, credit).status_code == 201
    deposit = dict(DEPOSIT_30, number="FA-2026-0070")
    stated = {"type": "credit_note", "number": "A-2026-0070", "issue_date": "2026-10-20",
              "corrects": {"number": "FA-2026-0070", "issue_date": "2026-10-05"},
              "net_total": "100.00", "gross_total": "110.00",
              "vat": [{"rate": "10", "base": "100.00", "amount": "10.00"}]}
    wrong = dict(stated, corrects={"number": "FA-2026-0071", "issue_date": "2026-10-05"})
    r = post(client, cycle_payload("final_invoice", "F-2026-0071", issue_date="2026-10-25", previous_invoices=[
        deposit, dict(deposit, number="FA-2026-0071"), wrong]))
    assert r.status_code == 422 and "A-2026-0070 corrects FA-2026-0070" in r.json["errors"][
        "previous_invoices.2.corrects.number"][0]
    r = post(client, cycle_payload("final_invoice", "F-2026-0072", issue_date="2026-10-25",
                                   previous_invoices=[deposit, stated]))
    # remaining 10 %: 3050.00 - (915.00 - 100.00) = 2235.00 + VAT 305.00 - 81.50 = 223.50;
    # 20 %: 1165.50 + 233.10; due 2235.00 + 223.50 + 1165.50 + 233.10 = 3857.10
    assert r.status_code == 201, r.json
    assert r.json["totals"]["amount_due"] == "3857.10"
    final = r.json["document"]["final"]
    assert [c["number"] for c in final["credit_notes"]] == ["A-2026-0070"]
    assert final["credit_notes"][0]["corrects"]["number"] == "FA-2026-0070"


def test_terms_contradicting_the_schedule_are_422_naming_both_and_nothing_is_archived(client, archived):
    raw = cycle_payload("final_invoice", "F-2026-0090", previous_invoices=[DEPOSIT_30],
                        schedule={"installments": 2, "first_due_date": "2026-11-30"})
    # the payload keeps payment.terms_days 30: 2026-10-05 + 30 days = 2026-11-04, not 2026-11-30
    before = archived()
    for path in ("/v1/documents", "/v1/documents/validate"):
        r = post(client, raw, path)
        assert r.status_code == 422, r.json
        assert {"payment.terms_days", "schedule.first_due_date"} <= set(r.json["errors"])
    assert archived() == before
    del raw["payment"]["terms_days"]
    r = post(client, raw)
    assert r.status_code == 201 and r.json["document"]["due_date"] == "2026-11-30"
    assert r.json["document"]["due_date_source"] == "schedule"


def _issue_first(client, *names):
    for name in names:
        r = post(client, load_fixture(name))
        assert r.status_code == 201, (name, r.json)


def test_a_situation_starts_where_the_archived_one_left_each_line(client, archived):
    """Situation 1 (F-2026-0120) left line 2 at 60 %. Situation 2 stating 0 % before would bill
    that 60 % again: refused, naming the entry; and line 2 left out of progress entirely too."""
    _issue_first(client, "deposit_invoice", "deposit_invoice_2", "progress_invoice_1")
    before = archived()
    raw = load_fixture("progress_invoice_2")
    for previous in raw["previous_invoices"]:  # what situation 1 withheld is read from the archive
        previous.pop("retention", None)
    entry = next(k for k, e in enumerate(raw["progress"]) if e["line"] == "2")
    raw["progress"][entry]["previous_percent"] = "0"
    r = post(client, raw)
    assert r.status_code == 422, r.json
    [message] = r.json["errors"][f"progress.{entry}.previous_percent"]
    assert message.startswith("Line 2 stood at 60.00 % (") and "after F-2026-0120, not 0.00 % (0.00)" in message
    del raw["progress"][entry]
    r = post(client, raw)
    assert r.status_code == 422 and "Line 2 stood at 60.00 %" in r.json["errors"]["progress"][0]
    assert archived() == before


def test_a_situation_keeps_the_deduction_mode_of_the_archived_ones(client, archived):
    _issue_first(client, "deposit_invoice", "deposit_invoice_2", "progress_invoice_1")
    raw = load_fixture("progress_invoice_2")
    raw["deposit_deduction"] = "full"  # situation 1 deducted the deposits progressively
    r = post(client, raw)
    assert r.status_code == 422
    assert r.json["errors"] == {"deposit_deduction": [
        "F-2026-0120 deducted the deposits progressive: a cycle keeps one mode, or the deposits are deducted "
        "twice or never."]}


def test_the_quote_of_a_cycle_is_the_one_its_archived_documents_were_issued_on(client):
    _issue_first(client, "deposit_invoice")
    raw = load_fixture("deposit_invoice_2")
    raw["quote"]["lines"][0]["unit_price"] = str(D(raw["quote"]["lines"][0]["unit_price"]) + 1)  # 1.00 more, at 10 %
    r = post(client, raw)
    assert r.status_code == 422
    # the deposit FA-2026-0101 was issued on D-2026-0098: net 40542.00, VAT 4067.89, gross 44609.89
    # (tests/e2e/test_cycle_api.py above); one line 1.00 dearer at 10 %: 40543.00, 4067.99, 44610.99
    assert r.json["errors"] == {"quote": [
        "Quote D-2026-0098 is the one FA-2026-0101 was issued on: net_total 40542.00, vat_total 4067.89, "
        "gross_total 44609.89 (here 40543.00, 4067.99, 44610.99). Another contract is another quote number."]}


def test_no_deposit_after_the_situations_began(client):
    _issue_first(client, "deposit_invoice", "deposit_invoice_2", "progress_invoice_1")
    raw = load_fixture("deposit_invoice_2")
    raw.update(number="FA-2026-0106", issue_date="2026-11-05",
               previous_invoices=[p for p in load_fixture("progress_invoice_1")["previous_invoices"]])
    r = post(client, raw)
    assert r.status_code == 422
    assert r.json["errors"]["deposit"][0].startswith("Quote D-2026-0098 already has the situation F-2026-0120")


def test_a_credit_note_listed_on_an_archived_invoice_must_have_been_issued_here(client, archived):
    """A billing review: a final invoice netted a made-up credit note (3 000 €) on an archived
    situation and billed it again. Situation 1 (F-2026-0120) is archived here, so a credit note on
    it would be too: A-2026-0999, listed by situation 2, was never issued."""
    _issue_first(client, "deposit_invoice", "deposit_invoice_2", "progress_invoice_1")
    before = archived()
    raw = load_fixture("progress_invoice_2")
    raw["previous_invoices"].append({
        "type": "credit_note", "number": "A-2026-0999", "issue_date": "2026-11-05", "net_total": "100.00",
        "gross_total": "110.00", "vat": [{"rate": "10", "base": "100.00", "amount": "10.00"}],
        "corrects": {"number": "F-2026-0120", "issue_date": "2026-10-31", "type": "progress_invoice"}})
    r = post(client, raw)
    assert r.status_code == 422, r.json
    assert r.json["errors"] == {"previous_invoices.3.number": [
        "A-2026-0999 is listed as a credit note on F-2026-0120, which this archive holds, but no such credit note "
        "was issued here: list the credit notes issued on it."]}
    assert archived() == before
