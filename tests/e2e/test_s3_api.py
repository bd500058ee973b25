"""docsvc on a real S3 (SeaweedFS with Object Lock): issue, verify, faults, races."""
import hashlib
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from docsvc.api.errors import UNAVAILABLE
from docsvc.app import create_app
from docsvc.archive.s3 import S3Archive
from docsvc.settings import Settings
from tests.conftest import load_fixture, quote_example
from tests.e2e.conftest import (
    ADMIN_TOKEN,
    DOCSVC,
    call,
    crash_before_resource,
    free_port,
)
from tests.e2e.test_api import post
from tests.seaweedfs import WEED, SeaweedFS


def s3_client_app(server, bucket, **archive_args):
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"s3://{bucket}", "DOCSVC_S3_ENDPOINT_URL": server.endpoint,
                                  "DOCSVC_AUTH": "disabled", "DOCSVC_DATABASE_URL": os.environ["DOCSVC_DATABASE_URL"]})
    archive = S3Archive(bucket, endpoint_url=server.endpoint, **archive_args) if archive_args else None
    if archive is not None:
        archive.check()
    app = create_app(settings, archive=archive)
    return app, app.test_client()


def objects(server, bucket, prefix="documents/"):
    """The originals and resources in the bucket (the audit trail under audit/ aside)."""
    listing = server.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def stored_resource(server, bucket, doc_id):
    """The resource as archived, with each file's key and S3 version (the API shows neither)."""
    key = f"documents/{doc_id.split('-', 1)[0]}/{doc_id}/resource.json"
    return json.loads(server.client().get_object(Bucket=bucket, Key=key)["Body"].read())


def test_issue_fetch_verify_on_s3(s3_env):
    bucket = s3_env.bucket()
    _, client = s3_client_app(s3_env, bucket)
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
    raw = s3_env.client()
    for key in keys:  # every file and the resource, locked until the same date
        head = raw.head_object(Bucket=bucket, Key=key)
        assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"].date().isoformat()) == (
            "COMPLIANCE", "2036-11-20")
    assert post(client, load_fixture("invoice")).status_code == 200  # a retry
    assert client.get("/readyz").json == {"status": "ready", "archive": "s3", "index": "sqlite"}
    # the operator's command reads the same retention from S3
    env = {**os.environ, "DOCSVC_ARCHIVE_URL": f"s3://{bucket}"}
    run = subprocess.run([DOCSVC, "verify", r.json["id"]], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == "intact" and len(lines) == 3
    assert all(" intact " in line and line.endswith("retention COMPLIANCE until 2036-11-20") for line in lines[:2])


@pytest.mark.e2e  # starts `docsvc serve`
def test_an_unlocked_bucket_only_when_allowed(s3_env, tmp_path):
    bucket = s3_env.bucket(locked=False)
    env = {**os.environ, **s3_env.env(), "DOCSVC_ARCHIVE_URL": f"s3://{bucket}"}
    run = subprocess.run([DOCSVC, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2
    assert json.loads(run.stderr)["message"] == (f"docsvc: archive not usable: bucket '{bucket}' has no Object Lock: "
                                  "run `docsvc "
                                  "archive init` (or use a new bucket), or set DOCSVC_S3_ALLOW_UNLOCKED=1 for "
                                  "development only")
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"s3://{bucket}", "DOCSVC_S3_ALLOW_UNLOCKED": "1",
                                  "DOCSVC_S3_ENDPOINT_URL": s3_env.endpoint, "DOCSVC_AUTH": "disabled",
                                  "DOCSVC_DATABASE_URL": os.environ["DOCSVC_DATABASE_URL"]})
    client = create_app(settings).test_client()
    r = post(client, quote_example())
    assert r.status_code == 201 and r.json["archive"] == {"backend": "s3", "retain_until": None}
    report = client.get(f"/v1/documents/{r.json['id']}/verify").json
    assert report["intact"] and [(f["retention_mode"], f["retain_until"]) for f in report["files"]] == [(None, None)]


@pytest.mark.e2e  # starts `docsvc serve`
def test_serve_refuses_a_missing_bucket_in_one_line(s3_env):
    env = {**os.environ, **s3_env.env(), "DOCSVC_ARCHIVE_URL": "s3://docsvc-never-created"}
    run = subprocess.run([DOCSVC, "serve", "--port", str(free_port())], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2
    assert json.loads(run.stderr)["message"] == ("docsvc: archive not usable: S3 archive "
                                  "(bucket docsvc-never-created): the bucket "
                                  "does not exist (create it with `docsvc archive init`)")


def test_a_crash_between_files_and_resource_is_completed_on_s3(s3_env):
    bucket = s3_env.bucket()
    app, client = s3_client_app(s3_env, bucket)
    archive = app.extensions["docsvc"].archive
    real_put = crash_before_resource(archive)
    assert post(client, quote_example()).status_code == 500
    orphans = objects(s3_env, bucket)
    assert len(orphans) == 1 and orphans[0].endswith(".pdf")
    raw = s3_env.client()
    orphan_version = raw.head_object(Bucket=bucket, Key=orphans[0])["VersionId"]
    assert client.get("/v1/documents/912345675-F-2026-0007").status_code == 404
    archive.put_once = real_put
    r = post(client, quote_example())
    assert r.status_code == 201
    assert objects(s3_env, bucket) == sorted(orphans + [f"documents/912345675/{r.json['id']}/resource.json"])
    # the file written before the crash was kept (same version), not rewritten
    assert [f["version"] for f in stored_resource(s3_env, bucket, r.json["id"])["files"]] == [orphan_version]
    assert [len(raw.list_object_versions(Bucket=bucket, Prefix=orphans[0])["Versions"])] == [1]
    assert client.get(f"/v1/documents/{r.json['id']}/verify").json["intact"] is True


@pytest.mark.e2e  # starts `docsvc serve`
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
        start = threading.Barrier(20)

        def send(payload):
            start.wait()
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
    assert statuses.count(201) == 1 and len(answers) == 20, statuses
    winner = next(body for _, status, body in answers if status == 201)
    winner_sent_same = next(is_same for is_same, status, _ in answers if status == 201)
    for is_same, status, body in answers:
        if status == 200:  # a retry of the winning payload gets the winner's resource
            assert is_same == winner_sent_same and body == winner
        elif status == 409:  # the other payload is refused, naming the original
            assert is_same != winner_sent_same and body["existing"] == winner["id"]
        else:
            assert status == 201
    keys = objects(s3_env, bucket)
    assert [k for k in keys if k.endswith("resource.json")] == [f"documents/912345675/{winner['id']}/resource.json"]
    raw = s3_env.client()
    for f in stored_resource(s3_env, bucket, winner["id"])["files"]:  # one version of each, the one recorded
        versions = raw.list_object_versions(Bucket=bucket, Prefix=f["key"])["Versions"]
        assert [v["VersionId"] for v in versions] == [f["version"]]
        data = raw.get_object(Bucket=bucket, Key=f["key"])["Body"].read()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]


@pytest.fixture
def own_seaweedfs(tmp_path):
    server = SeaweedFS(tmp_path / "sw").start()
    env = {key: os.environ.get(key) for key in server.env()}
    os.environ.update(server.env())
    yield server
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if server.proc and server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGCONT)
    server.stop()


def test_s3_slow_or_down_is_503_then_the_same_request_succeeds(own_seaweedfs, capfd):
    server = own_seaweedfs
    bucket = server.bucket()
    app, client = s3_client_app(server, bucket, connect_timeout=1, read_timeout=2, cooldown=3)
    archive = app.extensions["docsvc"].archive
    real_put = archive.put_once

    def freeze_before_the_resource(key, data, **kw):
        if key.endswith("resource.json"):  # the files are written: S3 hangs now
            os.killpg(server.proc.pid, signal.SIGSTOP)
        return real_put(key, data, **kw)

    def when_ready():
        deadline = time.monotonic() + 20
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "S3 did not come back"
            time.sleep(0.5)

    # slow: S3 stops answering while the resource is being written
    archive.put_once = freeze_before_the_resource
    started = time.monotonic()
    r = post(client, quote_example())
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.mimetype == "application/problem+json"
    assert r.json["detail"] == UNAVAILABLE and bucket not in r.text  # the reason goes to the log only
    assert f"S3 archive (bucket {bucket}): S3 at {server.endpoint} did not answer in time" in capfd.readouterr().err
    # one hung call (two tries of 2 s), then the rest fails at once
    assert time.monotonic() - started < 10
    ready = client.get("/readyz")
    assert ready.status_code == 503 and bucket not in ready.text and server.endpoint not in ready.text
    os.killpg(server.proc.pid, signal.SIGCONT)
    archive.put_once = real_put
    # nothing half-written: S3 stores an object whole or not at all, so what is there now is
    # the file (and the resource too if the timed-out PUT landed after all), each complete
    raw = server.client()
    for key in objects(server, bucket):
        head = raw.head_object(Bucket=bucket, Key=key)
        assert len(raw.get_object(Bucket=bucket, Key=key)["Body"].read()) == head["ContentLength"] > 0
    when_ready()
    r = post(client, quote_example())  # the same request, once S3 answers again
    assert r.status_code in (200, 201), r.json
    assert client.get(f"/v1/documents/{r.json['id']}/verify").json["intact"] is True

    # down: the server is stopped
    server.stop()
    second = quote_example()
    second["number"] = "F-2026-0008"
    started = time.monotonic()
    r = post(client, second)
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.json["detail"] == UNAVAILABLE
    assert f"S3 archive (bucket {bucket}): S3 is not reachable at {server.endpoint}" in capfd.readouterr().err
    assert time.monotonic() - started < 3
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["title"] == "Not ready" and bucket not in ready.text
    # back: the same request succeeds
    server.start()
    when_ready()
    r = post(client, second)
    assert r.status_code == 201, r.json
    assert sum(k.endswith("resource.json") for k in objects(server, bucket)) == 2
    # the audit trail kept through the outage lands once S3 is back (flushed here, while this
    # test's server runs: no timer of this app outlives it to fail against a stopped server)
    audit = app.extensions["docsvc"].audit
    audit.flush()
    assert audit.pending == 0 and objects(server, bucket, "audit/")


def test_versions_stacked_or_delete_markers_through_the_raw_api_are_ignored(s3_env):
    bucket = s3_env.bucket()
    _, client = s3_client_app(s3_env, bucket)
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
    # a DELETE without a version id hides the key from plain S3 listings, not from docsvc
    raw.delete_object(Bucket=bucket, Key=resource_key)
    raw.delete_object(Bucket=bucket, Key=pdf_key)
    assert objects(s3_env, bucket) == []
    assert client.get(f"/v1/documents/{created['id']}").json["totals"]["amount_due"] == "5353.00"
    assert [d["id"] for d in client.get("/v1/documents?seller=912345675").json["items"]] == [created["id"]]
    assert client.get(f"/v1/documents/{created['id']}/verify").json["intact"] is True
    changed = quote_example()
    changed["lines"][0]["unit_price"] = "1.00"
    assert post(client, changed).status_code == 409  # still the original, never replaced


def test_the_lock_holds_at_the_s3_api_not_below_it(s3_env):
    """What Object Lock does not cover: SeaweedFS checks it in its S3 gateway only. The filer
    and volume servers' HTTP ports refuse unsigned requests (JWT keys set), but anyone who can
    reach the filer's gRPC port (weed shell; no credentials unless gRPC mTLS is set up) removes
    a COMPLIANCE-locked original. verify says so."""
    bucket = s3_env.bucket()
    _, client = s3_client_app(s3_env, bucket)
    created = post(client, quote_example()).json
    record = stored_resource(s3_env, bucket, created["id"])["files"][0]
    pdf_key, version = record["key"], record["version"]
    filer = f"http://127.0.0.1:{s3_env.ports['filer']}/buckets/{bucket}/{pdf_key}.versions/v_{version}"
    for method in ("GET", "DELETE"):
        status, _, body = call(method, filer, token=None)
        assert (status, json.loads(body)) == (401, {"error": "wrong jwt"})
    p = s3_env.ports
    shell = subprocess.run([WEED, "shell", f"-master=127.0.0.1:{p['master']}.{p['master_grpc']}",
                            f"-filer=127.0.0.1:{p['filer']}.{p['filer_grpc']}"],
                           input=f"fs.rm -r /buckets/{bucket}/{pdf_key.rsplit('/', 1)[0]}\n",
                           capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    report = client.get(f"/v1/documents/{created['id']}/verify").json
    assert report["intact"] is False
    assert [(f["format"], f["intact"], f["error"]) for f in report["files"]] == [
        ("pdf", False, "missing from the archive")]
