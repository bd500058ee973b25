"""Access control and hardening through a real `docsvc serve` (2 workers, loopback)."""
import json
import os
import subprocess

from tests.conftest import load_fixture, quote_example
from tests.e2e.conftest import (
    ADMIN_TOKEN,
    DOCSVC,
    call,
    free_port,
    start_server,
    stop_server,
)

OTHER_SELLER = "793482159"


def cli(tmp_path, *args):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")},
           "DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}"}
    run = subprocess.run([DOCSVC, *args], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def new_key(tmp_path, name, scopes, sellers):
    out = cli(tmp_path, "keys", "create", name, "--scopes", scopes, "--sellers", sellers)
    return out.strip().splitlines()[-1]  # the token is the last line


def test_keys_scopes_sellers_revocation_logs_and_audit(tmp_path):
    base, proc, log = start_server(tmp_path)
    try:
        billing = new_key(tmp_path, "billing-durand", "documents:write,documents:read", "912345675")
        other = new_key(tmp_path, "billing-other", "documents:write,documents:read", OTHER_SELLER)
        reader = new_key(tmp_path, "auditor", "documents:read", "*")
        assert billing.startswith("dsv_") and len(billing) >= 4 + 43  # 32 random bytes, url-safe base64

        # 401 without a token, or with a bad one, with WWW-Authenticate
        status, headers, body = call("GET", base + "/v1/documents", token=None)
        assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="docsvc"'
        assert json.loads(body)["status"] == 401
        assert call("GET", base + "/v1/documents", token="dsv_forged")[0] == 401

        status, headers, body = call("POST", base + "/v1/documents", load_fixture("invoice"), token=billing,
                                     headers={"X-Request-Id": "issue-42"})
        assert status == 201 and headers["X-Request-Id"] == "issue-42"
        doc_id = json.loads(body)["id"]

        # another seller's key: 404 (existence doesn't leak), empty search, can't issue for it (403)
        assert call("GET", base + f"/v1/documents/{doc_id}", token=other)[0] == 404
        assert call("GET", base + f"/v1/documents/{doc_id}/files/pdf", token=other)[0] == 404
        assert call("GET", base + f"/v1/documents/{doc_id}/verify", token=other)[0] == 404
        assert json.loads(call("GET", base + "/v1/documents", token=other)[2])["count"] == 0
        assert json.loads(call("GET", base + "/v1/documents?seller=912345675", token=other)[2])["count"] == 0
        status, _, body = call("POST", base + "/v1/documents", quote_example(), token=other)
        assert status == 403 and "912345675" in json.loads(body)["detail"]
        # a read-only key can read every seller but not issue; no key but admin reads metrics
        assert call("GET", base + f"/v1/documents/{doc_id}", token=reader)[0] == 200
        status, _, body = call("POST", base + "/v1/documents", quote_example(), token=reader)
        assert status == 403 and "documents:write" in json.loads(body)["detail"]
        assert call("GET", base + "/v1/templates", token=billing)[0] == 403
        assert call("GET", base + "/metrics", token=billing)[0] == 403
        assert call("GET", base + "/metrics")[0] == 200  # admin token

        assert call("GET", base + f"/v1/documents/{doc_id}/verify", token=billing)[0] == 200
        # revocation takes effect at once, on every worker
        cli(tmp_path, "keys", "revoke", "billing-durand")
        assert {call("GET", base + f"/v1/documents/{doc_id}", token=billing)[0] for _ in range(12)} == {401}
        listing = cli(tmp_path, "keys", "list")
        assert "billing-durand" in listing and "revoked" in listing
    finally:
        stop_server(proc)

    text = log.read_text()
    for token in (billing, other, reader, ADMIN_TOKEN):
        assert token not in text  # tokens never reach the logs
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    issued = next(line for line in lines if line.get("request_id") == "issue-42")
    assert (issued["method"], issued["path"], issued["status"], issued["key"]) == (
        "POST", "/v1/documents", 201, "billing-durand")

    events = [json.loads(line) for line in cli(tmp_path, "audit", "--since", "2000-01-01").splitlines()]
    story = [(e["who"], e["action"], e["outcome"]) for e in events]
    # the scripted scenario, in order: who did what. Refusals (401, 403, the other seller's 404s)
    # are not in the archive: they are in the log lines and the metrics
    assert story == [
        ("cli", "key.create", "created"), ("cli", "key.create", "created"), ("cli", "key.create", "created"),
        ("billing-durand", "issue", "201"),
        ("auditor", "read", "200"),
        ("billing-durand", "verify", "200"),
        ("cli", "key.revoke", "revoked"),
    ]
    refused = [(line["key"], line["status"]) for line in lines if line.get("message") == "request"
               and line["status"] in (403, 404)]
    assert refused.count(("billing-other", 404)) == 3 and ("billing-other", 403) in refused
    assert [e["target"] for e in events[3:6]] == [doc_id, doc_id, doc_id]
    assert events == sorted(events, key=lambda e: e["at"])
    assert next(e for e in events if e["action"] == "issue")["request_id"] == "issue-42"


def test_rate_limit_and_body_limit(tmp_path):
    base, proc, _ = start_server(tmp_path, {"DOCSVC_RATE_LIMIT": "5/minute", "DOCSVC_MAX_BODY_BYTES": "4096"})
    try:
        statuses = []
        for _ in range(15):  # 5 a minute per worker: at most 10 pass with 2 workers
            status, headers, body = call("GET", base + "/v1/documents")
            statuses.append(status)
            if status == 429:
                problem = json.loads(body)
                assert headers["Content-Type"] == "application/problem+json" and problem["status"] == 429
                assert 1 <= int(headers["Retry-After"]) <= 60
        # one worker or two, each counts its own window in memory (Redis shares it: DOCSVC_REDIS_URL)
        assert statuses.count(200) <= 10 and 429 in statuses
    finally:
        stop_server(proc)
    base, proc, _ = start_server(tmp_path, {"DOCSVC_MAX_BODY_BYTES": "4096"})
    try:
        big = quote_example()
        big["notes"] = ["x" * 900] * 10  # ~10 kB > 4096 bytes
        status, headers, body = call("POST", base + "/v1/documents/validate", big)
        assert status == 413 and headers["Content-Type"] == "application/problem+json"
        assert "DOCSVC_MAX_BODY_BYTES (4096 bytes)" in json.loads(body)["detail"]
    finally:
        stop_server(proc)


def test_auth_disabled_only_on_loopback_and_bootstrap_key(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")},
           "DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}", "DOCSVC_AUTH": "disabled"}
    run = subprocess.run([DOCSVC, "serve", "--host", "0.0.0.0", "--port", str(free_port())], env=env,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2 and json.loads(run.stderr)["message"] == (
        "docsvc: DOCSVC_AUTH=disabled is only accepted on a loopback address, not 0.0.0.0")
    # first start of the embedded default with no key: an admin key is created and shown once
    base, proc, log = start_server(tmp_path, token=None)
    try:
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        shown = [line for line in lines if "created the admin key" in line["message"]]
        assert len(shown) == 1 and shown[0]["level"] == "warning"
        token = shown[0]["token"]
        assert call("GET", base + "/v1/documents", token=token)[0] == 200
    finally:
        stop_server(proc)
    base, proc, log = start_server(tmp_path, token=None)  # second start: nothing new is printed
    try:
        assert "created the admin key" not in log.read_text()
    finally:
        stop_server(proc)


def test_input_limits_are_named(tmp_path):
    base, proc, _ = start_server(tmp_path, {"DOCSVC_MAX_LINES": "3", "DOCSVC_MAX_DEPTH": "8"})
    try:
        raw = quote_example()
        raw["lines"] = raw["lines"] * 2  # 6 lines > 3
        status, _, body = call("POST", base + "/v1/documents/validate", raw)
        assert status == 422 and json.loads(body)["errors"]["lines"] == ["6 lines, at most 3 (DOCSVC_MAX_LINES)."]
        deep = quote_example()
        deep["notes"] = [[[[[[[["deep"]]]]]]]]
        status, _, body = call("POST", base + "/v1/documents/validate", deep)
        assert status == 422 and "DOCSVC_MAX_DEPTH" in json.loads(body)["errors"]["$"][0]
        spec = json.loads(call("GET", base + "/v1/openapi.json")[2])
        assert spec["info"]["x-docsvc-limits"]["max_lines"] == 3
    finally:
        stop_server(proc)


def test_rate_limit_is_shared_across_workers_through_redis(tmp_path):
    """With DOCSVC_REDIS_URL, the two workers count one window: exactly 5 of 12 pass."""
    import shutil
    import socket
    import time

    redis = shutil.which("redis-server")
    assert redis, "redis-server is missing: scripts/setup.sh installs it"
    port = free_port()
    server = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        base, proc, _ = start_server(tmp_path, {"DOCSVC_RATE_LIMIT": "5/minute",
                                                "DOCSVC_REDIS_URL": f"redis://127.0.0.1:{port}/0"})
        try:
            statuses = [call("GET", base + "/v1/documents")[0] for _ in range(12)]
        finally:
            stop_server(proc)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert statuses.count(200) == 5 and statuses.count(429) == 7
