"""schemathesis against the served /v1/openapi.json, with a valid token, through a real
`docsvc serve`: a bounded number of cases per operation, no 5xx, no response that breaks
its own schema."""
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import load_fixture
from tests.e2e.conftest import ADMIN_TOKEN, call, start_server, stop_server

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


@pytest.mark.e2e
def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path):
    base, proc, _ = start_server(tmp_path, {"DOCSVC_RATE_LIMIT": "100000/second",
                                            "DOCSVC_RATE_LIMIT_ANONYMOUS": "100000/second"})
    try:
        assert call("POST", base + "/v1/documents", load_fixture("invoice"))[0] == 201  # something to find
        run = subprocess.run(
            [SCHEMATHESIS, "run", base + "/v1/openapi.json", "-H", f"Authorization: Bearer {ADMIN_TOKEN}",
             "--max-examples", "10", "--checks", "not_a_server_error,response_schema_conformance",
             "--phases", "examples,coverage,fuzzing", "--generation-deterministic", "--request-timeout", "60",
             # publishing takes a zip, which schemathesis can't generate; tests/e2e/test_templates_api.py covers it
             "--exclude-path", "/v1/templates/{name}/versions",
             # without DOCSVC_REDIS_URL these answer 503 by design; tests/e2e/test_batches.py covers them
             "--exclude-path-regex", "^/v1/(batches|jobs)"],
            capture_output=True, text=True, timeout=600)
    finally:
        stop_server(proc)
    assert run.returncode == 0, run.stdout[-4000:]
    summary = run.stdout[run.stdout.rindex("SUMMARY"):]
    assert "Tested: 16" in summary and " passed" in summary and "failed" not in summary.lower(), summary
