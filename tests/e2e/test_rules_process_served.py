"""Through `docsvc serve`, a Factur-X's official rules are checked in a process the gunicorn
worker starts (issue 16): Saxon is loaded there, never in the worker; a broken e-invoice is
still refused with the rule named; the process goes away with the server."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import quote_example
from tests.e2e.conftest import call, start_server, stop_server
from tests.e2e.test_parts_served import descendants

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
