"""What would be wrong forever is refused before anything is archived (issue 11): VAT rates
not in force, a mandatory mention missing on any type, text the template can't draw,
settings that lie, double billing across a quote's cycle, identifiers that fail their check.

Each refusal: 422 problem+json naming the JSON path, and the archive exactly as it was,
audit trail and quote index included.
"""
import copy
import json
import shutil
import subprocess

import pytest

from docsvc.app import create_app
from docsvc.settings import Settings
from tests.conftest import ROOT, cycle_payload, franchise_invoice, load_fixture, quote_example
from tests.e2e.conftest import DOCSVC
from tests.e2e.test_api import post
from tests.originals import pdf_text, plain_spaces


@pytest.fixture
def everything(archive_dir):
    """Every file of the archive (originals, resources, quote index, audit trail, keys)."""
    def snapshot():
        if not archive_dir.exists():
            return {}
        return {p.relative_to(archive_dir).as_posix(): p.read_bytes()
                for p in archive_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts}
    return snapshot


def refused(client, payload, everything, path="/v1/documents"):
    """POST, expect a 422 and an archive left exactly as it was; returns the problem's errors."""
    before = everything()
    r = post(client, payload, path)
    assert r.status_code == 422, r.json
    assert r.content_type == "application/problem+json"
    assert everything() == before
    return r.json["errors"]


# ---------------------------------------------------------------- 1. VAT rates


def test_a_document_dated_after_today_is_refused(client, everything):
    """A billing review archived an invoice dated 2031-01-15, for good."""
    from datetime import date, timedelta

    payload = load_fixture("invoice")
    later = date.today() + timedelta(days=3)  # past today in France (UTC+1/+2) and the day after
    payload.update(issue_date=later.isoformat(), due_date=(later + timedelta(days=30)).isoformat())
    payload["payment"].pop("terms_days", None)
    errors = refused(client, payload, everything)
    assert list(errors) == ["issue_date"]
    assert errors["issue_date"][0].startswith(f"{later.isoformat()} is in the future")


def test_a_factur_x_names_its_seller_for_vat(client, everything):
    """A seller in franchise en base issues a Factur-X once it gives its BT-32; without, the 422
    names seller.tax_registration_id, not the schematron's BR-E-02 alone."""
    errors = refused(client, franchise_invoice(), everything)
    assert list(errors) == ["seller.tax_registration_id"] and "(BR-E-02)" in errors["seller.tax_registration_id"][0]
    r = post(client, franchise_invoice(tax_registration_id="1234567890123"))
    assert r.status_code == 201, r.json
    # 380.00 exempt, no VAT: 380.00 due
    assert r.json["totals"]["amount_due"] == "380.00"
    assert r.json["document"]["seller"]["tax_registration_id"] == "1234567890123"


def test_a_number_out_of_order_with_its_date_is_refused(client, everything):
    """A billing review issued F-2026-0140 of 18 December and F-2026-0142 of 20 November, in that
    order: the numbers of a series follow the dates. Refused either way round; the same day passes."""
    invoice = load_fixture("invoice")  # F-2026-0125 of 2026-11-20
    invoice["payments"] = []
    assert post(client, invoice).status_code == 201
    lower_later = dict(invoice, number="F-2026-0124", issue_date="2026-11-21")
    assert refused(client, lower_later, everything) == {"number": [
        "F-2026-0124 of 2026-11-21 is out of order in this seller's series F-2026-…: F-2026-0125 of 2026-11-20. "
        "Numbers follow their dates (CGI, annexe II, art. 242 nonies A): a new document takes the next number."]}
    higher_earlier = dict(invoice, number="F-2026-0126", issue_date="2026-11-19", delivery_date="2026-11-13")
    assert list(refused(client, higher_earlier, everything)) == ["number"]
    assert post(client, dict(invoice, number="F-2026-0126")).status_code == 201  # the same day
    apart = dict(invoice, number="FA-2026-0001", issue_date="2026-11-02")  # a series of its own
    assert post(client, apart).status_code == 201


def test_a_rate_of_the_past_is_refused_with_the_rates_in_force(client, everything):
    raw = quote_example()  # seller in Lyon (69007), issued 2026-10-01
    raw["lines"][1]["vat_rate"] = "19.6"
    errors = refused(client, raw, everything)
    message = errors["lines.1.vat_rate"][0]
    assert "19.6 % is not a VAT rate in force in France (metropolitan) and Monaco on 2026-10-01" in message
    assert "use one of 20, 10, 5.5, 2.1" in message and "19.6 % applied until 2013-12-31" in message
    assert "CGI art. 278" in message
    assert list(errors) == ["lines.1.vat_rate"]
    # in 2013 it was the rate in force, and 10 % was not yet (7 %): checked on the issue date
    raw["issue_date"] = "2013-06-03"
    assert set(refused(client, raw, everything, "/v1/documents/validate")) == {"lines.0.vat_rate", "lines.2.vat_rate"}
    raw["lines"][0]["vat_rate"] = raw["lines"][2]["vat_rate"] = "7"
    assert post(client, raw, "/v1/documents/validate").status_code == 200


def test_a_credit_note_reverses_vat_at_the_rates_of_the_invoice_it_corrects(client, everything):
    raw = load_fixture("credit_note")
    raw["lines"] = [dict(raw["lines"][0], vat_rate="19.6", vat_category="S")]
    raw["corrects"] = dict(raw["corrects"], issue_date="2013-11-15")
    assert post(client, raw, "/v1/documents/validate").status_code == 200
    raw["corrects"]["issue_date"] = "2014-01-15"
    assert "19.6 % applied until 2013-12-31" in refused(client, raw, everything)["lines.0.vat_rate"][0]


def test_a_fraction_instead_of_a_percent_suggests_the_percent(client, everything):
    raw = quote_example()
    raw["lines"][0]["vat_rate"] = "0.2"
    message = refused(client, raw, everything)["lines.0.vat_rate"][0]
    assert "did you mean 20 (not the fraction 0.2)?" in message


@pytest.mark.parametrize("postcode, good, bad, listed", [
    ("20000", "13", "8.5", "20, 13, 10, 5.5, 2.1, 0.9"),        # Ajaccio (2A): Corsica, CGI art. 297
    ("20600", "0.9", "19.6", "20, 13, 10, 5.5, 2.1, 0.9"),      # Bastia (2B)
    ("97110", "8.5", "20", "8.5, 2.1, 1.75, 1.05"),             # Guadeloupe, CGI art. 296
    ("97400", "1.75", "5.5", "8.5, 2.1, 1.75, 1.05"),           # La Réunion
])
def test_territories_have_their_own_rates(client, everything, postcode, good, bad, listed):
    raw = quote_example()
    for party in ("seller", "buyer"):
        raw[party]["address"] = dict(raw[party]["address"], postcode=postcode)
    for line in raw["lines"]:
        line["vat_rate"] = good
    assert post(client, raw, "/v1/documents/validate").status_code == 200
    raw["lines"][0]["vat_rate"] = bad
    assert f"use one of {listed}" in refused(client, raw, everything)["lines.0.vat_rate"][0]


def test_no_vat_in_guyane_and_corsican_works_of_a_lyon_firm(client, everything):
    raw = quote_example()
    for party in ("seller", "buyer"):
        raw[party]["address"] = dict(raw[party]["address"], postcode="97300", city="Cayenne")
    message = refused(client, raw, everything)["lines.0.vat_rate"][0]
    assert "No VAT is charged in Guyane and Mayotte (CGI art. 294-1" in message
    # a Lyon firm's works on a house in Ajaccio bear Corsica's rates (13 % is not a mainland rate)
    raw = quote_example()
    raw["lines"][0]["vat_rate"] = "13"
    assert "lines.0.vat_rate" in refused(client, raw, everything)
    raw["buyer"]["delivery_address"] = {"lines": ["2 cours Napoléon"], "postcode": "20000", "city": "Ajaccio"}
    assert post(client, raw, "/v1/documents/validate").status_code == 200


def test_other_countries_a_table_where_there_is_one_else_0_to_100(client, everything):
    raw = quote_example()
    raw["seller"].update(address={"lines": ["Unter den Linden 1"], "postcode": "10117", "city": "Berlin",
                                  "country": "DE"}, vat_id="DE136695976")
    raw["lines"][0]["vat_rate"] = "7"
    raw["lines"][1]["vat_rate"] = "19"
    raw["lines"][2]["vat_rate"] = "19"
    assert post(client, raw, "/v1/documents/validate").status_code == 200
    raw["lines"][2]["vat_rate"] = "20"
    assert "use one of 19, 7" in refused(client, raw, everything)["lines.2.vat_rate"][0]
    raw["seller"].update(address={"lines": ["1 Main St"], "postcode": "10001", "city": "New York",
                                  "country": "US"}, vat_id="US123456789")
    raw["lines"][2]["vat_rate"] = "7.25"
    assert post(client, raw, "/v1/documents/validate").status_code == 200


def test_a_deposit_is_checked_on_the_quote_lines_it_bills(client, everything):
    raw = cycle_payload("deposit_invoice", "FA-2026-0900", deposit={"percent": "30"})
    raw["quote"] = copy.deepcopy(raw["quote"])
    raw["quote"]["lines"][1]["vat_rate"] = "19.6"
    assert "quote.lines.1.vat_rate" in refused(client, raw, everything)


# ---------------------------------------------------------------- 2. mentions on every type


@pytest.mark.parametrize("doc_type, extra", [
    ("deposit_invoice", {"deposit": {"percent": "30"}}),
    ("progress_invoice", {"progress": [{"line": "L1", "percent": "40"}]}),
    ("final_invoice", {}),
])
def test_a_cycle_document_charging_vat_needs_the_sellers_vat_number(client, everything, doc_type, extra):
    raw = cycle_payload(doc_type, "F-2026-0901", **extra)
    del raw["seller"]["vat_id"]
    errors = refused(client, raw, everything)
    assert errors["seller.vat_id"] == ["The seller's intra-EU VAT number is mandatory when VAT is charged."]


def test_a_franchise_seller_deposit_needs_no_vat_number(client):
    raw = cycle_payload("deposit_invoice", "FA-2026-0902", deposit={"percent": "30"})
    del raw["seller"]["vat_id"]
    raw["quote"] = copy.deepcopy(raw["quote"])
    for line in raw["quote"]["lines"]:
        line.update(vat_rate="0", vat_category="E", vat_exemption_reason="TVA non applicable, art. 293 B du CGI")
    r = post(client, raw, "/v1/documents/validate")
    # 30 % of the quote's 4715.00 net, no VAT: 1414.50
    assert r.status_code == 200, r.json
    assert r.json["totals"]["gross_total"] == "1414.50"


# ---------------------------------------------------------------- 3. text the template can't draw


def test_a_right_to_left_override_in_a_name_is_refused(client, everything):
    raw = quote_example()
    raw["seller"]["name"] = "Atelier \u202eDurand"
    errors = refused(client, raw, everything)
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in errors["seller.name"][0]
    raw = quote_example()
    raw["buyer"]["address"] = dict(raw["buyer"]["address"], city="Lyon\u2066")
    raw["lines"][0]["unit_price"] = "24\u200f00.00"
    raw["payment"]["iban"] = "FR76\u202d30006000011234567890189"
    errors = refused(client, raw, everything)
    assert "U+2066 LEFT-TO-RIGHT ISOLATE" in errors["buyer.address.city"][0]
    assert errors["lines.0.unit_price"] and errors["payment.iban"]


def test_characters_outside_the_templates_fonts_are_named(client, everything):
    raw = quote_example()
    raw["lines"][0]["description"] = "Plomberie 中文"
    raw["notes"] = ["Merci 😀"]
    errors = refused(client, raw, everything)
    assert errors["lines.0.description"][0].startswith(
        "Template classic 1.7.3 can't draw U+4E2D CJK UNIFIED IDEOGRAPH-4E2D, U+6587 CJK UNIFIED IDEOGRAPH-6587: "
        "its fonts (Inter")
    assert "U+1F600 GRINNING FACE" in errors["notes.0"][0]
    # the same in /validate and in a preview: nothing drawn with a box
    assert "lines.0.description" in refused(client, raw, everything, "/v1/documents/validate")
    assert "lines.0.description" in refused(client, raw, everything, "/v1/templates/classic/1.0.0/preview")


def test_what_inter_draws_goes_through(client):
    raw = quote_example()
    raw["buyer"]["name"] = "Łódź Ἀθῆναι Жилстрой — Œuvre № 5"
    r = post(client, raw)
    assert r.status_code == 201, r.json
    pdf = client.get(r.json["files"][0]["url"]).data
    assert "Łódź Ἀθῆναι Жилстрой" in pdf_text(pdf, layout=True, clean=plain_spaces)


def test_a_declared_fallback_font_draws_more(tmp_path):
    """A bundle that declares DejaVu Sans as its fallback draws Hebrew; classic refuses it."""
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates" / "classic" / "1.2.0", templates / "wide" / "1.0.0")
    manifest = templates / "wide" / "1.0.0" / "template.toml"
    manifest.write_text(manifest.read_text().replace('name = "classic"', 'name = "wide"').replace(
        'version = "1.2.0"', 'version = "1.0.0"') + 'fallback_fonts = ["DejaVu Sans"]\n')
    app = create_app(Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}",
                                        "DOCSVC_AUTH": "disabled",
                                        "DOCSVC_TEMPLATES_DIR": f"{ROOT / 'templates'}:{templates}"}))
    client = app.test_client()
    raw = quote_example()
    raw["lines"][0]["description"] = "Plomberie שלום"
    r = post(client, raw)
    assert r.status_code == 422 and "U+05E9 HEBREW LETTER SHIN" in r.json["errors"]["lines.0.description"][0]
    raw["template"] = {"name": "wide", "version": "1.0.0"}
    r = post(client, raw)
    assert r.status_code == 201, r.json
    pdf = client.get(r.json["files"][0]["url"]).data
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
    assert "DejaVu" in fonts


# ---------------------------------------------------------------- 4. settings that lie


def _lines(n: int) -> list[dict]:
    return [{"description": f"Article {i}", "quantity": "1", "unit_price": "1.00", "vat_rate": "20"}
            for i in range(n)]


def test_max_lines_above_10000_is_in_force_everywhere(tmp_path):
    app = create_app(Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}",
                                        "DOCSVC_AUTH": "disabled", "DOCSVC_MAX_LINES": "10002",
                                        "DOCSVC_MAX_BODY_BYTES": str(8 * 1024 * 1024)}))
    client = app.test_client()
    spec = client.get("/v1/openapi.json").json
    assert spec["info"]["x-docsvc-limits"]["max_lines"] == 10002
    assert spec["components"]["schemas"]["DocumentPayload"]["properties"]["lines"]["maxItems"] == 10002
    assert spec["components"]["schemas"]["Quote"]["properties"]["lines"]["maxItems"] == 10002
    raw = quote_example()
    raw["lines"] = _lines(10002)
    r = post(client, raw, "/v1/documents/validate")
    # 10002 lines x 1.00 at 20 %: net 10002.00, VAT 2000.40
    assert r.status_code == 200, r.json
    assert (r.json["totals"]["net_total"], r.json["totals"]["vat_total"]) == ("10002.00", "2000.40")
    raw["lines"] = _lines(10003)
    r = post(client, raw, "/v1/documents/validate")
    assert r.status_code == 422 and r.json["errors"]["lines"] == ["10003 lines, at most 10002 (DOCSVC_MAX_LINES)."]


def test_max_lines_below_is_in_force_in_previews_and_quotes(tmp_path):
    app = create_app(Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}",
                                        "DOCSVC_AUTH": "disabled", "DOCSVC_MAX_LINES": "2"}))
    client = app.test_client()
    assert client.get("/v1/openapi.json").json["components"]["schemas"]["Quote"]["properties"]["lines"][
        "maxItems"] == 2
    r = post(client, quote_example(), "/v1/templates/classic/1.2.0/preview")
    assert r.status_code == 422 and r.json["errors"]["lines"] == ["3 lines, at most 2 (DOCSVC_MAX_LINES)."]
    r = post(client, cycle_payload("deposit_invoice", "FA-1", deposit={"percent": "30"}), "/v1/documents/validate")
    assert r.status_code == 422 and r.json["errors"]["quote.lines"] == ["3 lines, at most 2 (DOCSVC_MAX_LINES)."]


# ---------------------------------------------------------------- 6. identifiers through python-stdnum


@pytest.mark.parametrize("mutate, path, fragment", [
    (lambda p: p["seller"].update(siren="912345676"), "seller.siren", "Not a valid SIREN"),
    (lambda p: p["seller"].update(siret="91234567500011"), "seller.siret", "Not a valid SIRET"),
    (lambda p: p["buyer"].update(vat_id="DE136695977"), "buyer.vat_id", "Not a valid DE VAT number"),
    (lambda p: p["buyer"].update(vat_id="FR65912345675", siren="845123983"), "buyer.vat_id",
     "expected FR26845123983"),
    (lambda p: p["payment"].update(iban="FR7630006000011234567890180"), "payment.iban", "IBAN"),
    (lambda p: p["payment"].update(bic="BNPAXQPP"), "payment.bic", "Not a valid BIC"),
])
def test_identifiers_are_checked_by_python_stdnum(client, everything, mutate, path, fragment):
    raw = quote_example()
    mutate(raw)
    errors = refused(client, raw, everything)
    assert any(fragment in m for m in errors[path]), errors


def test_a_la_poste_siret_and_a_greek_vat_number_pass(client):
    raw = quote_example()
    raw["buyer"].update(siren="356000000", siret="35600000000048")
    raw["payment"].update(iban="FR7630006000011234567890189", bic="BNPAFRPPXXX")
    assert post(client, raw, "/v1/documents/validate").status_code == 200


def test_keys_create_refuses_an_invalid_siren(tmp_path):
    env = {"DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([DOCSVC, "keys", "create", "erp", "--scopes", "documents:write", "--sellers",
                          "912345675,912345670"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "912345670 is not a valid SIREN (9 digits, Luhn key)" in run.stderr
    assert not (tmp_path / "archive" / "keys").exists()
    run = subprocess.run([DOCSVC, "keys", "create", "erp", "--scopes", "documents:write", "--sellers",
                          "912345675,DE136695976"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


# ---------------------------------------------------------------- 5. double billing across a cycle


def issue_story(client, names):
    for name in names:
        r = post(client, load_fixture(name))
        assert r.status_code == 201, (name, r.json)


def final_forgetting(number: str) -> dict:
    raw = load_fixture("final_invoice")
    raw["previous_invoices"] = [p for p in raw["previous_invoices"] if p["number"] != number]
    return raw


def double_billing_story(client, snapshot):
    """Two deposits, three situations, a credit note on situation 2: a final that forgets one of
    them is refused, naming it, and leaves the archive as it was; the complete one is issued."""
    issue_story(client, ["deposit_invoice", "deposit_invoice_2", "progress_invoice_1", "progress_invoice_2",
                         "credit_note_progress", "progress_invoice_3"])
    for forgotten, named in (("A-2026-0011", "A-2026-0011 (credit note of 2026-12-05)"),
                             ("FA-2026-0105", "FA-2026-0105 (deposit invoice of 2026-10-01)")):
        for path in ("/v1/documents", "/v1/documents/validate"):
            before = snapshot()
            r = post(client, final_forgetting(forgotten), path)
            assert r.status_code == 422, r.json
            assert r.json["errors"]["previous_invoices"] == [
                f"{named} is archived on quote D-2026-0098 but not listed in previous_invoices: the buyer would "
                "pay it twice. List it (number, issue_date, figures)."]
            assert snapshot() == before
    # a third deposit that omits the second
    deposit = load_fixture("deposit_invoice_2")
    deposit.update(number="FA-2026-0199", previous_invoices=[])
    before = snapshot()
    r = post(client, deposit)
    assert r.status_code == 422 and r.json["errors"]["previous_invoices"] == [
        f"{n} is archived on quote D-2026-0098 but not listed in previous_invoices: the buyer would pay it twice. "
        "List it (number, issue_date, figures)." for n in ("FA-2026-0101 (deposit invoice of 2026-09-20)",
                                                          "FA-2026-0105 (deposit invoice of 2026-10-01)")]
    assert snapshot() == before
    r = post(client, load_fixture("final_invoice"))
    assert r.status_code == 201, r.json
    assert post(client, load_fixture("final_invoice")).status_code == 200  # a retry is still a retry
    # nothing follows the final invoice
    situation = load_fixture("progress_invoice_3")
    situation["number"] = "F-2026-0199"
    before = snapshot()
    r = post(client, situation)
    assert r.status_code == 422
    assert any(m.startswith("Quote D-2026-0098 already has its final invoice F-2026-0152 (final invoice of "
                            "2026-12-05): nothing is left to bill") for m in r.json["errors"]["previous_invoices"])
    assert snapshot() == before


def test_double_billing_across_the_cycle_on_the_filesystem(client, everything):
    double_billing_story(client, everything)


def test_double_billing_across_the_cycle_on_seaweedfs(s3_env):
    from tests.e2e.test_s3_api import s3_client_app

    bucket = s3_env.bucket()
    _, client = s3_client_app(s3_env, bucket)
    s3 = s3_env.client()

    def snapshot():
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        return sorted((v["Key"], v["VersionId"]) for page in pages for v in page.get("Versions", ()))

    double_billing_story(client, snapshot)
    index = [k for k, _ in snapshot() if k.startswith("quotes/")]
    assert index == [f"quotes/912345675/D-2026-0098/{n}.json" for n in (
        "A-2026-0011", "F-2026-0120", "F-2026-0131", "F-2026-0140", "F-2026-0152", "FA-2026-0101", "FA-2026-0105")]


def test_documents_archived_before_the_quote_index_are_indexed_by_the_cli(client, archive_dir, everything):
    issue_story(client, ["deposit_invoice", "deposit_invoice_2"])
    index = archive_dir / "quotes" / "912345675" / "D-2026-0098"
    assert sorted(p.name for p in index.iterdir()) == ["FA-2026-0101.json", "FA-2026-0105.json"]
    shutil.rmtree(archive_dir / "quotes")  # as an archive written before the index existed
    situation = load_fixture("progress_invoice_1")
    situation["previous_invoices"] = situation["previous_invoices"][:1]
    assert post(client, situation, "/v1/documents/validate").status_code == 200  # FA-2026-0105 unseen
    env = {"DOCSVC_ARCHIVE_URL": f"file://{archive_dir}", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([DOCSVC, "archive", "index-quotes"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("2 cycle document(s) listed")
    assert sorted(p.name for p in index.iterdir()) == ["FA-2026-0101.json", "FA-2026-0105.json"]
    errors = refused(client, situation, everything, "/v1/documents/validate")
    assert errors["previous_invoices"][0].startswith("FA-2026-0105 (deposit invoice of 2026-10-01) is archived")


def test_a_retention_the_earlier_situations_could_not_have_withheld_is_refused(client, everything):
    """Situation 2 prints "moins … retenus sur les situations précédentes": situation 1 can't have
    withheld more than 5 % of its 9 540,24 € of works (477,012 -> 477,01). Stated as 500.00, it is a
    422 on retention.percent, through the API, and nothing is archived. (Less is caught up by
    situation 2: tests/unit/test_cycle.py.)"""
    raw = load_fixture("progress_invoice_2")
    next(p for p in raw["previous_invoices"] if p["number"] == "F-2026-0120")["retention"] = "500.00"
    errors = refused(client, raw, everything)
    assert list(errors) == ["retention.percent"]
    assert "withheld 500.00 in all, but 5 % of their works is 477.01" in errors["retention.percent"][0]


def _issue(client, *names, **changes):
    """Issues the cycle's fixtures in order; `changes` maps a fixture to a function that edits it."""
    for name in names:
        raw = load_fixture(name)
        changes.get(name, lambda r: None)(raw)
        r = post(client, raw)
        assert r.status_code == 201, (name, r.json)


#: the cycle's fixtures up to the final invoice, in the order they are issued
BEFORE_FINAL = [n for n in json.loads((ROOT / "fixtures" / "cycle.json").read_text()) if n != "final_invoice"]


def _unstated(raw):
    """previous_invoices without the retention each situation withheld (it is optional)."""
    for previous in raw["previous_invoices"]:
        previous.pop("retention", None)
        previous.pop("retention_release_date", None)


def test_an_earlier_situation_that_withheld_nothing_is_read_from_the_archive_and_caught_up(client):
    """Situation 1 archived without a retention; situation 2 asks 5 % and leaves out what
    situation 1 withheld. The archived original says 0.00, so situation 2 withholds 5 % of the
    cumulative works, 30 504,13 x 5 % = 1 525,2065 -> 1 525,21, less the 0,00 withheld before
    (not 1 048,20, which would take 477,01 as withheld): it says so, and no retention is lost."""
    _issue(client, "deposit_invoice", "deposit_invoice_2", "progress_invoice_1",
           progress_invoice_1=lambda raw: raw.pop("retention"))
    raw = load_fixture("progress_invoice_2")
    _unstated(raw)
    r = post(client, raw)
    assert r.status_code == 201, r.json
    retention = r.json["document"]["retention"]
    assert (retention["cumulative"], retention["withheld_before"], retention["amount"]) == (
        "1525.21", "0.00", "1525.21")


def test_a_retention_caught_up_is_refused_on_a_template_that_would_print_it_false(client, everything):
    """Situation 2 catching up situation 1's retention (0.00 withheld) on classic 1.7.2, which
    prints "5 % des travaux TTC de cette situation (20 963,89 €) : 1 525,21 €" (5 % of 20 963,89 is
    1 048,19): refused, naming the template, nothing archived. On 1.7.3 it is issued, worked out:
    5 % of the cumulative 30 504,13 = 1 525,21, less 0,00 withheld before = 1 525,21."""
    _issue(client, "deposit_invoice", "deposit_invoice_2", "progress_invoice_1",
           progress_invoice_1=lambda raw: raw.pop("retention"))
    raw = load_fixture("progress_invoice_2")
    _unstated(raw)
    raw["template"] = {"name": "classic", "version": "1.7.2"}
    errors = refused(client, raw, everything)
    assert list(errors) == ["template"]
    assert errors["template"][0].startswith("The earlier situations withheld 0.00, 477.01 less than 5 % of their "
                                            "works, which this situation withholds now: template classic 1.7.2")
    raw["template"] = {"name": "classic", "version": "1.7.3"}
    r = post(client, raw)
    assert r.status_code == 201, r.json
    assert r.json["document"]["retention"]["caught_up"] == "477.01"
    pdf = client.get(next(f["url"] for f in r.json["files"] if f["format"] == "pdf")).data
    assert ("Retenue de garantie 5 % du cumul des travaux TTC (30 504,13 €) : 1 525,21 €, moins 0,00 € retenus "
            "sur les situations précédentes : 1 525,21 € sur cette situation") in " ".join(pdf_text(pdf).split())


def test_a_percent_changed_after_an_archived_situation_is_refused_unless_stated_right(client, everything):
    """Situation 1 archived withholding 5 % (477.01); situation 2, leaving it out, asks 3 %:
    3 % x 9 540,24 = 286,2072 -> 286,21, not the 477,01 archived: refused. Asking 5 % again,
    it agrees with the archive and is issued: 5 % x 30 504,13 = 1 525,21, less 477,01 = 1 048,20."""
    _issue(client, "deposit_invoice", "deposit_invoice_2", "progress_invoice_1")
    raw = load_fixture("progress_invoice_2")
    _unstated(raw)
    raw["retention"]["percent"] = "3"
    errors = refused(client, raw, everything)
    assert "withheld 477.01 in all, but 3 % of their works is 286.21" in errors["retention.percent"][0]
    raw["retention"]["percent"] = "5"
    r = post(client, raw)
    assert r.status_code == 201, r.json
    retention = r.json["document"]["retention"]
    assert (retention["withheld_before"], retention["amount"]) == ("477.01", "1048.20")


def test_a_final_invoice_shows_the_retention_its_archived_situations_withheld(client):
    """The final invoice lists the three situations without their retention: read from their
    originals, it still shows the retention owed (DOMAIN.md): 477.01 + 1048.20 + 489.03 =
    2014.24 (5 % of the 40 284.79 of works incl. VAT = 2014.2395), released 18/12/2027."""
    _issue(client, *BEFORE_FINAL)
    raw = load_fixture("final_invoice")
    _unstated(raw)
    del raw["template"]  # the latest classic: 1.0.0, the fixture's, predates the retention recap
    r = post(client, raw)
    assert r.status_code == 201, r.json
    final = r.json["document"]["final"]
    assert [(h["number"], h["amount"]) for h in final["retentions"]] == [
        ("F-2026-0120", "477.01"), ("F-2026-0131", "1048.20"), ("F-2026-0140", "489.03")]
    assert (final["retention_total"], final["retention_release_date"]) == ("2014.24", "2027-12-18")
    text = plain_spaces(pdf_text(client.get(r.json["files"][0]["url"]).data))
    assert "Total retenu, restant dû" in text  # the recap's total row, then its figures
    assert "libérable le 18/12/2027" in text and "2 014,24 €" in text


def test_a_later_release_date_stated_without_the_amount_is_kept(client):
    """Works accepted later than foreseen: the final invoice states situation F-2026-0120's
    release as 31/03/2028 and leaves out its amount. The amount comes from the original
    (477.01), the date stays the one stated, and the latest date is the total's."""
    _issue(client, *BEFORE_FINAL)
    raw = load_fixture("final_invoice")
    _unstated(raw)
    next(p for p in raw["previous_invoices"] if p["number"] == "F-2026-0120")["retention_release_date"] = "2028-03-31"
    r = post(client, raw)
    assert r.status_code == 201, r.json
    final = r.json["document"]["final"]
    assert [(h["number"], h["amount"], h["release_date"]) for h in final["retentions"]] == [
        ("F-2026-0120", "477.01", "2028-03-31"), ("F-2026-0131", "1048.20", "2027-12-18"),
        ("F-2026-0140", "489.03", "2027-12-18")]
    assert (final["retention_total"], final["retention_release_date"]) == ("2014.24", "2028-03-31")
