"""Through `docsvc serve`, a Factur-X's official rules are checked in a process the gunicorn
worker starts (issue 16): Saxon is loaded there, never in the worker; a broken e-invoice is
still refused with the rule named; the process goes away with the server."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import quote_example
from tests.e2e.conftest import call, start_server, stop_server
from tests.e2e.test_parts_served import descendants
from tests.integration.test_helper_memory import gone

pytestmark = pytest.mark.e2e


def loads_saxon(pid: int) -> bool:
    return "saxonche" in Path(f"/proc/{pid}/maps").read_text()


def alive(pid: int) -> bool:
    path = Path(f"/proc/{pid}/stat")
    return path.exists() and "Z" not in path.read_text().rsplit(")", 1)[1].split()[0]


def test_the_rules_are_checked_beside_the_worker(tmp_path):
    base, proc, log = start_server(tmp_path, {"DOCSVC_WORKERS": "1"})
    try:
        worker, = descendants(proc.pid)
        raw = quote_example()
        raw["formats"] = ["pdf", "facturx"]
        status, _, body = call("POST", base + "/v1/documents", raw)
        assert status == 201, body
        assert [f["format"] for f in json.loads(body)["files"]] == ["pdf", "facturx", "xml"]
        started = descendants(worker)  # the rules' process (and multiprocessing's resource tracker)
        checker, = [pid for pid in started if loads_saxon(pid)]
        assert not loads_saxon(worker)
        # a retry is answered with the original, without checking again
        status, _, again = call("POST", base + "/v1/documents", raw)
        assert status == 200 and json.loads(again)["files"] == json.loads(body)["files"]
        everything = {worker, *started}
    finally:
        stop_server(proc)
    assert not {pid for pid in everything if alive(pid)}, log.read_text()


def test_a_rules_process_past_the_memory_limit_is_stopped_after_the_request(tmp_path):
    """DOCSVC_WORKER_MAX_RSS_MB at its floor, 64: after the Factur-X, the post_request hook
    stops the rules' process (Saxon alone is bigger) and says so; the worker, bigger too, is
    replaced; the next Factur-X is checked by a new process and issued."""
    base, proc, log = start_server(tmp_path, {"DOCSVC_WORKERS": "1", "DOCSVC_WORKER_MAX_RSS_MB": "64"})
    try:
        raw = quote_example()
        raw["formats"] = ["pdf", "facturx"]
        status, _, body = call("POST", base + "/v1/documents", raw)
        assert status == 201, body
        def stopped() -> list[dict]:
            return [json.loads(line) for line in log.read_text().splitlines()
                    if "its process" in line and "stopping it" in line]

        deadline = time.monotonic() + 5
        while not stopped() and time.monotonic() < deadline:  # the hook runs after the response is sent
            time.sleep(0.05)
        lines = stopped()
        assert len(lines) == 1 and "DOCSVC_WORKER_MAX_RSS_MB=64" in lines[0]["message"], log.read_text()
        pid = int(lines[0]["message"].split("its process ")[1].split()[0])
        assert gone(pid)
        raw["number"] = "F-2026-0143"
        status, _, body = call("POST", base + "/v1/documents", raw)
        assert status == 201, body
        assert [f["format"] for f in json.loads(body)["files"]] == ["pdf", "facturx", "xml"]
    finally:
        stop_server(proc)
