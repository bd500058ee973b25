"""The HTTP contract of API.md through Flask's test client, with real rendering and archive."""
import copy
import hashlib
import json

import pytest

from tests.conftest import load_fixture, quote_example
from tests.e2e.conftest import crash_before_resource
from tests.originals import docx_text, pdf_text, plain_spaces


def post(client, payload, path="/v1/documents"):
    return client.post(path, data=json.dumps(payload, default=str), content_type="application/json")


def test_issue_an_invoice_and_fetch_its_originals(client):
    raw = quote_example()
    raw["formats"] = ["pdf", "docx"]
    r = post(client, raw)
    assert r.status_code == 201, r.json
    body = r.json
    assert r.headers["Location"] == "/v1/documents/912345675-F-2026-0007" == f"/v1/documents/{body['id']}"
    # DOMAIN.md's quote: net 4715.00, VAT 305.00 + 333.00 = 638.00, gross 5353.00
    assert body["totals"]["net_total"] == "4715.00"
    assert body["totals"]["vat_total"] == "638.00"
    assert body["totals"]["gross_total"] == "5353.00"
    assert body["totals"]["amount_due"] == "5353.00"
    assert [(v["rate"], v["base"], v["amount"]) for v in body["totals"]["vat_breakdown"]] == [
        ("20.00", "1665.00", "333.00"), ("10.00", "3050.00", "305.00")]
    assert body["document"]["lines"][1]["net"] == "1665.00"
    assert body["template"]["name"] == "classic" and len(body["template"]["sha256"]) == 64
    assert body["archive"] == {"backend": "filesystem", "retain_until": "2036-10-01"}  # 2026-10-01 + 10 years
    assert [f["format"] for f in body["files"]] == ["pdf", "docx"]

    pdf = client.get(body["files"][0]["url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == body["files"][0]["sha256"]
    assert pdf.headers["ETag"] == f'"{body["files"][0]["sha256"]}"'
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="912345675-F-2026-0007.pdf"'
    text = pdf_text(pdf.data, layout=True, clean=plain_spaces)
    assert "F-2026-0007" in text and "SCI Les Tilleuls" in text
    assert "5 353,00 €" in text and "4 715,00 €" in text and "638,00 €" in text

    docx = client.get(body["files"][1]["url"])
    assert hashlib.sha256(docx.data).hexdigest() == body["files"][1]["sha256"]
    text = docx_text(docx.data)  # paragraphs, tables (the totals sit beside the VAT summary), headers, footers
    assert "F-2026-0007" in text and "SCI Les Tilleuls" in text and "5 353,00 €" in text

    again = client.get(body["files"][0]["url"], headers={"If-None-Match": pdf.headers["ETag"]})
    assert again.status_code == 304


def test_the_resource_is_served_as_archived(client):
    created = post(client, quote_example()).json
    fetched = client.get(f"/v1/documents/{created['id']}").json
    assert fetched == created


def test_a_retry_gets_200_and_writes_nothing(client, archived):
    first = post(client, quote_example())
    before = archived()
    second = post(client, quote_example())
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json == first.json
    assert archived() == before


def test_same_number_other_payload_is_409_and_the_original_stays(client, archived):
    first = post(client, quote_example()).json
    before = archived()
    changed = quote_example()
    changed["lines"][0]["unit_price"] = "2500.00"
    r = post(client, changed)
    assert r.status_code == 409
    assert r.mimetype == "application/problem+json"
    assert r.json["existing"] == first["id"] and first["id"] in r.json["detail"]
    assert archived() == before


@pytest.mark.parametrize("mutate, path", [
    (lambda p: p["lines"][1].update(unit_price="-1850.00"), "lines.1.unit_price"),
    (lambda p: p["lines"][2].update(vat_rate="0"), "lines.2.vat_category"),
    (lambda p: p.update(currency="XXZ"), "currency"),
    (lambda p: p.update(issue_date="2026-13-01"), "issue_date"),
    (lambda p: p["seller"].pop("siren"), "seller.siren"),
    (lambda p: p.update(extra="field"), "extra"),
    (lambda p: p["payment"].pop("late_penalty_rate"), "payment.late_penalty_rate"),
    (lambda p: p.update(template={"name": "classic", "version": "9.9.9"}), "template"),
])
def test_bad_payloads_are_422_naming_the_field_and_archive_nothing(client, archived, mutate, path):
    raw = quote_example()
    mutate(raw)
    r = post(client, raw)
    assert r.status_code == 422, r.json
    assert r.mimetype == "application/problem+json"
    assert {"type", "title", "status", "detail", "errors"} <= set(r.json)
    assert r.json["status"] == 422 and path in r.json["errors"]
    assert archived() == {}


def test_non_json_is_415_bad_json_400_too_large_413(client, archived):
    r = client.post("/v1/documents", data="number=F-1", content_type="application/x-www-form-urlencoded")
    assert (r.status_code, r.mimetype) == (415, "application/problem+json")
    r = client.post("/v1/documents", data='{"type": "invoice",', content_type="application/json")
    assert r.status_code == 400 and "line 1" in r.json["detail"]
    r = client.post("/v1/documents", data='{"quantity": NaN}', content_type="application/json")
    assert r.status_code == 400
    big = quote_example()
    big["notes"] = ["x" * 1000] * 300  # ~300 kB > the 256 kB limit of these tests
    r = post(client, big)
    assert r.status_code == 413 and "262144" in r.json["detail"]
    assert archived() == {}


def test_validate_computes_and_archives_nothing(client, archived):
    r = post(client, quote_example(), "/v1/documents/validate")
    assert r.status_code == 200
    assert r.json["totals"]["gross_total"] == "5353.00"
    assert r.json["document"]["due_date"] == "2026-10-31"  # 2026-10-01 + 30 days
    assert [m["code"] for m in r.json["document"]["mentions"]] == [
        "operation_mixed", "no_early_payment_discount", "late_penalty", "recovery_indemnity"]
    assert archived() == {}
    bad = quote_example()
    bad["lines"][0]["quantity"] = "abc"
    assert post(client, bad, "/v1/documents/validate").json["errors"] == {"lines.0.quantity": [
        'Not a valid number: ASCII digits with an optional sign, point and exponent (e.g. "1850.00", "-2.5", '
        '"1.5E3"), as a string or a JSON number.']}


def test_credit_note_and_search(client):
    invoice = post(client, load_fixture("invoice")).json
    credit = post(client, load_fixture("credit_note")).json
    other = quote_example()
    assert post(client, other).status_code == 201
    assert credit["document"]["corrects"] == {"number": "F-2026-0125", "issue_date": "2026-11-20", "type": None}
    # 20 %: 4 x 18.00 + 39.90 = 111.90 -> 22.38; 10 %: 85.00 -> 8.50; gross 196.90 + 30.88 = 227.78
    assert credit["totals"]["gross_total"] == "227.78"
    text = pdf_text(client.get(credit["files"][0]["url"]).data, layout=True, clean=plain_spaces)
    assert "Avoir" in text and "F-2026-0125" in text and "227,78 €" in text

    def ids(query):
        r = client.get(f"/v1/documents?{query}")
        assert r.status_code == 200, r.json
        assert r.json["count"] == len(r.json["items"])
        return [item["id"] for item in r.json["items"]]

    assert ids("seller=912345675") == ["912345675-F-2026-0007", invoice["id"], credit["id"]]
    assert ids("seller=912345675&type=credit_note") == [credit["id"]]
    assert ids("number=F-2026-0125") == [invoice["id"]]
    assert ids("from=2026-11-01&to=2026-11-21") == [invoice["id"]]
    assert ids("seller=000000000") == []
    assert "document" not in client.get("/v1/documents").json["items"][0]
    r = client.get("/v1/documents?from=yesterday&colour=red")
    assert r.status_code == 422 and set(r.json["errors"]) == {"from", "colour"}


def test_verify_detects_an_altered_original(client, archive_dir):
    created = post(client, quote_example()).json
    report = client.get(f"/v1/documents/{created['id']}/verify").json
    assert report["intact"] is True
    assert report["files"][0]["actual_sha256"] == created["files"][0]["sha256"]
    assert report["files"][0]["retention_mode"] == "read-only file"
    assert report["retain_until"] == "2036-10-01"
    # Someone with write access to the disk alters the PDF behind the service's back.
    pdf = next(archive_dir.rglob("*.pdf"))
    pdf.chmod(0o644)
    pdf.write_bytes(pdf.read_bytes() + b"%tampered")
    report = client.get(f"/v1/documents/{created['id']}/verify").json
    assert report["intact"] is False and report["files"][0]["intact"] is False


def test_a_crash_between_files_and_resource_is_completed_by_the_retry(app, client, archived):
    archive = app.extensions["docsvc"].archive
    real_put = crash_before_resource(archive)
    raw = quote_example()
    raw["formats"] = ["pdf", "docx"]
    r = post(client, raw)
    assert r.status_code == 500 and "Traceback" not in r.get_data(as_text=True)
    orphans = archived()
    assert len(orphans) == 2 and not any(k.endswith("resource.json") for k in orphans)
    assert client.get("/v1/documents/912345675-F-2026-0007").status_code == 404

    archive.put_once = real_put
    r = post(client, raw)
    assert r.status_code == 201
    after = archived()
    assert len(after) == 3
    for f in r.json["files"]:  # the files written before the crash were kept, not re-rendered
        key = next(k for k in orphans if k.endswith("." + f["format"]))
        assert after[key] == orphans[key]
        assert hashlib.sha256(orphans[key]).hexdigest() == f["sha256"]


def test_unknown_document_and_format_are_404(client):
    assert client.get("/v1/documents/912345675-NOPE").status_code == 404
    assert client.get("/v1/documents/../../etc").status_code == 404
    created = post(client, quote_example()).json
    r = client.get(f"/v1/documents/{created['id']}/files/docx")
    assert r.status_code == 404 and "pdf" in r.json["detail"]


def test_no_endpoint_deletes_or_replaces(client):
    created = post(client, quote_example()).json
    for method in ("delete", "put", "patch"):
        assert getattr(client, method)(f"/v1/documents/{created['id']}").status_code == 405
        assert getattr(client, method)(created["files"][0]["url"]).status_code == 405


def test_operations_endpoints(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json["status"] == "ready"
    post(client, quote_example())
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'docsvc_http_requests_total{endpoint="documents.issue_document",status="201"} 1.0' in metrics


def test_openapi_is_generated_from_the_schemas(client):
    spec = client.get("/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    payload = spec["components"]["schemas"]["DocumentPayload"]
    assert {"type", "number", "issue_date", "seller", "buyer", "lines", "payment", "corrects"} <= set(
        payload["properties"])
    assert set(payload["required"]) >= {"type", "number", "issue_date", "seller", "buyer"}  # lines: by type
    line = spec["components"]["schemas"]["Line"]
    assert {"string", "number"} == {alt["type"] for alt in line["properties"]["unit_price"]["oneOf"]}
    for path in ("/v1/documents", "/v1/documents/validate", "/v1/documents/{doc_id}",
                 "/v1/documents/{doc_id}/files/{format}", "/v1/documents/{doc_id}/verify"):
        assert path in spec["paths"]
    resource = spec["components"]["schemas"]["DocumentResource"]["properties"]
    assert {"id", "totals", "document", "files", "archive", "template"} <= set(resource)
    page = client.get("/docs")
    assert page.status_code == 200 and b"/v1/openapi.json" in page.data
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_english_documents(client):
    raw = copy.deepcopy(quote_example())
    raw["language"] = "en"
    created = post(client, raw).json
    text = pdf_text(client.get(created["files"][0]["url"]).data, layout=True, clean=plain_spaces)
    assert "Invoice" in text and "€5,353.00" in text
