"""GET /v1/documents and GET /v1/quotes/{seller}/{number}/documents, answered from the index,
through the Flask app with authentication on, over the hand-made archive of
tests/index_data.py (expected answers worked out in tests/integration/test_index.py)."""
from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, urlsplit

import pytest

from docsvc.app import create_app
from docsvc.index import rebuild
from docsvc.settings import Settings
from tests.conftest import quote_example
from tests.e2e.conftest import ADMIN_TOKEN
from tests.e2e.test_api import post
from tests.index_data import ACME, A, B, C, make_archive
from tests.integration.test_index import ALL, SEARCHES, ids


@pytest.fixture
def served(tmp_path):
    """(client, tokens by key name) over the 30 hand-made documents, index rebuilt."""
    archive = make_archive(tmp_path / "archive")
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}",
                                  "DOCSVC_ADMIN_TOKEN": ADMIN_TOKEN})
    app = create_app(settings)
    rebuild(app.extensions["docsvc"].index, archive)
    store = app.extensions["docsvc"].keys
    tokens = {"admin": ADMIN_TOKEN}
    for name, sellers in (("a-and-b", [A, B]), ("c", [C]), ("also-a-and-b", [A, B])):
        tokens[name] = store.create(name, ["documents:read"], sellers)[1]
    return app.test_client(), tokens


def get(client, token, url):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def found(client, token, url):
    r = get(client, token, url)
    assert r.status_code == 200, r.json
    return r.json["count"], [item["id"] for item in r.json["items"]]


def test_filters_through_http(served):
    client, tokens = served
    admin = tokens["admin"]
    assert found(client, admin, "/v1/documents?limit=1000") == (30, ALL)
    assert found(client, admin, f"/v1/documents?seller={A}&type=invoice") == (9, SEARCHES["seller A's invoices"][1])
    # the key for A and B: C's RE-3 is in the range but not the key's, and not counted
    assert found(client, tokens["a-and-b"], f"/v1/documents?buyer={ACME}&from=2026-03-01&to=2026-09-30") == (
        8, SEARCHES["ACME, March to September, sellers A and B"][1])
    assert found(client, tokens["c"], "/v1/documents?type=credit_note") == (1, ids(C, "RE-3"))
    assert found(client, tokens["c"], f"/v1/documents?seller={A}") == (0, [])  # another seller: nothing, no count
    assert found(client, tokens["c"], "/v1/documents")[0] == 6
    assert found(client, admin, "/v1/documents?min_amount=350.00&max_amount=1200") == (
        12, SEARCHES["gross 350.00 to 1200.00"][1])
    assert found(client, admin, "/v1/documents?status=paid") == (6, SEARCHES["paid"][1])
    assert found(client, admin, "/v1/documents?due_from=2026-12-01&due_to=2026-12-31") == (
        4, SEARCHES["due in December"][1])
    assert found(client, admin, "/v1/documents?corrects=F-2026-0002") == (1, ids(A, "AV-2026-0001"))
    assert found(client, admin, "/v1/documents?quote=D-2026-0007&seller=552100554") == (2, ids(B, "2026-004",
                                                                                                  "2026-006"))
    assert found(client, admin, "/v1/documents?number=F-2026%2F0008") == (1, ["912345675-F-2026~2F0008"])
    assert found(client, admin, f"/v1/documents?seller={C}&sort=-issue_date") == (6, SEARCHES["C, newest first"][1])
    item = get(client, admin, "/v1/documents?number=RE-4").json["items"][0]
    assert (item["id"], item["totals"]["gross_total"], item["issue_date"]) == ("DE811907980-RE-4", "2380.00",
                                                                               "2026-08-01")
    assert "document" not in item


def test_next_links_walk_every_page_once(served):
    client, tokens = served
    url, seen, pages = "/v1/documents?limit=7", [], 0
    while url:
        r = get(client, tokens["admin"], url)
        assert r.status_code == 200 and r.json["count"] == 30
        seen += [item["id"] for item in r.json["items"]]
        pages += 1
        url = r.json.get("next")
    assert (seen, pages) == (ALL, 5)  # 7 + 7 + 7 + 7 + 2, the last without `next`
    # descending by number for B, three at a time; the filters travel in the link
    first = get(client, tokens["a-and-b"], f"/v1/documents?seller={B}&sort=-number&limit=3").json
    link = urlsplit(first["next"])
    assert link.path == "/v1/documents"
    assert {k: v for k, v in parse_qs(link.query).items() if k != "cursor"} == {
        "seller": [B], "sort": ["-number"], "limit": ["3"]}
    second = get(client, tokens["a-and-b"], first["next"]).json
    assert [i["number"] for i in first["items"] + second["items"]] == [
        "2026-008", "2026-007", "2026-006", "2026-005", "2026-004", "2026-003"]


def test_a_cursor_serves_only_its_own_search(served):
    client, tokens = served
    following = get(client, tokens["a-and-b"], f"/v1/documents?seller={A}&limit=2").json["next"]
    cursor = parse_qs(urlsplit(following).query)["cursor"][0]
    # the same query string from another key, even one with the same sellers: refused
    for other in ("also-a-and-b", "admin"):
        r = get(client, tokens[other], following)
        assert r.status_code == 422 and set(r.json["errors"]) == {"cursor"}
        assert "another key" in r.json["errors"]["cursor"][0]
    # the same key with other filters, or an altered cursor: refused
    assert set(get(client, tokens["a-and-b"], f"/v1/documents?seller={B}&limit=2&cursor={cursor}")
               .json["errors"]) == {"cursor"}
    altered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    assert get(client, tokens["a-and-b"], f"/v1/documents?seller={A}&limit=2&cursor={altered}").status_code == 422
    assert get(client, tokens["a-and-b"], f"/v1/documents?seller={A}&cursor=%%%").status_code == 422
    # a new page size with the same cursor is the same search: accepted
    r = get(client, tokens["a-and-b"], f"/v1/documents?seller={A}&limit=5&cursor={cursor}")
    assert r.status_code == 200 and [i["number"] for i in r.json["items"]] == [
        "F-2026-0002", "AV-2026-0001", "FA-2026-0001", "FS-2026-0001", "FS-2026-0002"]  # after 0099, 0001


@pytest.mark.parametrize("query, errors", [
    ("colour=red&from=yesterday", {"colour": ["Unknown filter."], "from": ["Not an ISO 8601 date (2026-11-22)."]}),
    ("due_to=2026-02-30", {"due_to": ["Not an ISO 8601 date (2026-11-22)."]}),
    ("buyer=84512398&seller=912 345 675", {"buyer": ["A SIREN: 9 digits."],
                                           "seller": ["A SIREN (9 digits) or a VAT id (FR65912345675)."]}),
    ("type=quote&status=late", {"type": ["One of: invoice, deposit_invoice, progress_invoice, final_invoice, "
                                         "credit_note."],
                                "status": ["One of: paid, partially_paid, unpaid."]}),
    ("limit=0", {"limit": ["An integer from 1 to 1000."]}),
    ("limit=1001&sort=date", {"limit": ["An integer from 1 to 1000."],
                              "sort": ["One of: issue_date, -issue_date, number, -number."]}),
    ("min_amount=12,50&max_amount=NaN", {"min_amount": ["Not an amount (1234.56)."],
                                         "max_amount": ["Not an amount (1234.56)."]}),
    ("type=invoice&type=credit_note", {"type": ["Given more than once."]}),
    ("cursor=bm90IGEgY3Vyc29y", {"cursor": ["Not a cursor of this search: it belongs to another key, other "
                                            "filters, or was altered. Start again without a cursor."]}),
])
def test_bad_parameters_are_named(served, query, errors):
    client, tokens = served
    r = get(client, tokens["admin"], f"/v1/documents?{query}")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert r.json["errors"] == errors


def test_every_document_of_a_quote(served):
    client, tokens = served
    assert found(client, tokens["a-and-b"], f"/v1/quotes/{A}/D-2026-0007/documents") == (
        4, ids(A, "FA-2026-0001", "FS-2026-0001", "FS-2026-0002", "FF-2026-0001"))
    assert found(client, tokens["a-and-b"], f"/v1/quotes/{B}/D-2026-0007/documents") == (
        2, ids(B, "2026-004", "2026-006"))
    assert found(client, tokens["c"], f"/v1/quotes/{A}/D-2026-0007/documents") == (0, [])  # not C's to see
    assert found(client, tokens["admin"], f"/v1/quotes/{A}/D-2026-9999/documents") == (0, [])
    assert client.get(f"/v1/quotes/{A}/D-2026-0007/documents").status_code == 401


def test_an_issued_document_is_found_as_the_schema_summarises_it(client):
    """Through issue(): the row is written after the original; a search item is the resource
    without `document`, exactly as DocumentSummarySchema gives it (files without their keys)."""
    from docsvc.schemas.resources import DocumentSummarySchema

    created = post(client, quote_example()).json
    items = client.get("/v1/documents?number=F-2026-0007").json["items"]
    assert items == [DocumentSummarySchema().dump(created)]
    assert "key" not in items[0]["files"][0] and items[0]["files"][0]["sha256"] == created["files"][0]["sha256"]


def test_a_retry_restores_a_lost_row(app, client):
    """A row lost after its original was written (a crash, a restored backup) comes back
    with the retry, which answers 200 from the archive as before."""
    from sqlalchemy import text

    created = post(client, quote_example()).json
    with app.extensions["docsvc"].index.engine.begin() as connection:
        connection.execute(text("DELETE FROM documents"))
    assert client.get("/v1/documents").json["count"] == 0
    assert post(client, quote_example()).status_code == 200
    assert [d["id"] for d in client.get("/v1/documents").json["items"]] == [created["id"]]


def test_the_openapi_document_describes_the_search(served):
    client, _ = served
    spec = client.get("/v1/openapi.json").json
    names = [p["name"] for p in spec["paths"]["/v1/documents"]["get"]["parameters"]]
    assert names == ["seller", "buyer", "type", "number", "quote", "corrects", "from", "to", "due_from", "due_to",
                     "min_amount", "max_amount", "status", "sort", "limit", "cursor"]
    quote = spec["paths"]["/v1/quotes/{seller}/{number}/documents"]["get"]
    assert [p["name"] for p in quote["parameters"]] == ["seller", "number"]
    assert "next" in spec["components"]["schemas"]["SearchResult"]["properties"]


def test_archived_while_postgresql_was_down_then_swept_at_start_up(postgresql, tmp_path):
    """The service issues with PostgreSQL stopped (the archive is the truth), /readyz and the
    search name the database without its password, and the next start-up's sweep indexes
    the document."""
    env = {"DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}", "DOCSVC_AUTH": "disabled",
           "DOCSVC_DATABASE_URL": postgresql.new_database()}
    client = create_app(Settings.from_env(env)).test_client()
    assert client.get("/readyz").json == {"status": "ready", "archive": "filesystem", "index": "postgresql"}
    postgresql.stop()
    try:
        created = post(client, quote_example())
        assert created.status_code == 201, created.json
        ready = client.get("/readyz")
        database = env["DOCSVC_DATABASE_URL"].rsplit("/", 1)[1]
        assert ready.status_code == 503
        assert ready.json["detail"].startswith(
            f"index database unreachable (postgresql 127.0.0.1:{postgresql.port}/{database}): ")
        search = client.get("/v1/documents")
        assert search.status_code == 503 and search.json["detail"].startswith("index database unreachable")
        assert "s3cret" not in ready.json["detail"] + search.json["detail"]
        restarted_while_down = create_app(Settings.from_env(env))  # starts anyway: issuing needs the archive only
        assert restarted_while_down.test_client().get("/readyz").status_code == 503
    finally:
        postgresql.start()
    assert client.get("/v1/documents").json["count"] == 0  # back, but the row was never written
    restarted = create_app(Settings.from_env(env)).test_client()
    assert [(d["id"], d["totals"]["gross_total"]) for d in restarted.get("/v1/documents").json["items"]] == [
        (created.json["id"], "5353.00")]  # DOCSVC's quote: 4715.00 net + 638.00 VAT
    assert os.path.exists(tmp_path / "archive" / "index" / "pending")
    assert json.loads(restarted.get("/readyz").data)["status"] == "ready"


def test_the_index_commands(tmp_path):
    """`docsvc index check | rebuild [--since]` as an operator runs them."""
    import subprocess

    from tests.e2e.conftest import DOCSVC

    make_archive(tmp_path / "archive")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")},
           "DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}"}

    def run(*args):
        done = subprocess.run([DOCSVC, "index", *args], env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr

    code, out, _ = run("check")
    database = tmp_path / "index.sqlite3"  # beside the archive folder, by default
    assert code == 1 and out.splitlines()[0] == "missing from the index: 552100554-2026-001"
    assert out.splitlines()[-1] == (f"index sqlite {database}: 0 rows; archive: 30 documents; 30 missing, "
                                    "0 without original (run `docsvc index rebuild`)")
    code, out, err = run("rebuild")
    assert code == 0 and out.startswith(f"index sqlite {database}: 30 documents indexed, 0 skipped, in ")
    assert err.splitlines()[-1].startswith("[##############################] 30/30 (30 indexed, 0 skipped, ")
    assert run("check")[:2] == (0, f"index sqlite {database}: 30 rows; archive: 30 documents; 0 missing, "
                                   "0 without original\n")
    code, out, _ = run("rebuild", "--since", "2026-11-03")  # AV-2026-0002, 2026-008, RE-6
    assert code == 0 and " 3 documents indexed, 27 skipped" in out
    code, _, err = run("rebuild", "--since", "last week")
    assert code == 2 and err == "docsvc index: --since expects an ISO date (2026-11-01), got 'last week'\n"
