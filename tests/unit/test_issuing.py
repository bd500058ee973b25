"""The issue use case on the in-memory archive (tests/fakes.py): once, idempotent, never
replaced, and whole after a crash. No HTTP, no adapter patched."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from docsvc.archive import keys
from docsvc.errors import Conflict, DocumentNotFound, Forbidden, StorageUnavailable
from docsvc.rendering import TemplateRegistry
from docsvc.usecases.checking import CheckDocument
from docsvc.usecases.issuing import IssueDocument, canonical_json
from docsvc.usecases.reading import FetchDocument, VerifyDocument
from tests.conftest import quote_example
from tests.fakes import InMemoryArchive, power_cut_on, unreachable

ROOT = Path(__file__).resolve().parents[2]
DOC_ID = "912345675-F-2026-0007"
RESOURCE = keys.resource_key(DOC_ID)


@pytest.fixture(scope="module")
def templates():
    return TemplateRegistry([ROOT / "templates"])


@pytest.fixture
def archive():
    return InMemoryArchive()


@pytest.fixture
def indexed():
    return []


@pytest.fixture
def issue(archive, templates, indexed):
    return IssueDocument(archive, CheckDocument(archive, templates), retention_years=10,
                         index=indexed.append)


def payload(**changes) -> dict:
    raw = quote_example()
    raw["formats"] = ["docx"]  # the fastest format: these tests are about the archive, not the layout
    raw.update(changes)
    return raw


def test_a_document_is_archived_files_first_then_its_resource(issue, archive, indexed):
    issued = issue(payload())
    assert issued.created is True and issued.resource["id"] == DOC_ID
    # the files, the search row and the resource, in that order: a resource never names a missing file
    assert archive.writes[-1] == RESOURCE
    docx = next(k for k in archive.writes if k.endswith(".docx"))
    assert archive.writes.index(docx) < len(archive.writes) - 1
    record = issued.resource["files"][0]
    assert record["sha256"] == hashlib.sha256(archive.get(record["key"])).hexdigest()
    assert "url" not in record  # URLs are the HTTP layer's
    # DOMAIN.md's quote: 10 %: 2400.00 + 12.5 x 52.00 = 3050.00, VAT 305.00; 20 %: 1850.00 - 10 % = 1665.00,
    # VAT 333.00; net 4715.00 + VAT 638.00 = 5353.00
    totals = issued.resource["totals"]
    assert (totals["net_total"], totals["vat_total"], totals["gross_total"]) == ("4715.00", "638.00", "5353.00")
    # retention: issue date 2026-10-01 + 10 years
    assert issued.resource["archive"]["retain_until"] == "2036-10-01"
    assert archive.objects[RESOURCE][1].isoformat() == "2036-10-01"
    assert [r["id"] for r in indexed] == [DOC_ID]
    stored = json.loads(archive.get(RESOURCE))
    assert stored == json.loads(canonical_json(issued.resource))


def test_a_retry_of_the_same_payload_writes_nothing_and_answers_the_original(issue, archive):
    first = issue(payload())
    written = list(archive.writes)
    again = issue(payload())
    assert again.created is False and again.resource == json.loads(canonical_json(first.resource))
    assert archive.writes == written


def test_another_payload_under_the_same_number_is_a_conflict_naming_the_original(issue, archive):
    issue(payload())
    written = list(archive.writes)
    changed = payload()
    changed["lines"][0]["unit_price"] = "2500.00"
    with pytest.raises(Conflict) as refused:
        issue(changed)
    assert refused.value.extra["existing"] == DOC_ID and "never replaced" in refused.value.detail
    assert archive.writes == written  # nothing rendered into the archive for the refused payload


def test_a_crash_before_the_resource_is_completed_by_the_retry_with_the_same_files(issue, archive):
    archive.fail_writes = power_cut_on("resource.json")
    with pytest.raises(RuntimeError, match="power cut"):
        issue(payload(formats=["docx", "pdf"]))
    orphans = {k: archive.get(k) for k in archive.writes if k.startswith("documents/")}
    assert sorted(k.rsplit(".", 1)[1] for k in orphans) == ["docx", "pdf"]
    assert [k for k in archive.writes if not k.startswith("documents/")] == [
        f"claims/912345675/documents/{DOC_ID}/0.json"]  # the number, claimed for this payload: the retry's
    with pytest.raises(DocumentNotFound):  # no resource: the document does not exist yet
        FetchDocument(archive)(DOC_ID)

    archive.fail_writes = lambda key: None
    issued = issue(payload(formats=["docx", "pdf"]))
    assert issued.created is True
    for record in issued.resource["files"]:  # the crashed attempt's bytes are the originals, not a re-render
        assert archive.get(record["key"]) == orphans[record["key"]]
        assert record["sha256"] == hashlib.sha256(orphans[record["key"]]).hexdigest()
    assert archive.writes.count(RESOURCE) == 1
    assert VerifyDocument(archive)(DOC_ID)["intact"] is True


def test_an_unreachable_archive_is_storage_unavailable_and_leaves_nothing(issue, archive):
    archive.fail_writes = unreachable
    with pytest.raises(StorageUnavailable):
        issue(payload())
    assert archive.objects == {}


def test_a_resource_written_by_a_concurrent_request_is_answered_as_a_retry(issue, archive, templates):
    """Two workers issue the same payload at once: the one whose resource write loses the race
    answers with the winner's resource, created False."""
    winner = IssueDocument(archive, CheckDocument(archive, templates))

    def race(key):
        if key.endswith("resource.json") and key not in archive.objects:
            archive.fail_writes = lambda k: None
            winner(payload())  # gets there first, reusing the same files
        return None

    archive.fail_writes = race
    issued = issue(payload())
    assert issued.created is False and issued.resource["id"] == DOC_ID
    assert archive.writes.count(RESOURCE) == 1


class CountingCheck(CheckDocument):
    """CheckDocument that counts its costly part (archive lookups, schematrons)."""

    def __init__(self, archive, templates):
        super().__init__(archive, templates)
        self.completed = 0

    def complete(self, raw, validated, bundle):
        self.completed += 1
        return super().complete(raw, validated, bundle)


def test_a_retry_is_answered_before_the_checks_that_cost(archive, templates):
    check = CountingCheck(archive, templates)
    issue = IssueDocument(archive, check)
    raw = payload(formats=["docx", "facturx"])  # with the e-invoice: the schematrons are the costly check
    first = issue(raw)
    assert first.created is True and check.completed == 1
    again = issue(json.loads(json.dumps(raw)))
    assert again.created is False and canonical_json(again.resource) == canonical_json(first.resource)
    assert check.completed == 1
    # another payload under the same number: refused as before, still without the costly checks
    with pytest.raises(Conflict):
        issue(payload(formats=["docx", "facturx"], notes=["Autre chose"]))
    assert check.completed == 1
    # and a key that can't act for the seller learns nothing of the original
    with pytest.raises(Forbidden):
        issue(raw, sellers={"000000000"})


def test_a_claim_is_its_owners_and_one_never_followed_by_an_issue_goes_stale(archive, monkeypatch):
    """usecases/claims.py: the first payload under a number holds it; another is told to retry;
    the same payload again (a retry after a crash) goes on; a holder that never issued within
    STALE_AFTER seconds is passed over, on the next generation."""
    import json as _json

    from docsvc.errors import InProgress
    from docsvc.usecases import claims

    claims.claim_document(archive, "912345675-F-1", "sha-a", "F-1")
    claims.claim_document(archive, "912345675-F-1", "sha-a", "F-1")  # its own: goes on
    with pytest.raises(InProgress, match="Invoice F-1 is being issued with another payload"):
        claims.claim_document(archive, "912345675-F-1", "sha-b", "F-1")
    held = _json.loads(archive.get("claims/912345675/documents/912345675-F-1/0.json"))
    assert held["payload_sha256"] == "sha-a"
    monkeypatch.setattr(claims.time, "time", lambda: held["at"] + claims.STALE_AFTER + 1)
    claims.claim_document(archive, "912345675-F-1", "sha-b", "F-1")  # A never issued: generation 1 is B's
    assert _json.loads(archive.get("claims/912345675/documents/912345675-F-1/1.json"))["payload_sha256"] == "sha-b"
    # the quote's place after 3 documents: the first document to claim it holds it, even stale, once issued
    claims.claim_quote_place(archive, "912345675", "D/1", 3, "912345675-F-2", "sha-c")
    with pytest.raises(InProgress, match="Another document of quote D/1 \\(912345675-F-2\\)"):
        claims.claim_quote_place(archive, "912345675", "D/1", 3, "912345675-F-3", "sha-d")
    claims.claim_quote_place(archive, "912345675", "D/1", 4, "912345675-F-3", "sha-d")  # the next place is free


def test_a_request_that_loses_the_quotes_place_has_claimed_nothing(archive, templates):
    """Its retry's 422 asks it to list the other document: the corrected payload, another one
    under the same number, must not find the number held by the first for STALE_AFTER seconds."""
    from types import SimpleNamespace

    from docsvc.errors import InProgress
    from docsvc.usecases import claims

    issuing = IssueDocument(archive, CheckDocument(archive, templates))
    claims.claim_quote_place(archive, "912345675", "D-1", 2, "912345675-F-9", "sha-x")  # F-9 holds place 2
    payload = SimpleNamespace(quote=SimpleNamespace(number="D-1"), number="F-10",
                              seller=SimpleNamespace(siren="912345675", vat_id=None))
    with pytest.raises(InProgress, match=r"Another document of quote D-1 \(912345675-F-9\)"):
        issuing._claim("912345675-F-10", "sha-1", SimpleNamespace(payload=payload, seen_on_quote=2))
    assert list(archive.list("claims/912345675/documents/")) == []
    # corrected (F-9 now listed, so 3 documents seen), the other payload claims at once
    issuing._claim("912345675-F-10", "sha-2", SimpleNamespace(payload=payload, seen_on_quote=3))
    assert list(archive.list("claims/912345675/documents/")) == ["claims/912345675/documents/912345675-F-10/0.json"]
