"""What an operator relies on, through a real `docsvc serve` (2 gunicorn workers): errors
that can be diagnosed from the logs alone, one metrics view over every worker, and an audit
trail that refusals don't grow and that `docsvc audit verify` checks."""
import io
import json
import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from pypdf import PdfReader

from tests.conftest import load_fixture, quote_example
from tests.e2e.conftest import DOCSVC, call, free_port, start_server, stop_server


def log_lines(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]  # every line is JSON


def sample(metrics: str, name: str, **labels) -> float:
    """The value of one sample of the exposition (0 when absent)."""
    for line in metrics.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if match and match.group(1) == name:
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(match.group(3))
    return 0.0


def scrape(base) -> str:
    status, _, body = call("GET", base + "/metrics")
    assert status == 200
    return body.decode()


@pytest.mark.e2e
def test_a_500_logs_its_traceback_and_request_id_and_answers_neither(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    base, proc, log = start_server(tmp_path, {"DOCSVC_TEST_FAULTS": "1", "HOME": str(home),
                                              "XDG_RUNTIME_DIR": str(home)})
    try:
        status, headers, body = call("GET", base + "/_test/fault", headers={"X-Request-Id": "fault-42"})
        # gunicorn >= 25.1 would listen on $XDG_RUNTIME_DIR/gunicorn.ctl (or ~/.gunicorn/) meanwhile
        assert not [p for p in home.rglob("*") if p.is_socket() or p.suffix == ".ctl"]
    finally:
        stop_server(proc)
    assert status == 500 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(body) == {"type": "https://docsvc.dev/problems/internal", "title": "Internal error",
                                "status": 500,
                                "detail": "The service failed; nothing was archived for this request."}
    for leak in (b"Traceback", b"RuntimeError", b"forced fault", b"fault-42", b"ops.py"):
        assert leak not in body
    lines = log_lines(log)
    error = next(line for line in lines if line["level"] == "error")
    assert error["request_id"] == "fault-42" and error["path"] == "/_test/fault"
    assert error["exception"]["type"] == "RuntimeError"
    assert error["exception"]["message"] == "forced fault (DOCSVC_TEST_FAULTS)"
    assert error["exception"]["traceback"].startswith("Traceback (most recent call last):")
    assert 'raise RuntimeError("forced fault (DOCSVC_TEST_FAULTS)")' in error["exception"]["traceback"]
    request = next(line for line in lines if line.get("message") == "request" and line["request_id"] == "fault-42")
    assert request["status"] == 500 and request["pid"] == error["pid"]
    # gunicorn's own lines are JSON too (every line parsed above)
    assert not [line for line in lines if "Control socket" in line["message"]]  # logged when one listens
    assert any(line["logger"] == "gunicorn.error" and line["message"].startswith("Booting worker")
               for line in lines)
    # the fault route exists only when asked for, and only on a loopback bind
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")},
           "DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}", "DOCSVC_TEST_FAULTS": "1"}
    run = subprocess.run([DOCSVC, "serve", "--host", "0.0.0.0", "--port", str(free_port())], env=env,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert json.loads(run.stderr)["message"] == ("docsvc: DOCSVC_TEST_FAULTS=1 is only accepted on a loopback "
                                                 "address, not 0.0.0.0")
    base, proc, _ = start_server(tmp_path)
    try:
        assert call("GET", base + "/_test/fault")[0] == 404
    finally:
        stop_server(proc)


@pytest.mark.e2e
def test_one_scrape_counts_every_worker_even_a_replaced_one(tmp_path):
    base, proc, log = start_server(tmp_path, {"DOCSVC_RATE_LIMIT": "1000/second"})
    try:
        status, _, body = call("POST", base + "/v1/documents", load_fixture("invoice"))
        assert status == 201
        doc = json.loads(body)
        pdf = call("GET", base + f"/v1/documents/{doc['id']}/files/pdf")[2]
        bad = quote_example()
        bad["lines"][0]["unit_price"] = "-1"
        assert call("POST", base + "/v1/documents", bad)[0] == 422

        # separate connections, four at a time, until both workers have answered some
        sent = 0
        with ThreadPoolExecutor(4) as pool:
            while sent < 400:
                statuses = list(pool.map(lambda _: call("GET", base + "/v1/documents")[0], range(20)))
                assert statuses == [200] * 20
                sent += 20
                served_by = {line["pid"] for line in log_lines(log)
                             if line.get("message") == "request" and line["path"] == "/v1/documents"
                             and line["method"] == "GET"}
                if len(served_by) == 2:
                    break
        assert len(served_by) == 2, "one worker answered everything"
        metrics = scrape(base)
        assert sample(metrics, "docsvc_http_requests_total", endpoint="archive.search_documents",
                      status="200") == sent
        assert sample(metrics, "docsvc_http_requests_total", endpoint="documents.issue_document", status="201") == 1
        assert sample(metrics, "docsvc_refusals_total", reason="invalid-payload") == 1
        template = f"{doc['template']['name']}@{doc['template']['version']}"
        assert sample(metrics, "docsvc_render_seconds_count", format="pdf", template=template) == 1
        assert sample(metrics, "docsvc_render_seconds_count", format="docx", template=template) == 1
        assert sample(metrics, "docsvc_render_seconds_sum", format="pdf", template=template) > 0
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        assert sample(metrics, "docsvc_rendered_pages_sum", format="pdf", template=template) == pages
        sizes = {f["format"]: f["size"] for f in doc["files"]}
        assert sample(metrics, "docsvc_output_bytes_sum", format="pdf") == sizes["pdf"] == len(pdf)
        assert sample(metrics, "docsvc_output_bytes_sum", format="docx") == sizes["docx"]
        # the number's claim, the two files, then the resource: four writes; reads of the files fetched and listed
        assert sample(metrics, "docsvc_archive_seconds_count", operation="put") == 4
        assert sample(metrics, "docsvc_archive_seconds_count", operation="get") >= 1

        # a worker replaced (as max_requests or a crash does): its counts stay in the view
        worker = next(iter(served_by))
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while sum(line["message"].startswith("Booting worker") for line in log_lines(log)) < 3:
            assert time.monotonic() < deadline, "gunicorn did not replace the worker"
            time.sleep(0.2)
        metrics = scrape(base)
        assert sample(metrics, "docsvc_http_requests_total", endpoint="archive.search_documents",
                      status="200") == sent
    finally:
        stop_server(proc)


def archive_files(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def cli(tmp_path, *args):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")},
           "DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}"}
    return subprocess.run([DOCSVC, *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.e2e
def test_fifty_refused_requests_leave_the_archive_unchanged(tmp_path):
    reader = cli(tmp_path, "keys", "create", "reader", "--scopes", "documents:read", "--sellers", "*")
    reader = reader.stdout.strip().splitlines()[-1]
    before = archive_files(tmp_path / "archive")
    assert any(k.startswith("audit/") for k in before)  # the key's creation is in the trail
    base, proc, log = start_server(tmp_path, {"DOCSVC_RATE_LIMIT": "1000/second"})
    bad = quote_example()
    bad["seller"].pop("siren")
    try:
        statuses = [call("POST", base + "/v1/documents", bad)[0] for _ in range(15)]
        statuses += [call("GET", base + "/v1/documents", token="dsv_forged")[0] for _ in range(10)]
        statuses += [call("POST", base + "/v1/documents", quote_example(), token=reader)[0] for _ in range(10)]
        statuses += [call("GET", base + f"/v1/documents/912345675-F-2026-{i:04d}")[0] for i in range(10)]
        statuses += [call("POST", base + "/v1/documents/validate", raw=b"<xml/>",
                          headers={"Content-Type": "application/xml"})[0] for _ in range(5)]
        assert statuses == [422] * 15 + [401] * 10 + [403] * 10 + [404] * 10 + [415] * 5
        metrics = scrape(base)
    finally:
        stop_server(proc)  # workers write what they buffer as they exit
    assert archive_files(tmp_path / "archive") == before
    # refusals are in the metrics and the logs instead
    for reason, count in (("invalid-payload", 15), ("unauthorized", 10), ("forbidden", 10), ("not-found", 10),
                          ("unsupported-media-type", 5)):
        assert sample(metrics, "docsvc_refusals_total", reason=reason) == count
    refused = [line for line in log_lines(log) if line.get("message") == "request" and line["status"] >= 400
               and line["path"] != "/metrics"]
    assert len(refused) == 50
    assert [line["problem"] for line in refused] == (["invalid-payload"] * 15 + ["unauthorized"] * 10
                                                     + ["forbidden"] * 10 + ["not-found"] * 10
                                                     + ["unsupported-media-type"] * 5)


@pytest.mark.e2e
def test_an_altered_audit_segment_is_caught_by_audit_verify(tmp_path):
    base, proc, _ = start_server(tmp_path)
    try:
        status, _, body = call("POST", base + "/v1/documents", quote_example(), headers={"X-Request-Id": "iss-1"})
        assert status == 201
        doc_id = json.loads(body)["id"]
        for _ in range(3):
            assert call("GET", base + f"/v1/documents/{doc_id}")[0] == 200
        assert call("GET", base + f"/v1/documents/{doc_id}/verify")[0] == 200
    finally:
        stop_server(proc)
    run = cli(tmp_path, "audit", "verify")
    assert run.returncode == 0, run.stderr
    segments = sorted((tmp_path / "archive" / "audit").rglob("*.jsonl"))
    assert 1 <= len(segments) <= 2  # one per worker that served: not one object per request
    assert re.fullmatch(r"audit trail intact: 5 entries in \d segments from \d writers\n", run.stdout)
    listing = [json.loads(line) for line in cli(tmp_path, "audit").stdout.splitlines()]
    assert [(e["action"], e["target"], e["outcome"]) for e in listing] == [
        ("issue", doc_id, "201"), ("read", doc_id, "200"), ("read", doc_id, "200"), ("read", doc_id, "200"),
        ("verify", doc_id, "200")]

    # someone with write access to the disk turns the request id into another one
    segment = next(s for s in segments if b'"request_id":"iss-1"' in s.read_bytes())
    original = segment.read_bytes()
    segment.chmod(0o644)
    segment.write_bytes(original.replace(b'"request_id":"iss-1"', b'"request_id":"iss-2"'))
    run = cli(tmp_path, "audit", "verify")
    assert run.returncode == 1
    relative = segment.relative_to(tmp_path / "archive").as_posix()
    assert f"docsvc audit verify: {relative}: entry " in run.stderr
    assert "was altered (its SHA-256 does not match)" in run.stderr
    assert run.stdout.startswith("audit trail NOT INTACT (1 problem(s))")
    # ... or removes the entry altogether
    lines = original.splitlines(keepends=True)
    segment.write_bytes(b"".join(line for line in lines if b'"request_id":"iss-1"' not in line))
    run = cli(tmp_path, "audit", "verify")
    assert run.returncode == 1 and "(entries were removed or added)" in run.stderr
