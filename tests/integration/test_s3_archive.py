"""What the S3 lock guarantees, shown on a real SeaweedFS through the S3 API."""
import base64
import hashlib
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from docsvc.archive import AlreadyExists, ArchiveUnavailable
from docsvc.archive.s3 import S3Archive

DOCSVC = str(Path(sys.executable).with_name("docsvc"))


def locked_archive(server):
    archive = S3Archive(server.bucket(), endpoint_url=server.endpoint)
    archive.check()
    return archive


def test_every_object_is_locked_in_compliance_until_its_date(s3_env):
    archive = locked_archive(s3_env)
    stored = archive.put_once("documents/x/a.pdf", b"original", content_type="application/pdf",
                              retain_until=date(2036, 11, 20))
    assert (stored.retention_mode, stored.retain_until) == ("COMPLIANCE", date(2036, 11, 20))
    head = archive.head("documents/x/a.pdf")
    assert (head.retention_mode, head.retain_until, head.size) == ("COMPLIANCE", date(2036, 11, 20), 8)
    raw = s3_env.client().head_object(Bucket=archive.bucket, Key="documents/x/a.pdf", ChecksumMode="ENABLED")
    assert raw["ContentType"] == "application/pdf"
    # the server recorded (and so checked) the SHA-256 we sent with the bytes
    assert raw["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"original").digest()).decode()


def test_deleting_or_shortening_a_locked_version_is_refused(s3_env):
    archive = locked_archive(s3_env)
    archive.put_once("documents/x/a.pdf", b"original", content_type="application/pdf",
                     retain_until=date(2036, 11, 20))
    client = s3_env.client()
    version = client.head_object(Bucket=archive.bucket, Key="documents/x/a.pdf")["VersionId"]
    with pytest.raises(ClientError) as info:
        client.delete_object(Bucket=archive.bucket, Key="documents/x/a.pdf", VersionId=version)
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as info:
        client.put_object_retention(Bucket=archive.bucket, Key="documents/x/a.pdf", VersionId=version,
                                    Retention={"Mode": "COMPLIANCE", "RetainUntilDate": "2027-01-01T00:00:00Z"})
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    assert archive.get("documents/x/a.pdf") == b"original"


def test_an_overwrite_attempt_leaves_the_original_intact(s3_env):
    archive = locked_archive(s3_env)
    archive.put_once("documents/x/a.pdf", b"original", content_type="application/pdf",
                     retain_until=date(2036, 11, 20))
    with pytest.raises(AlreadyExists):
        archive.put_once("documents/x/a.pdf", b"forgery", content_type="application/pdf", retain_until=None)
    client = s3_env.client()
    version = client.head_object(Bucket=archive.bucket, Key="documents/x/a.pdf")["VersionId"]
    # even an unconditional PUT straight through the S3 API only stacks a new version on top
    client.put_object(Bucket=archive.bucket, Key="documents/x/a.pdf", Body=b"forgery")
    original = client.get_object(Bucket=archive.bucket, Key="documents/x/a.pdf", VersionId=version)
    assert original["Body"].read() == b"original"


def test_start_up_checks(s3_env):
    client = s3_env.client()
    unlocked = s3_env.bucket(locked=False)
    with pytest.raises(ArchiveUnavailable, match="has no Object Lock"):
        S3Archive(unlocked, endpoint_url=s3_env.endpoint).check()
    dev = S3Archive(unlocked, endpoint_url=s3_env.endpoint, allow_unlocked=True)
    dev.check()
    stored = dev.put_once("a", b"x", content_type="text/plain", retain_until=date(2036, 1, 1))
    assert dev.locked is False and stored.retention_mode is None
    assert "ObjectLockMode" not in client.head_object(Bucket=unlocked, Key="a")
    with pytest.raises(ArchiveUnavailable, match="not reachable"):
        S3Archive("no-such-bucket", endpoint_url=s3_env.endpoint).check()


def test_archive_init_creates_a_locked_bucket_and_is_idempotent(s3_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCSVC_ARCHIVE_URL", "s3://docsvc-init-test")
    monkeypatch.setenv("DOCSVC_RETENTION_YEARS", "10")
    run = subprocess.run([DOCSVC, "archive", "init"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "created bucket docsvc-init-test with Object Lock" in run.stdout
    assert "set default retention COMPLIANCE 10 years" in run.stdout
    config = s3_env.client().get_object_lock_configuration(Bucket="docsvc-init-test")["ObjectLockConfiguration"]
    assert config == {"ObjectLockEnabled": "Enabled",
                      "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 10}}}
    again = subprocess.run([DOCSVC, "archive", "init"], capture_output=True, text=True, timeout=60)
    assert "bucket docsvc-init-test exists" in again.stdout
    assert "default retention already COMPLIANCE 10 years" in again.stdout
