"""Access control and hardening through a real `docsvc serve` (2 workers, loopback)."""
import json
import os
import subprocess
from dataclasses import dataclass

import pytest

from tests.conftest import load_fixture, quote_example
from tests.e2e.conftest import (
    ADMIN_TOKEN,
    DOCSVC,
    call,
    free_port,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.e2e  # every test here starts `docsvc serve` (or redis-server), or reads one that did

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


@dataclass
class Scenario:
    """What the scripted scenario of `scenario` saw: answers by name, the log, the audit trail."""
    tokens: dict[str, str]  # key name -> token
    doc_id: str | None
    answers: dict[str, tuple[int, dict, bytes]]
    after_revocation: list[int]  # statuses of 12 reads with the revoked key
    key_listing: str
    log_text: str
    audit: list[dict]

    def status(self, name: str) -> int:
        return self.answers[name][0]

    def problem(self, name: str) -> dict:
        return json.loads(self.answers[name][2])

    @property
    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log_text.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """One served process for the tests below (as many servers as the single test they replace).

    The audit trail is asserted as a whole, in order, so every call is made here, once, in
    the order a billing system, another seller's system and an auditor would make them; each
    test then checks one side of what happened. The server is stopped before the log is read
    (every line written) and before the audit trail is listed."""
    tmp_path = tmp_path_factory.mktemp("access")
    base, proc, log = start_server(tmp_path)
    answers = {}
    try:
        billing = new_key(tmp_path, "billing-durand", "documents:write,documents:read", "912345675")
        other = new_key(tmp_path, "billing-other", "documents:write,documents:read", OTHER_SELLER)
        reader = new_key(tmp_path, "auditor", "documents:read", "*")

        answers["no token"] = call("GET", base + "/v1/documents", token=None)
        answers["forged token"] = call("GET", base + "/v1/documents", token="dsv_forged")

        answers["issue"] = call("POST", base + "/v1/documents", load_fixture("invoice"), token=billing,
                                headers={"X-Request-Id": "issue-42"})
        doc_id = json.loads(answers["issue"][2]).get("id")

        answers["other reads"] = call("GET", base + f"/v1/documents/{doc_id}", token=other)
        answers["other fetches the pdf"] = call("GET", base + f"/v1/documents/{doc_id}/files/pdf", token=other)
        answers["other verifies"] = call("GET", base + f"/v1/documents/{doc_id}/verify", token=other)
        answers["other searches"] = call("GET", base + "/v1/documents", token=other)
        answers["other searches the seller"] = call("GET", base + "/v1/documents?seller=912345675", token=other)
        answers["other issues for the seller"] = call("POST", base + "/v1/documents", quote_example(), token=other)

        answers["auditor reads"] = call("GET", base + f"/v1/documents/{doc_id}", token=reader)
        answers["auditor issues"] = call("POST", base + "/v1/documents", quote_example(), token=reader)
        answers["billing lists templates"] = call("GET", base + "/v1/templates", token=billing)
        answers["billing reads metrics"] = call("GET", base + "/metrics", token=billing)
        answers["admin reads metrics"] = call("GET", base + "/metrics")  # admin token

        answers["billing verifies"] = call("GET", base + f"/v1/documents/{doc_id}/verify", token=billing)
        cli(tmp_path, "keys", "revoke", "billing-durand")
        after_revocation = [call("GET", base + f"/v1/documents/{doc_id}", token=billing)[0] for _ in range(12)]
        key_listing = cli(tmp_path, "keys", "list")
    finally:
        stop_server(proc)
    audit = [json.loads(line) for line in cli(tmp_path, "audit", "--since", "2000-01-01").splitlines()]
    return Scenario({"billing-durand": billing, "billing-other": other, "auditor": reader}, doc_id, answers,
                    after_revocation, key_listing, log.read_text(), audit)


def test_a_token_is_32_random_bytes(scenario):
    token = scenario.tokens["billing-durand"]
    assert token.startswith("dsv_") and len(token) >= 4 + 43  # 32 random bytes, url-safe base64


def test_no_token_or_a_bad_one_is_401_with_www_authenticate(scenario):
    status, headers, body = scenario.answers["no token"]
    assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="docsvc"'
    assert json.loads(body)["status"] == 401
    assert scenario.status("forged token") == 401


def test_an_issue_answers_with_the_request_id_sent(scenario):
    status, headers, _ = scenario.answers["issue"]
    assert status == 201 and headers["X-Request-Id"] == "issue-42"


def test_scopes_limit_what_a_key_does(scenario):
    # a read-only key can read every seller but not issue; no key but admin reads metrics
    assert scenario.status("auditor reads") == 200
    assert scenario.status("auditor issues") == 403
    assert "documents:write" in scenario.problem("auditor issues")["detail"]
    assert scenario.status("billing lists templates") == 403
    assert scenario.status("billing reads metrics") == 403
    assert scenario.status("admin reads metrics") == 200


def test_another_sellers_key_sees_nothing_of_the_document(scenario):
    # 404, not 403: existence doesn't leak; searches come back empty
    assert scenario.status("other reads") == 404
    assert scenario.status("other fetches the pdf") == 404
    assert scenario.status("other verifies") == 404
    assert json.loads(scenario.answers["other searches"][2])["count"] == 0
    assert json.loads(scenario.answers["other searches the seller"][2])["count"] == 0


def test_another_sellers_key_cannot_issue_for_the_seller(scenario):
    assert scenario.status("other issues for the seller") == 403
    assert "912345675" in scenario.problem("other issues for the seller")["detail"]


def test_revocation_takes_effect_at_once_on_every_worker(scenario):
    assert scenario.status("billing verifies") == 200  # the key worked until revoked
    assert set(scenario.after_revocation) == {401}  # 12 reads over the 2 workers
    assert "billing-durand" in scenario.key_listing and "revoked" in scenario.key_listing


def test_tokens_never_reach_the_logs(scenario):
    for token in (*scenario.tokens.values(), ADMIN_TOKEN):
        assert token not in scenario.log_text


def test_the_log_line_of_a_request_names_its_request_id_and_key(scenario):
    issued = next(line for line in scenario.log_lines if line.get("request_id") == "issue-42")
    assert (issued["method"], issued["path"], issued["status"], issued["key"]) == (
        "POST", "/v1/documents", 201, "billing-durand")


def test_refusals_are_in_the_log(scenario):
    refused = [(line["key"], line["status"]) for line in scenario.log_lines if line.get("message") == "request"
               and line["status"] in (403, 404)]
    assert refused.count(("billing-other", 404)) == 3 and ("billing-other", 403) in refused


def test_the_audit_trail_tells_who_did_what_in_order(scenario):
    story = [(e["who"], e["action"], e["outcome"]) for e in scenario.audit]
    # the scripted scenario, in order: who did what. Refusals (401, 403, the other seller's 404s)
    # are not in the archive: they are in the log lines and the metrics
    assert story == [
        ("cli", "key.create", "created"), ("cli", "key.create", "created"), ("cli", "key.create", "created"),
        ("billing-durand", "issue", "201"),
        ("auditor", "read", "200"),
        ("billing-durand", "verify", "200"),
        ("cli", "key.revoke", "revoked"),
    ]
    assert scenario.audit == sorted(scenario.audit, key=lambda e: e["at"])


def test_audit_entries_name_the_document_and_the_request(scenario):
    assert [e["target"] for e in scenario.audit[3:6]] == [scenario.doc_id] * 3
    assert next(e for e in scenario.audit if e["action"] == "issue")["request_id"] == "issue-42"


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
