"""The archive contract: the same assertions for every adapter, filesystem and S3 (a real SeaweedFS),
and for the in-memory fake the use cases' tests use."""
import os
import stat
import threading
from datetime import date

import pytest

from docsvc.archive import AlreadyExists, NotFound
from docsvc.archive.filesystem import FilesystemArchive
from tests.fakes import InMemoryArchive


@pytest.fixture(params=["filesystem", "s3", "memory"])
def archive(request, tmp_path):
    if request.param == "filesystem":
        return FilesystemArchive(tmp_path / "archive")
    if request.param == "memory":  # the use cases' tests stand on it: it must keep the same contract
        return InMemoryArchive()
    from docsvc.archive.s3 import S3Archive

    server = request.getfixturevalue("s3_env")
    archive = S3Archive(server.bucket(), endpoint_url=server.endpoint)
    archive.check()
    assert archive.locked
    return archive


def put(archive, key, data=b"x"):
    return archive.put_once(key, data, content_type="application/pdf", retain_until=date(2036, 11, 20))


def test_put_once_then_get_returns_the_same_bytes(archive):
    data = bytes(range(256)) * 100
    stored = put(archive, "documents/1/a.pdf", data)
    assert stored.size == 25600
    assert archive.get("documents/1/a.pdf") == data


def test_an_original_is_never_replaced(archive):
    put(archive, "documents/1/a.pdf", b"original")
    with pytest.raises(AlreadyExists):
        put(archive, "documents/1/a.pdf", b"forgery")
    assert archive.get("documents/1/a.pdf") == b"original"


def test_missing_key(archive):
    with pytest.raises(NotFound):
        archive.get("documents/none.pdf")
    assert archive.head("documents/none.pdf") is None


def test_list_is_ordered_and_scoped_to_the_prefix(archive):
    for key in ("documents/2/b", "documents/1/a", "documents/1/c", "other/z"):
        put(archive, key)
    assert list(archive.list("documents/1/")) == ["documents/1/a", "documents/1/c"]
    assert list(archive.list("documents/")) == ["documents/1/a", "documents/1/c", "documents/2/b"]
    assert list(archive.list("nothing/")) == []


def test_twenty_concurrent_writers_one_winner(archive):
    outcomes = []

    def attempt(i):
        try:
            put(archive, "documents/race.pdf", f"writer {i}".encode())
            outcomes.append(("won", i))
        except AlreadyExists:
            outcomes.append(("lost", i))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for outcome, i in outcomes if outcome == "won"]
    assert len(outcomes) == 20 and len(winners) == 1
    assert archive.get("documents/race.pdf") == f"writer {winners[0]}".encode()


def test_keys_cannot_escape_the_archive(tmp_path):
    archive = FilesystemArchive(tmp_path / "archive")
    for key in ("../etc/passwd", "documents/../../x", "/abs", "documents/.tmp/x", ""):
        with pytest.raises(ValueError):
            put(archive, key)


def test_filesystem_files_are_read_only_and_no_temp_file_is_left(tmp_path):
    archive = FilesystemArchive(tmp_path / "a")
    put(archive, "documents/1/a.pdf", b"data")
    mode = os.stat(tmp_path / "a" / "documents" / "1" / "a.pdf").st_mode
    assert stat.S_IMODE(mode) == 0o444
    assert archive.head("documents/1/a.pdf").retention_mode == "read-only file"
    assert list((tmp_path / "a" / ".tmp").iterdir()) == []


def test_check_reports_an_unusable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    from docsvc.archive import ArchiveUnavailable
    with pytest.raises(ArchiveUnavailable, match="not writable"):
        FilesystemArchive(blocker / "archive").check()


def test_the_quote_index_lists_a_sellers_quote_once_per_document(archive):
    entry = {"id": "912345675-FA-1", "number": "FA-1", "type": "deposit_invoice", "issue_date": "2026-10-05",
             "quote": "D-1"}
    archive.file_under_quote("912345675", "D-1", entry)
    archive.file_under_quote("912345675", "D-1", {**entry, "type": "forged"})  # write-once: the first stands
    archive.file_under_quote("912345675", "D-1", {**entry, "id": "912345675-F~2F2", "number": "F/2",
                                                  "type": "progress_invoice"})
    archive.file_under_quote("912345675", "D-10", {**entry, "id": "912345675-FA-9", "number": "FA-9"})
    archive.file_under_quote("552100554", "D-1", {**entry, "id": "552100554-FA-1"})
    listed = archive.quote_documents("912345675", "D-1")
    # key order ("FA-1.json" before "F~2F2.json": "A" < "~"); D-10 and the other seller's D-1 are not listed
    assert [(e["id"], e["type"]) for e in listed] == [("912345675-FA-1", "deposit_invoice"),
                                                      ("912345675-F~2F2", "progress_invoice")]
    assert archive.quote_documents("912345675", "D-2") == []
    assert list(archive.list("quotes/912345675/D-1/")) == ["quotes/912345675/D-1/FA-1.json",
                                                            "quotes/912345675/D-1/F~2F2.json"]


def test_the_credit_notes_of_an_invoice_are_listed_under_it_once_each(archive):
    entry = {"id": "912345675-A-1", "number": "A-1", "type": "credit_note", "issue_date": "2026-11-27"}
    archive.file_under_invoice("912345675", "F/1", entry)
    archive.file_under_invoice("912345675", "F/1", {**entry, "type": "forged"})  # write-once: the first stands
    archive.file_under_invoice("912345675", "F/1", {**entry, "id": "912345675-A-2", "number": "A-2"})
    archive.file_under_invoice("912345675", "F/10", {**entry, "id": "912345675-A-3", "number": "A-3"})
    archive.file_under_invoice("552100554", "F/1", {**entry, "id": "552100554-A-1"})
    assert [(e["id"], e["type"]) for e in archive.credit_notes_of("912345675", "F/1")] == [
        ("912345675-A-1", "credit_note"), ("912345675-A-2", "credit_note")]
    assert archive.credit_notes_of("912345675", "F/2") == []
    assert list(archive.list("corrections/912345675/F~2F1/")) == ["corrections/912345675/F~2F1/A-1.json",
                                                                   "corrections/912345675/F~2F1/A-2.json"]


# ---------------------------------------------------------------- derived files (print copies)

def put_derived(archive, key, data, expires=date(2099, 1, 1)):
    archive.put_derived(key, data, content_type="application/pdf", expires=expires,
                        metadata={"docsvc-kind": "print-copy", "batch": "b1"})


def test_a_derived_file_is_read_back_with_its_metadata(archive):
    put_derived(archive, "batches/b1/print.pdf", b"%PDF print copy")
    got = archive.get_derived("batches/b1/print.pdf")
    assert (got.data, got.content_type, got.expires) == (b"%PDF print copy", "application/pdf", date(2099, 1, 1))
    assert got.metadata == {"docsvc-kind": "print-copy", "batch": "b1"}


def test_a_derived_file_can_be_replaced_unlike_an_original(archive):
    put_derived(archive, "batches/b1/print.pdf", b"first build")
    put_derived(archive, "batches/b1/print.pdf", b"rebuilt")
    assert archive.get_derived("batches/b1/print.pdf").data == b"rebuilt"


def test_a_derived_file_is_never_an_original(archive):
    """Apart from the originals: not listed with them, not read as one, no original shadows it."""
    put(archive, "documents/1/a.pdf", b"original")
    put_derived(archive, "documents/1/a.pdf", b"print copy")
    assert archive.get("documents/1/a.pdf") == b"original"
    assert archive.get_derived("documents/1/a.pdf").data == b"print copy"
    assert list(archive.list("documents/")) == ["documents/1/a.pdf"]
    with pytest.raises(NotFound):
        archive.get_derived("documents/1/none.pdf")


def test_a_derived_file_past_its_expiry_is_gone(archive):
    put_derived(archive, "batches/old/print.pdf", b"stale", expires=date(2020, 1, 1))
    with pytest.raises(NotFound):
        archive.get_derived("batches/old/print.pdf")


def test_s3_derived_files_escape_a_ten_year_default_retention(s3_env):
    """On a bucket whose default retention would lock every object for years (what
    `docsvc archive init` sets), a print copy is held only until its expiry, in GOVERNANCE mode."""
    from docsvc.archive.s3 import S3Archive

    bucket = s3_env.bucket()
    client = s3_env.client()
    client.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 10}}})
    archive = S3Archive(bucket, endpoint_url=s3_env.endpoint)
    archive.check()
    assert archive.default_retention
    put_derived(archive, "batches/b1/print.pdf", b"print copy", expires=date(2027, 1, 15))
    head = client.head_object(Bucket=bucket, Key="derived/batches/b1/print.pdf")
    assert head.get("ObjectLockMode") == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"].date() == date(2027, 1, 15)
    assert head["Metadata"]["docsvc-kind"] == "print-copy"
