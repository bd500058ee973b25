"""What the S3 lock guarantees, shown on a real SeaweedFS through the S3 API."""
import base64
import hashlib
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from docsvc.archive import AlreadyExists, ArchiveUnavailable, NotFound
from docsvc.archive.s3 import S3Archive
from docsvc.settings import Settings, SettingsError
from tests.seaweedfs import free_ports

DOCSVC = str(Path(sys.executable).with_name("docsvc"))
UNTIL = date(2036, 11, 20)


def locked_archive(server, prefix=""):
    archive = S3Archive(server.bucket(), prefix, endpoint_url=server.endpoint)
    archive.check()
    return archive


def put(archive, key, data=b"original", until=UNTIL):
    return archive.put_once(key, data, content_type="application/pdf", retain_until=until)


def error_code(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"]


def test_every_object_is_locked_in_compliance_until_its_date(s3_env):
    archive = locked_archive(s3_env)
    stored = put(archive, "documents/x/a.pdf")
    assert (stored.retention_mode, stored.retain_until) == ("COMPLIANCE", UNTIL)
    head = archive.head("documents/x/a.pdf")
    assert (head.retention_mode, head.retain_until, head.size) == ("COMPLIANCE", UNTIL, 8)
    assert head.version == stored.version
    raw = s3_env.client().head_object(Bucket=archive.bucket, Key="documents/x/a.pdf", ChecksumMode="ENABLED")
    assert raw["ContentType"] == "application/pdf"
    assert raw["ObjectLockRetainUntilDate"] == datetime(2036, 11, 20, tzinfo=UTC)
    assert raw["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"original").digest()).decode()


def test_the_store_checks_the_sha256_sent_with_the_bytes(s3_env):
    archive = locked_archive(s3_env)
    client = s3_env.client()
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    code = error_code(lambda: client.put_object(Bucket=archive.bucket, Key="documents/x/a.pdf", Body=b"original",
                                                ChecksumSHA256=wrong, IfNoneMatch="*"))
    assert code == "BadDigest"
    assert archive.head("documents/x/a.pdf") is None  # nothing kept of a damaged upload


def test_deleting_or_weakening_a_locked_version_is_refused(s3_env):
    archive = locked_archive(s3_env)
    put(archive, "documents/x/a.pdf")
    client, bucket, key = s3_env.client(), archive.bucket, "documents/x/a.pdf"
    version = client.head_object(Bucket=bucket, Key=key)["VersionId"]
    assert error_code(lambda: client.delete_object(Bucket=bucket, Key=key, VersionId=version)) == "AccessDenied"
    assert error_code(lambda: client.delete_object(Bucket=bucket, Key=key, VersionId=version,
                                                   BypassGovernanceRetention=True)) == "AccessDenied"
    batch = client.delete_objects(Bucket=bucket, BypassGovernanceRetention=True,
                                  Delete={"Objects": [{"Key": key, "VersionId": version}]})
    assert [e["Code"] for e in batch["Errors"]] == ["AccessDenied"] and not batch.get("Deleted")
    for mode, until in (("COMPLIANCE", "2027-01-01T00:00:00Z"), ("GOVERNANCE", "2040-01-01T00:00:00Z")):
        assert error_code(lambda mode=mode, until=until: client.put_object_retention(
            Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True,
            Retention={"Mode": mode, "RetainUntilDate": until})) == "AccessDenied"
    assert error_code(lambda: client.put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})) == "InvalidBucketState"
    assert error_code(lambda: client.delete_bucket(Bucket=bucket)) == "BucketNotEmpty"
    # lengthening is allowed, as on AWS
    client.put_object_retention(Bucket=bucket, Key=key, VersionId=version,
                                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": "2040-01-01T00:00:00Z"})
    assert archive.head(key).retain_until == date(2040, 1, 1)
    assert archive.get(key) == b"original"


def test_an_overwrite_attempt_leaves_the_original_intact(s3_env):
    archive = locked_archive(s3_env)
    put(archive, "documents/x/a.pdf")
    with pytest.raises(AlreadyExists):
        put(archive, "documents/x/a.pdf", b"forgery", until=None)
    client, bucket = s3_env.client(), archive.bucket
    version = client.head_object(Bucket=bucket, Key="documents/x/a.pdf")["VersionId"]
    # an unconditional PUT straight through the S3 API only stacks a new version on top,
    # and a DELETE without a version id only adds a delete marker: docsvc reads the first one
    client.put_object(Bucket=bucket, Key="documents/x/a.pdf", Body=b"forgery")
    assert client.get_object(Bucket=bucket, Key="documents/x/a.pdf", VersionId=version)["Body"].read() == b"original"
    assert archive.get("documents/x/a.pdf") == b"original"
    client.delete_object(Bucket=bucket, Key="documents/x/a.pdf")
    assert error_code(lambda: client.get_object(Bucket=bucket, Key="documents/x/a.pdf")) == "NoSuchKey"
    assert archive.get("documents/x/a.pdf") == b"original"
    assert archive.head("documents/x/a.pdf").version == version
    assert list(archive.list("documents/")) == ["documents/x/a.pdf"]  # still found by a search


def test_the_original_is_found_under_any_number_of_stacked_versions(s3_env):
    archive = locked_archive(s3_env)
    put(archive, "documents/x/a.pdf")
    client = s3_env.client()
    for i in range(5):
        client.put_object(Bucket=archive.bucket, Key="documents/x/a.pdf", Body=f"forgery {i}".encode())
    client.put_object(Bucket=archive.bucket, Key="documents/x/a.pdf.bak", Body=b"a neighbour")
    # list_object_versions pages of 2 (AWS's are 1000): the original is on the last one
    real_paginator = archive.client.get_paginator
    archive.client.get_paginator = lambda name: _small_pages(real_paginator(name))
    assert archive.get("documents/x/a.pdf") == b"original"
    assert list(archive.list("documents/x/")) == ["documents/x/a.pdf", "documents/x/a.pdf.bak"]


class _small_pages:
    def __init__(self, paginator):
        self.paginator = paginator

    def paginate(self, **kwargs):
        return self.paginator.paginate(**kwargs, PaginationConfig={"PageSize": 2})


def test_a_key_prefix_keeps_docsvc_to_its_part_of_the_bucket(s3_env):
    archive = locked_archive(s3_env, prefix="/tenant-a/")
    put(archive, "documents/x/a.pdf")
    other = S3Archive(archive.bucket, "tenant-b", endpoint_url=s3_env.endpoint)
    other.check()
    put(other, "documents/y/b.pdf")
    listing = s3_env.client().list_objects_v2(Bucket=archive.bucket)["Contents"]
    assert sorted(o["Key"] for o in listing) == ["tenant-a/documents/x/a.pdf", "tenant-b/documents/y/b.pdf"]
    assert list(archive.list("documents/")) == ["documents/x/a.pdf"]
    assert archive.get("documents/x/a.pdf") == b"original"
    with pytest.raises(NotFound):
        archive.get("documents/y/b.pdf")


def test_start_up_checks_say_why_in_one_line(s3_env):
    client = s3_env.client()
    unlocked = s3_env.bucket(locked=False)
    with pytest.raises(ArchiveUnavailable, match=f"bucket '{unlocked}' has no Object Lock: run `docsvc archive init`"):
        S3Archive(unlocked, endpoint_url=s3_env.endpoint).check()
    dev = S3Archive(unlocked, endpoint_url=s3_env.endpoint, allow_unlocked=True)
    dev.check()
    stored = dev.put_once("a", b"x", content_type="text/plain", retain_until=date(2036, 1, 1))
    assert dev.locked is False and stored.retention_mode is None and stored.retain_until is None
    assert "ObjectLockMode" not in client.head_object(Bucket=unlocked, Key="a")
    with pytest.raises(ArchiveUnavailable, match=r"bucket no-such-bucket\): the bucket does not exist"):
        S3Archive("no-such-bucket", endpoint_url=s3_env.endpoint).check()
    closed = f"http://127.0.0.1:{free_ports(1)[0]}"
    with pytest.raises(ArchiveUnavailable, match=f"S3 is not reachable at {closed}"):
        S3Archive(unlocked, endpoint_url=closed).check()


def test_wrong_credentials_are_named(s3_env, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ArchiveUnavailable, match="access denied .*: check the AWS_\\* credentials"):
        S3Archive(s3_env.bucket(), endpoint_url=s3_env.endpoint).check()


def archive_cli(action, bucket, **env):
    run = subprocess.run([DOCSVC, "archive", action], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "DOCSVC_ARCHIVE_URL": f"s3://{bucket}", **env})
    return run.returncode, run.stdout.splitlines(), run.stderr.strip()


def test_archive_init_creates_a_locked_bucket_and_is_idempotent(s3_env):
    code, out, _ = archive_cli("init", "docsvc-init-test", DOCSVC_RETENTION_YEARS="10")
    assert code == 0
    assert out == ["created bucket docsvc-init-test with Object Lock", "versioning already enabled",
                   "Object Lock already enabled", "set default retention COMPLIANCE 10 years"]
    client = s3_env.client()
    assert client.get_object_lock_configuration(Bucket="docsvc-init-test")["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 10}}}
    assert client.get_bucket_versioning(Bucket="docsvc-init-test")["Status"] == "Enabled"
    code, out, _ = archive_cli("init", "docsvc-init-test", DOCSVC_RETENTION_YEARS="10")
    assert code == 0
    assert out == ["bucket docsvc-init-test exists", "versioning already enabled", "Object Lock already enabled",
                   "default retention already COMPLIANCE 10 years"]
    assert archive_cli("check", "docsvc-init-test") == (
        0, ["archive s3://docsvc-init-test: ready, Object Lock enabled"], "")


def test_archive_init_locks_an_existing_bucket_where_the_store_allows_it(s3_env):
    bucket = s3_env.bucket(locked=False)
    code, _, err = archive_cli("check", bucket)
    assert code == 2 and "has no Object Lock" in err
    code, out, _ = archive_cli("init", bucket, DOCSVC_RETENTION_YEARS="12")
    assert code == 0
    assert out == [f"bucket {bucket} exists", "enabled versioning",
                   "enabled Object Lock (objects written before stay unlocked)",
                   "set default retention COMPLIANCE 12 years"]
    archive = S3Archive(bucket, endpoint_url=s3_env.endpoint)
    archive.check()
    assert archive.locked
    # an object written without a retention of its own gets the default one
    archive.put_once("templates/t.zip", b"zip", content_type="application/zip", retain_until=None)
    head = archive.head("templates/t.zip")
    assert head.retention_mode == "COMPLIANCE" and head.retain_until.year == date.today().year + 12


def test_archive_init_on_an_unreachable_store_fails_in_one_line(s3_env):
    closed = f"http://127.0.0.1:{free_ports(1)[0]}"
    code, out, err = archive_cli("init", "docsvc-x", DOCSVC_S3_ENDPOINT_URL=closed)
    assert (code, out) == (1, [])
    assert err == f"docsvc archive init: S3 archive (bucket docsvc-x): S3 is not reachable at {closed}"


@pytest.mark.parametrize("url, problem", [
    ("s3://Invoices_2026", "'Invoices_2026' is not an S3 bucket name"),
    ("s3://acme-invoices/../other", "expected s3://bucket or s3://bucket/prefix"),
    ("s3:///prefix-only", "expected file:///absolute/path or s3://bucket"),
])
def test_malformed_s3_settings_are_named(url, problem):
    with pytest.raises(SettingsError, match=f"DOCSVC_ARCHIVE_URL: {problem}"):
        Settings.from_env({"DOCSVC_ARCHIVE_URL": url})
    with pytest.raises(SettingsError, match="DOCSVC_S3_ENDPOINT_URL: expected http"):
        Settings.from_env({"DOCSVC_S3_ENDPOINT_URL": "127.0.0.1:8333"})
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": "s3://acme-invoices/prod/", "DOCSVC_S3_ALLOW_UNLOCKED": "1",
                                  "DOCSVC_S3_ENDPOINT_URL": "https://rgw.example:8443"})
    assert settings.s3_location == ("acme-invoices", "prod") and settings.s3_allow_unlocked
