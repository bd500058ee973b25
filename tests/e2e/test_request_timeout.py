"""No gunicorn HTML page, ever (issue 16): a request past DOCSVC_REQUEST_TIMEOUT gets 503
problem+json with Retry-After, and so do the requests of a worker the arbiter aborts; the
archive stays consistent and a retry answers 201/200 with exactly one original."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import call, start_server, stop_server
from tests.e2e.jobs import invoice

pytestmark = pytest.mark.e2e

SELLER = "912345675"
#: 200 lines in PDF, Factur-X and DOCX: a few seconds of rendering on this machine, far past 1 s
SLOW = {"lines": 200, "formats": ["pdf", "facturx", "docx"]}


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def originals(tmp_path: Path, number: str) -> list[str]:
    folder = tmp_path / "archive" / "documents" / SELLER / f"{SELLER}-{number}"
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_one_original(tmp_path: Path, number: str, resource: dict) -> None:
    files = originals(tmp_path, number)
    doc_id = f"{SELLER}-{number}"
    names = sorted(f.rsplit("/", 1)[-1] for f in files)
    assert names == sorted(["resource.json", f"{doc_id}.pdf", f"{doc_id}.facturx.pdf", f"{doc_id}.factur-x.xml",
                            f"{doc_id}.docx"]), files
    assert len({f.split("/")[0] for f in files if "/" in f}) == 1  # one render folder: one original
    assert sorted(f["format"] for f in resource["files"]) == ["docx", "facturx", "pdf", "xml"]


def assert_problem_503(status: int, headers: dict, body: bytes) -> int:
    assert status == 503, (status, body[:300])
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 503 and problem["type"].startswith("https://docsvc.dev/problems/")
    retry_after = int(headers["Retry-After"])
    assert retry_after >= 1
    return retry_after


def retry_until_answered(url: str, raw: dict, wait: int) -> tuple[int, dict]:
    """Retries as a client would, after Retry-After each time, for at most a minute."""
    deadline = time.monotonic() + 60
    while True:
        time.sleep(wait)
        status, headers, body = call("POST", url, raw, timeout=60)
        if status != 503 or time.monotonic() > deadline:
            return status, json.loads(body)
        wait = assert_problem_503(status, headers, body)


def test_a_request_past_the_timeout_gets_503_and_its_retry_the_original(tmp_path):
    base, proc, log = start_server(tmp_path, {"DOCSVC_REQUEST_TIMEOUT": "1", "DOCSVC_WORKERS": "1"})
    try:
        raw = invoice("T-0001", **SLOW)
        started = time.monotonic()
        status, headers, body = call("POST", base + "/v1/documents", raw, timeout=60)
        answered = time.monotonic() - started
        wait = assert_problem_503(status, headers, body)
        assert "DOCSVC_REQUEST_TIMEOUT (1 s)" in json.loads(body)["detail"] and wait == 1
        assert answered < 5  # answered at the deadline, not when the rendering ended
        status, resource = retry_until_answered(base + "/v1/documents", raw, wait)
        assert status in (200, 201), resource
        assert resource["id"] == f"{SELLER}-T-0001"
        assert_one_original(tmp_path, "T-0001", resource)
        # and the original is served, whole, to anyone who asks later
        status, _, again = call("POST", base + "/v1/documents", raw, timeout=60)
        assert status == 200 and json.loads(again)["files"] == resource["files"]
        text = log.read_text()
        assert "request past DOCSVC_REQUEST_TIMEOUT (1 s): answered 503" in text and "<html" not in text.lower()
    finally:
        stop_server(proc)


def test_a_worker_aborted_by_the_arbiter_answers_503_problem_json(tmp_path):
    """gunicorn's WORKER_TIMEOUT sends SIGABRT to the worker: sent here by hand, mid-render."""
    base, proc, _ = start_server(tmp_path, {"DOCSVC_WORKERS": "1", "DOCSVC_REQUEST_TIMEOUT": "15"})
    try:
        (worker,) = children(proc.pid)
        raw = invoice("T-0002", **{**SLOW, "lines": 400})  # still rendering a second in, far from 15 s
        answer: list = []
        client = threading.Thread(target=lambda: answer.append(call("POST", base + "/v1/documents", raw, timeout=60)))
        client.start()
        time.sleep(1.0)  # the request is rendering
        os.kill(worker, signal.SIGABRT)
        client.join(60)
        status, headers, body = answer[0]
        wait = assert_problem_503(status, headers, body)
        assert "worker serving this request was stopped" in json.loads(body)["detail"]  # not the 15 s deadline
        assert wait == 15 and b"<html" not in body.lower()
        deadline = time.monotonic() + 30  # the arbiter starts a fresh worker
        while worker in children(proc.pid) or not children(proc.pid):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        status, resource = retry_until_answered(base + "/v1/documents", raw, wait)
        assert status in (200, 201), resource
        assert_one_original(tmp_path, "T-0002", resource)
    finally:
        stop_server(proc)
