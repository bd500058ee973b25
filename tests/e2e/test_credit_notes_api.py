"""A credit note on an archived invoice reverses what that invoice charged, and no more.

The invoice fixture F-2026-0125 bills, per rate (tests/unit/test_billing.py works them out):
10 %: 13 901.66; 5.5 %: 3 171.50; 20 %: 1 662.80. Its credit note fixture A-2026-0007 takes off
10 %: 85.00; 20 %: 4 x 18.00 + 39.90 = 111.90.
"""
import copy
import shutil
import subprocess

from tests.conftest import load_fixture
from tests.e2e.conftest import DOCSVC
from tests.e2e.test_api import post


def credit(number: str, lines: list[dict], **fields) -> dict:
    raw = load_fixture("credit_note")
    raw.update({"number": number, "lines": lines, **fields})
    return raw


def line(price: str, rate: str) -> dict:
    return {"id": "L1", "description": "Reprise", "quantity": "1", "unit_price": price, "vat_rate": rate}


def test_credit_notes_take_off_at_most_what_the_invoice_billed_at_its_rates(client, archived):
    assert post(client, load_fixture("invoice")).status_code == 201
    assert post(client, load_fixture("credit_note")).status_code == 201
    before = archived()

    # 10 %: 13 901.66 billed - 85.00 credited = 13 816.66 left; 13 816.67 is a cent too many
    r = post(client, credit("A-2026-0008", [line("13816.67", "10")]))
    assert r.status_code == 422, r.json
    assert r.json["errors"] == {"lines.0.vat_rate": [
        "At 10 % (S) this credit note takes off 13816.67, but F-2026-0125 billed 13816.66 at that rate, less the "
        "credit notes A-2026-0007 already issued on it: a credit note takes off at most what the invoice billed."]}

    # 2.1 %: a rate the invoice never charged
    r = post(client, credit("A-2026-0008", [line("10.00", "2.1")]))
    assert r.status_code == 422
    assert r.json["errors"]["lines.0.vat_rate"][0].startswith("F-2026-0125 charged no VAT at 2.1 % (S)")
    assert "10 % (S)" in r.json["errors"]["lines.0.vat_rate"][0]

    # a credit note does not correct a credit note
    on_credit = credit("A-2026-0008", [line("10.00", "10")])
    on_credit["corrects"] = {"number": "A-2026-0007", "issue_date": "2026-11-27"}
    r = post(client, on_credit)
    assert r.status_code == 422
    assert list(r.json["errors"]) == ["corrects.number"]

    # dated before the invoice it corrects (20/11/2026)
    r = post(client, credit("A-2026-0008", [line("10.00", "10")], issue_date="2026-11-19"))
    assert r.status_code == 422
    assert list(r.json["errors"]) == ["issue_date"]
    assert archived() == before  # nothing of the refused credit notes was archived

    # what is left, to the cent, is issued; then nothing more at 10 %
    r = post(client, credit("A-2026-0008", [line("13816.66", "10")]))
    assert r.status_code == 201, r.json
    r = post(client, credit("A-2026-0009", [line("0.01", "10")]))
    assert r.status_code == 422
    assert "billed 0.00 at that rate, less the credit notes A-2026-0007, A-2026-0008" in (
        r.json["errors"]["lines.0.vat_rate"][0])
    # a retry of an issued credit note is answered with its original, not counted against itself
    retry = post(client, credit("A-2026-0008", [line("13816.66", "10")]))
    assert retry.status_code == 200


def test_a_credit_note_on_an_invoice_issued_elsewhere_is_taken_as_stated(client):
    raw = copy.deepcopy(load_fixture("credit_note"))
    raw["corrects"] = {"number": "F-2019-0001", "issue_date": "2019-06-03"}
    assert post(client, raw).status_code == 201


def test_credit_notes_archived_before_their_list_are_listed_by_the_cli(client, archive_dir):
    assert post(client, load_fixture("invoice")).status_code == 201
    assert post(client, load_fixture("credit_note")).status_code == 201
    listed = archive_dir / "corrections" / "912345675" / "F-2026-0125"
    assert sorted(p.name for p in listed.iterdir()) == ["A-2026-0007.json"]
    shutil.rmtree(archive_dir / "corrections")  # as an archive written before the list existed
    # unseen, A-2026-0007's 85.00 at 10 % is not counted: 13 901.66 passes
    assert post(client, credit("A-2026-0008", [line("13901.66", "10")]), "/v1/documents/validate").status_code == 200
    env = {"DOCSVC_ARCHIVE_URL": f"file://{archive_dir}", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([DOCSVC, "archive", "index-quotes"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in listed.iterdir()) == ["A-2026-0007.json"]
    r = post(client, credit("A-2026-0008", [line("13901.66", "10")]), "/v1/documents/validate")
    assert r.status_code == 422 and "billed 13816.66 at that rate" in r.json["errors"]["lines.0.vat_rate"][0]
