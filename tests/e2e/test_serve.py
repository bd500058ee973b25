"""Once through a real `docsvc serve` (gunicorn) on 127.0.0.1, as an operator runs it."""
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import load_fixture
from tests.e2e.conftest import DOCSVC, call, free_port


@pytest.mark.e2e
def test_issue_fetch_and_verify_through_a_real_server(server):
    status, headers, body = call("POST", server + "/v1/documents", load_fixture("invoice"))
    assert status == 201, body
    resource = json.loads(body)
    assert headers["Location"] == f"/v1/documents/{resource['id']}"
    assert [f["format"] for f in resource["files"]] == ["pdf", "docx"]
    for f in resource["files"]:
        status, headers, data = call("GET", server + f["url"])
        assert status == 200
        assert hashlib.sha256(data).hexdigest() == f["sha256"] == headers["ETag"].strip('"')
    status, _, body = call("POST", server + "/v1/documents", load_fixture("invoice"))
    assert status == 200 and json.loads(body)["id"] == resource["id"]
    status, _, body = call("GET", server + f"/v1/documents/{resource['id']}/verify")
    assert status == 200 and json.loads(body)["intact"] is True
    status, headers, body = call("POST", server + "/v1/documents", {"type": "invoice"})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"
    assert "number" in json.loads(body)["errors"]
    assert call("GET", server + "/readyz")[0] == 200


@pytest.mark.e2e
def test_bad_settings_stop_start_up_naming_them(tmp_path):
    env = {**os.environ, "DOCSVC_RETENTION_YEARS": "ten", "DOCSVC_COLOUR": "blue"}
    out = subprocess.run([DOCSVC, "serve", "--port", str(free_port())], env=env, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2
    assert "DOCSVC_RETENTION_YEARS" in out.stderr and "DOCSVC_COLOUR: unknown setting" in out.stderr


@pytest.mark.e2e
def test_render_offline(tmp_path):
    out = tmp_path / "credit.pdf"
    run = subprocess.run([DOCSVC, "render", "fixtures/credit_note.json", "-o", str(out)],
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert run.returncode == 0, run.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    # 20 %: 4 x 18.00 + 39.90 = 111.90 -> VAT 22.38; 10 %: 85.00 -> 8.50 => gross 227.78
    assert "gross 227.78" in run.stdout
    docx = tmp_path / "credit.docx"
    run = subprocess.run([DOCSVC, "render", "fixtures/credit_note.json", "-o", str(docx), "--format", "docx"],
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert run.returncode == 0 and docx.read_bytes()[:2] == b"PK"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "invoice", "number": "F 1"}))
    run = subprocess.run([DOCSVC, "render", str(bad)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "number:" in run.stderr
