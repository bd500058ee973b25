"""The audit trail's segments and hash chains, on a filesystem archive in a temporary folder."""
import json
import subprocess
from datetime import UTC, datetime

from docsvc.access import GENESIS, AuditLog, entry_hash
from docsvc.archive import AlreadyExists
from docsvc.archive.filesystem import FilesystemArchive
from tests.e2e.conftest import DOCSVC


def events(audit, n, start=0):
    for i in range(start, start + n):
        audit.append("erp", "read", f"912345675-F-2026-{i:04d}", f"req-{i}", "200")


def test_segments_chain_entries_and_verify_finds_a_missing_segment(tmp_path):
    archive = FilesystemArchive(tmp_path / "archive")
    audit = AuditLog(archive, segment_seconds=3600, max_entries=3)
    events(audit, 7)  # 3 + 3 written as the buffer fills, 1 buffered
    keys = list(archive.list("audit/"))
    assert len(keys) == 2
    audit.flush()
    keys = list(archive.list("audit/"))
    assert len(keys) == 3 and all(k.endswith(".jsonl") for k in keys)
    segments = [[json.loads(line) for line in archive.get(k).splitlines()] for k in keys]
    headers = [s[0] for s in segments]
    assert [h["seq"] for h in headers] == [0, 1, 2] and [h["entries"] for h in headers] == [3, 3, 1]
    assert headers[0]["prev"] == GENESIS
    entries = [e for s in segments for e in s[1:]]
    # each entry continues the one before it, across segments, and its hash is its own
    assert [e["prev"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]
    assert all(entry_hash(e) == e["hash"] for e in entries)
    assert [h["prev"] for h in headers[1:]] == [h["last"] for h in headers[:-1]]
    assert [e["target"] for e in audit.since(datetime(2000, 1, 1, tzinfo=UTC))] == [
        f"912345675-F-2026-{i:04d}" for i in range(7)]
    report = audit.verify()
    assert report == {"intact": True, "problems": [], "writers": 1, "segments": 3, "entries": 7, "unchained": 0}

    middle = tmp_path / "archive" / keys[1]
    middle.chmod(0o644)
    middle.unlink()
    run = subprocess.run([DOCSVC, "audit", "verify"], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "DOCSVC_ARCHIVE_URL": f"file://{tmp_path / 'archive'}"})
    assert run.returncode == 1
    writer = headers[0]["writer"]
    assert f"docsvc audit verify: writer {writer}: segment 1 is missing (found 2 next)" in run.stderr.splitlines()
    assert f"docsvc audit verify: {keys[2]}: does not continue segment 1 of its writer" in run.stderr


def test_a_segment_that_landed_after_a_timeout_is_not_written_twice(tmp_path):
    archive = FilesystemArchive(tmp_path / "archive")
    real_put = archive.put_once
    calls = []

    def lands_then_times_out(key, data, **kw):
        calls.append(key)
        if len(calls) == 1:
            real_put(key, data, **kw)
            raise TimeoutError("the store did not answer in time")
        return real_put(key, data, **kw)

    archive.put_once = lands_then_times_out
    audit = AuditLog(archive, segment_seconds=3600)
    events(audit, 2)
    audit.flush()  # fails: the entries stay buffered although the segment landed
    events(audit, 1, start=2)
    audit.flush()  # the same key exists with the first two entries: only the third is new
    assert calls[0] == calls[1] and len(calls) == 3
    assert audit.verify()["entries"] == 3 and audit.verify()["intact"] is True


def test_events_written_before_segments_are_still_listed(tmp_path):
    archive = FilesystemArchive(tmp_path / "archive")
    old = {"at": "2026-11-01T09:00:00.000000+00:00", "who": "cli", "action": "key.create", "target": "admin",
           "request_id": "cli", "outcome": "created"}
    archive.put_once("audit/2026/11/01/090000000000-abcd.json", json.dumps(old).encode(),
                     content_type="application/json", retain_until=None)
    audit = AuditLog(archive)
    events(audit, 1)
    listed = audit.since(datetime(2026, 1, 1, tzinfo=UTC))
    assert [e["action"] for e in listed] == ["key.create", "read"]
    assert audit.verify()["unchained"] == 1 and audit.verify()["intact"] is True
    try:
        archive.put_once(next(k for k in archive.list("audit/") if k.endswith(".jsonl")), b"",
                         content_type="application/x-ndjson", retain_until=None)
    except AlreadyExists:
        pass
    else:
        raise AssertionError("a segment can be replaced")
