"""Requests that pass their checks at the same moment, through `docsvc serve` (2 workers, 4
threads each): one writes, the others write nothing and are told to retry (409 in-progress)
or, once the winner is issued, refused as any later request would be (usecases/claims.py).
Found by an attacker's and a billing review: 9 refused requests left 10 files behind, and two
final invoices posted together on one quote were both issued, 6 times out of 6."""
import json
import threading
from pathlib import Path

import pytest

from tests.conftest import load_fixture
from tests.e2e.conftest import call, start_server, stop_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(tmp_path):
    base, proc, _ = start_server(tmp_path, {"DOCSVC_RATE_LIMIT": "100000/second"})
    yield base, tmp_path / "archive"
    stop_server(proc)


def at_once(base: str, payloads: list[dict]) -> list[tuple[int, dict, dict]]:
    """POST every payload at the same moment; (status, headers, body) each, in order."""
    answers: list = [None] * len(payloads)
    start = threading.Barrier(len(payloads))

    def post(i: int) -> None:
        start.wait()
        status, headers, body = call("POST", base + "/v1/documents", payloads[i], timeout=120)
        answers[i] = (status, headers, json.loads(body))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def files_of(archive: Path, doc_id: str) -> list[str]:
    folder = archive / "documents" / doc_id.split("-", 1)[0] / doc_id
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and ".tmp" not in p.parts)


def test_one_number_posted_at_once_with_different_payloads_writes_the_winners_files_only(served):
    base, archive = served
    payloads = []
    for i in range(6):
        raw = load_fixture("invoice")
        raw.update(number="F-2026-7000", formats=["pdf"])
        raw["lines"] = raw["lines"][:2]
        raw["payments"] = []
        raw["lines"][0]["quantity"] = str(i + 1)  # six payloads under one number
        payloads.append(raw)
    answers = at_once(base, payloads)
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [201, 409, 409, 409, 409, 409], answers
    for status, _, body in answers:
        if status == 409:
            assert body["type"].rsplit("/", 1)[1] in ("in-progress", "conflict"), body
    winner = next(body for status, _, body in answers if status == 201)
    # the resource and the PDF of the winner; no file of a refused payload
    stored = files_of(archive, winner["id"])
    assert len(stored) == 2 and stored[1] == "resource.json" and stored[0].endswith(f"/{winner['id']}.pdf"), stored


def test_two_final_invoices_posted_at_once_on_one_quote_issue_one(served):
    base, _ = served
    cycle = json.loads((Path(__file__).parents[2] / "fixtures" / "cycle.json").read_text())
    for name in cycle[:cycle.index("final_invoice")]:
        status, _, body = call("POST", base + "/v1/documents", load_fixture(name), timeout=120)
        assert status == 201, (name, body)
    first, second = load_fixture("final_invoice"), load_fixture("final_invoice")
    second["number"] = "F-2026-0153"
    answers = at_once(base, [first, second])
    assert sorted(status for status, _, _ in answers) == [201, 409] or sorted(
        status for status, _, _ in answers) == [201, 422], answers
    refused = next(body for status, _, body in answers if status != 201)
    if refused["status"] == 409:  # checked before the winner was issued: retried, it is refused for good
        assert refused["type"].endswith("/in-progress")
        retry = first if refused is answers[0][2] else second
        status, _, body = call("POST", base + "/v1/documents", retry, timeout=120)
        assert status == 422, body
        refused = json.loads(body)
    assert "already has its final invoice" in refused["errors"]["previous_invoices"][0]
