"""docsvc on a real S3 (SeaweedFS with Object Lock): issue, verify, faults, races."""
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from docsvc.app import create_app
from docsvc.archive.s3 import S3Archive
from docsvc.settings import Settings
from tests.conftest import load_fixture, quote_example
from tests.e2e.conftest import ADMIN_TOKEN, DOCSVC, call, free_port
from tests.e2e.test_api import post
from tests.seaweedfs import SeaweedFS


def s3_client_app(server, bucket, **archive_args):
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"s3://{bucket}", "DOCSVC_S3_ENDPOINT_URL": server.endpoint,
                                  "DOCSVC_AUTH": "disabled"})
    archive = S3Archive(bucket, endpoint_url=server.endpoint, **archive_args) if archive_args else None
    if archive is not None:
        archive.check()
    app = create_app(settings, archive=archive)
    return app, app.test_client()


def objects(server, bucket, prefix="documents/"):
    """The originals and resources in the bucket (the audit trail under audit/ aside)."""
    listing = server.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def test_issue_fetch_verify_on_s3(s3_env):
    bucket = s3_env.bucket()
    app, client = s3_client_app(s3_env, bucket)
    r = post(client, load_fixture("invoice"))
    assert r.status_code == 201, r.json
    assert r.json["archive"] == {"backend": "s3", "retain_until": "2036-11-20"}  # issued 2026-11-20, + 10 years
    assert client.get(r.json["files"][0]["url"]).data.startswith(b"%PDF-")
    report = client.get(f"/v1/documents/{r.json['id']}/verify").json
    assert report["intact"] is True
    assert {(f["format"], f["retention_mode"], f["retain_until"]) for f in report["files"]} == {
        ("pdf", "COMPLIANCE", "2036-11-20"), ("docx", "COMPLIANCE", "2036-11-20")}
    keys = objects(s3_env, bucket)
    assert len(keys) == 3 and keys[-1].endswith("resource.json")
    resource = s3_env.client().head_object(Bucket=bucket, Key=keys[-1])
    assert resource["ObjectLockMode"] == "COMPLIANCE"  # the resource is locked too
    assert post(client, load_fixture("invoice")).status_code == 200  # a retry
    assert client.get("/readyz").json == {"status": "ready", "archive": "s3"}


def test_an_unlocked_bucket_only_when_allowed(s3_env, tmp_path):
    bucket = s3_env.bucket(locked=False)
    env = {**os.environ, **s3_env.env(), "DOCSVC_ARCHIVE_URL": f"s3://{bucket}"}
    run = subprocess.run([DOCSVC, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2 and "has no Object Lock" in run.stderr
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"s3://{bucket}", "DOCSVC_S3_ALLOW_UNLOCKED": "1",
                                  "DOCSVC_S3_ENDPOINT_URL": s3_env.endpoint, "DOCSVC_AUTH": "disabled"})
    client = create_app(settings).test_client()
    r = post(client, quote_example())
    assert r.status_code == 201 and r.json["archive"] == {"backend": "s3", "retain_until": None}


def test_a_crash_between_files_and_resource_is_completed_on_s3(s3_env):
    bucket = s3_env.bucket()
    app, client = s3_client_app(s3_env, bucket)
    archive = app.extensions["docsvc.service"].archive
    real_put = archive.put_once
    archive.put_once = lambda key, data, **kw: (_ for _ in ()).throw(RuntimeError("crash")) \
        if key.endswith("resource.json") else real_put(key, data, **kw)
    assert post(client, quote_example()).status_code == 500
    orphans = objects(s3_env, bucket)
    assert len(orphans) == 1 and orphans[0].endswith(".pdf")
    archive.put_once = real_put
    r = post(client, quote_example())
    assert r.status_code == 201
    assert objects(s3_env, bucket) == sorted(orphans + [f"documents/912345675/{r.json['id']}/resource.json"])


def test_twenty_concurrent_posts_make_one_original(s3_env, tmp_path):
    bucket = s3_env.bucket()
    port = free_port()
    env = {**os.environ, **s3_env.env(), "DOCSVC_ARCHIVE_URL": f"s3://{bucket}", "DOCSVC_WORKERS": "2",
           "DOCSVC_ADMIN_TOKEN": ADMIN_TOKEN, "DOCSVC_RATE_LIMIT": "1000/second"}
    proc = subprocess.Popen([DOCSVC, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if call("GET", base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.25)
        same, other = quote_example(), quote_example()
        other["lines"][0]["unit_price"] = "2500.00"
        answers = []

        def send(payload):
            status, _, body = call("POST", base + "/v1/documents", payload)
            answers.append((payload is same, status, json.loads(body)))

        threads = [threading.Thread(target=send, args=(same if i % 2 else other,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    statuses = sorted(status for _, status, _ in answers)
    assert statuses.count(201) == 1 and len(answers) == 20
    winner = next(body for _, status, body in answers if status == 201)
    for is_same, status, body in answers:
        if status == 200:
            assert body["id"] == winner["id"] and body["payload_sha256"] == winner["payload_sha256"]
        elif status == 409:
            assert body["existing"] == winner["id"]
        else:
            assert status == 201
    resources = [k for k in objects(s3_env, bucket) if k.endswith("resource.json")]
    assert resources == [f"documents/912345675/{winner['id']}/resource.json"]


@pytest.fixture
def own_seaweedfs(tmp_path):
    server = SeaweedFS(tmp_path / "sw").start()
    yield server
    if server.proc and server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGCONT)
    server.stop()


def test_s3_down_or_slow_is_503_then_recovers(own_seaweedfs, tmp_path):
    server = own_seaweedfs
    bucket = server.bucket()
    for key, value in server.env().items():
        os.environ[key] = value
    try:
        app, client = s3_client_app(server, bucket, connect_timeout=1, read_timeout=2)
        # slow: the server is frozen (SIGSTOP), connections hang until the read timeout
        os.killpg(server.proc.pid, signal.SIGSTOP)
        r = post(client, quote_example())
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        assert r.mimetype == "application/problem+json" and "S3" in r.json["detail"]
        os.killpg(server.proc.pid, signal.SIGCONT)
        assert objects(server, bucket) == []  # nothing half-written
        # down: the server is stopped
        server.stop()
        r = post(client, quote_example())
        assert r.status_code == 503 and "Retry-After" in r.headers
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "not reachable" in ready.json["detail"]
        # back: the same request succeeds
        server.start()
        r = post(client, quote_example())
        assert r.status_code == 201, r.json
        assert client.get("/readyz").status_code == 200
    finally:
        for key in server.env():
            os.environ.pop(key, None)


def test_versions_stacked_through_the_raw_api_are_ignored(s3_env):
    bucket = s3_env.bucket()
    app, client = s3_client_app(s3_env, bucket)
    created = post(client, quote_example()).json
    raw = s3_env.client()
    resource_key = f"documents/912345675/{created['id']}/resource.json"
    pdf_key = next(k for k in objects(s3_env, bucket) if k.endswith(".pdf"))
    forged = dict(created, totals=dict(created["totals"], amount_due="0.00"))
    raw.put_object(Bucket=bucket, Key=resource_key, Body=json.dumps(forged).encode())
    raw.put_object(Bucket=bucket, Key=pdf_key, Body=b"%PDF-1.7 forged")
    assert client.get(f"/v1/documents/{created['id']}").json["totals"]["amount_due"] == "5353.00"
    assert client.get(created["files"][0]["url"]).data.startswith(b"%PDF-1.7\n")  # WeasyPrint's, not the forgery
    assert client.get(f"/v1/documents/{created['id']}/verify").json["intact"] is True
