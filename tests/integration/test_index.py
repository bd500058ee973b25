"""The search index, the same suite on SQLite and on a real PostgreSQL, over a hand-made
archive of 30 documents (tests/index_data.py). Each expected answer is worked out by hand
from that table: issue order is (issue date, id), and ids compare byte by byte, so on one
day 552100554-… comes before 912345675-… before DE811907980-…."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from docsvc.archive import keys
from docsvc.index import DocumentIndex, IndexUnavailable, Query, check, index_or_defer, rebuild, sweep
from docsvc.index.sync import PENDING, Progress
from tests.index_data import ACME, DOCUMENTS, SCI, A, B, C, doc_id, make_archive, resource, write


def ids(seller, *numbers):
    return [doc_id(seller, n) for n in numbers]


#: Every document in issue order (dates in the comments).
ALL = (ids(A, "F-2025-0099") + ids(B, "2026-001") + ids(A, "F-2026-0001")  # 12-31, 01-15 x2
       + ids(C, "RE-1") + ids(A, "F-2026-0002", "AV-2026-0001", "FA-2026-0001")  # 02-01, 02-03, 02-10, 03-01
       + ids(B, "2026-002", "2026-003", "2026-004") + ids(A, "FS-2026-0001", "FS-2026-0002")  # 03-20 .. 05-12
       + ids(B, "2026-005") + ids(A, "F-2026-0003", "FF-2026-0001") + ids(C, "RE-2")  # the four of 06-20
       + ids(A, "F-2026-0004") + ids(C, "RE-3") + ids(A, "FA-2026-0002") + ids(C, "RE-4")  # 07-01 .. 08-01
       + ids(A, "F-2026-0005") + ids(B, "2026-006") + ids(A, "F-2026-0006", "F-2026-0007")  # 08-14 .. 10-01
       + ids(C, "RE-5") + ids(B, "2026-007") + ids(A, "F-2026/0008", "AV-2026-0002")  # 10-01 .. 11-03
       + ids(B, "2026-008") + ids(C, "RE-6"))  # 11-20, 11-23

#: name -> (query, expected ids in order)
SEARCHES = {
    "everything": (Query(), ALL),
    "seller A's invoices": (Query(seller=A, type="invoice"), ids(
        A, "F-2025-0099", "F-2026-0001", "F-2026-0002", "F-2026-0003", "F-2026-0004", "F-2026-0005",
        "F-2026-0006", "F-2026-0007", "F-2026/0008")),
    # a key for A and B: C's RE-3 (ACME, 07-15) is in the range but not the key's
    "ACME, March to September, sellers A and B": (
        Query(sellers=frozenset({A, B}), buyer=ACME, issued_from=date(2026, 3, 1), issued_to=date(2026, 9, 30)),
        ids(A, "FA-2026-0001") + ids(B, "2026-004") + ids(A, "FS-2026-0001", "FS-2026-0002", "FF-2026-0001",
                                                          "F-2026-0005") + ids(B, "2026-006") + ids(A, "F-2026-0006")),
    "credit notes": (Query(type="credit_note"), ids(A, "AV-2026-0001") + ids(B, "2026-003") + ids(C, "RE-3")
                     + ids(A, "AV-2026-0002")),
    "credit notes, seller C's key": (Query(sellers=frozenset({C}), type="credit_note"), ids(C, "RE-3")),
    "another seller, asked by name": (Query(sellers=frozenset({B}), seller=A), []),
    "corrects F-2026-0002": (Query(corrects="F-2026-0002"), ids(A, "AV-2026-0001")),
    "corrects RE-1": (Query(corrects="RE-1"), ids(C, "RE-3")),
    "quote D-2026-0007, both sellers": (Query(quote="D-2026-0007"), ids(A, "FA-2026-0001") + ids(B, "2026-004")
                                        + ids(A, "FS-2026-0001", "FS-2026-0002", "FF-2026-0001") + ids(B, "2026-006")),
    # gross 350.00 to 1200.00 inclusive: 349.99 (B 2026-008) and 1200.01 (F-2026-0007) just outside
    "gross 350.00 to 1200.00": (Query(min_amount=Decimal("350.00"), max_amount=Decimal("1200.00")),
                                ids(A, "F-2025-0099", "F-2026-0001") + ids(C, "RE-1") + ids(A, "F-2026-0002")
                                + ids(B, "2026-002", "2026-003", "2026-004", "2026-005")
                                + ids(A, "F-2026-0005", "F-2026-0006") + ids(C, "RE-5") + ids(A, "AV-2026-0002")),
    "paid": (Query(status="paid"), ids(A, "F-2025-0099", "F-2026-0002") + ids(B, "2026-002", "2026-005")
             + ids(A, "F-2026-0003") + ids(C, "RE-2")),
    "partially paid": (Query(status="partially_paid"), ids(A, "FS-2026-0002", "F-2026-0004")),
    # due = issue + 30 days: December dues are issues of 1 November to 1 December
    "due in December": (Query(due_from=date(2026, 12, 1), due_to=date(2026, 12, 31)),
                        ids(A, "F-2026/0008", "AV-2026-0002") + ids(B, "2026-008") + ids(C, "RE-6")),
    "due by 31 January": (Query(due_to=date(2026, 1, 31)), ids(A, "F-2025-0099")),  # 2025-12-31 + 30 = 01-30
    "number F-2026/0008": (Query(number="F-2026/0008"), ["912345675-F-2026~2F0008"]),
    "A unpaid invoices from 1000.00": (Query(seller=A, status="unpaid", type="invoice", min_amount=Decimal("1000")),
                                       ids(A, "F-2026-0001", "F-2026-0007")),  # 1200.00, 1200.01
    # byte order: '-' (2D) < '/' (2F) < 'A' (41) < 'F' (46) < 'S' (53)
    "A by number": (Query(seller=A, sort="number"), ids(
        A, "AV-2026-0001", "AV-2026-0002", "F-2025-0099", "F-2026-0001", "F-2026-0002", "F-2026-0003",
        "F-2026-0004", "F-2026-0005", "F-2026-0006", "F-2026-0007", "F-2026/0008", "FA-2026-0001",
        "FA-2026-0002", "FF-2026-0001", "FS-2026-0001", "FS-2026-0002")),
    "B by number, descending": (Query(seller=B, sort="-number"), ids(
        B, "2026-008", "2026-007", "2026-006", "2026-005", "2026-004", "2026-003", "2026-002", "2026-001")),
    "C, newest first": (Query(seller=C, sort="-issue_date"), ids(C, "RE-6", "RE-5", "RE-4", "RE-3", "RE-2", "RE-1")),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.sqlite3'}"
    return request.getfixturevalue("postgresql").new_database()


@pytest.fixture
def archive(tmp_path):
    return make_archive(tmp_path / "archive")


def every_page(index, query, limit):
    """Follow the pages to the end: (ids, counts seen, pages)."""
    found, counts, pages, after = [], set(), 0, None
    while True:
        page = index.search(query, after=after, limit=limit)
        found += [item["id"] for item in page.items]
        counts.add(page.count)
        pages += 1
        if page.after is None:
            return found, counts, pages
        after = page.after


def answers(index):
    return {name: [item["id"] for item in index.search(query, limit=1000).items] for name, (query, _) in
            SEARCHES.items()}


def drop(index):
    """Lose the index entirely (tables and migration record), as an operator deleting it."""
    with index.engine.begin() as connection:
        for table in ("documents", "index_state", "alembic_version"):
            connection.execute(text(f"DROP TABLE {table}"))
    index.close()


def test_each_search_finds_what_the_table_says(index_url, archive):
    index = DocumentIndex(index_url)
    for row in DOCUMENTS:  # as issue() does, one upsert after each original
        assert index_or_defer(index, archive, resource(*row)) is True
    assert answers(index) == {name: expected for name, (_, expected) in SEARCHES.items()}
    page = index.search(SEARCHES["paid"][0])
    assert page.count == 6 and page.after is None
    item = page.items[0]
    assert item["id"] == "912345675-F-2025-0099" and item["totals"]["gross_total"] == "720.00"
    assert "document" not in item and item["files"][0]["format"] == "pdf"  # the resource minus its document


def test_pages_of_seven_walk_the_whole_archive_once(index_url, archive):
    index = DocumentIndex(index_url)
    rebuild(index, archive)
    assert every_page(index, Query(), 7) == (ALL, {30}, 5)  # 7 + 7 + 7 + 7 + 2
    newest = every_page(index, Query(seller=B, sort="-issue_date"), 3)  # 3 + 3 + 2
    assert newest == (ids(B, "2026-008", "2026-007", "2026-006", "2026-005", "2026-004", "2026-003", "2026-002",
                          "2026-001"), {8}, 3)
    by_number = every_page(index, Query(seller=A, sort="number"), 4)
    assert by_number == (SEARCHES["A by number"][1], {16}, 4)


def test_documents_of_a_quote_in_issue_order(index_url, archive):
    index = DocumentIndex(index_url)
    rebuild(index, archive)
    numbers = lambda seller, quote: [d["number"] for d in index.documents_of_quote(seller, quote)]  # noqa: E731
    assert numbers(A, "D-2026-0007") == ["FA-2026-0001", "FS-2026-0001", "FS-2026-0002", "FF-2026-0001"]
    assert numbers(B, "D-2026-0007") == ["2026-004", "2026-006"]  # same quote number, another seller
    assert numbers(A, "D-2026-0012") == ["FA-2026-0002"]
    assert numbers(C, "D-2026-0007") == []


def test_numbers_out_of_order_with_their_dates(index_url, archive):
    """A new number contradicts the documents of its series (same seller, same prefix) that have
    a lower number and a later date, or a higher number and an earlier date; the same day never."""
    index = DocumentIndex(index_url)
    rebuild(index, archive)
    d = date
    # A's F-2026-: 0005 of 08-14, 0006 of 09-30, 0007 of 10-01; F-2026/0008 and F-2025-0099 are other series
    assert sorted(index.out_of_order(A, "F-2026-0008", d(2026, 9, 1))) == [
        ("F-2026-0006", d(2026, 9, 30)), ("F-2026-0007", d(2026, 10, 1))]
    assert index.out_of_order(A, "F-2026-0008", d(2026, 10, 1)) == []  # 0007's day: in order
    # dated 08-20, 0003 would come after 0004 (07-01) and 0005 (08-14); its own row is not counted
    assert sorted(index.out_of_order(A, "F-2026-0003", d(2026, 8, 20))) == [
        ("F-2026-0004", d(2026, 7, 1)), ("F-2026-0005", d(2026, 8, 14))]
    assert index.out_of_order(A, "F-2026-0004", d(2026, 7, 1)) == []  # an original and its retry
    # widths differ: RE-10 is above RE-5 (10-01) and RE-6 (11-23), which are dated after 09-01
    assert sorted(index.out_of_order(C, "RE-10", d(2026, 9, 1))) == [
        ("RE-5", d(2026, 10, 1)), ("RE-6", d(2026, 11, 23))]
    # RE-0 on 12-01 is below all six, each dated before: the nearest come first, `limit` of them
    assert index.out_of_order(C, "RE-0", d(2026, 12, 1), limit=2) == [
        ("RE-1", d(2026, 2, 1)), ("RE-2", d(2026, 6, 20))]
    assert index.out_of_order(B, "2026-009", d(2026, 11, 19)) == [("2026-008", d(2026, 11, 20))]
    assert index.out_of_order(B, "2026-009", d(2026, 11, 20)) == []
    assert index.out_of_order(A, "RE-7", d(2026, 1, 1)) == []  # C's series, not A's
    assert index.out_of_order(A, "SANS-NUMERO", d(2026, 1, 1)) == []  # no series: nothing to compare


def test_rebuild_after_losing_the_index_gives_the_same_answers(index_url, archive):
    index = DocumentIndex(index_url)
    for row in DOCUMENTS:
        index.upsert(resource(*row))
    before = answers(index)
    drop(index)
    again = DocumentIndex(index_url)
    out = io.StringIO()
    result = rebuild(again, archive, batch=8, progress=lambda total: Progress(total, out))
    assert (result.indexed, result.skipped, result.resumed_after) == (30, 0, None)
    assert answers(again) == before
    assert check(again, archive).consistent
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("[##############################] 30/30 (30 indexed, 0 skipped")


def test_an_interrupted_rebuild_carries_on_from_its_checkpoint(index_url, archive):
    index = DocumentIndex(index_url)

    class Interrupted(Exception):
        pass

    class Stopper(Progress):
        def step(self, indexed, skipped=0, final=False):
            super().step(indexed, skipped, final)
            if self.done >= 10:
                raise Interrupted

    with pytest.raises(Interrupted):  # killed after two batches of 5
        rebuild(index, archive, batch=5, progress=lambda total: Stopper(total, io.StringIO()))
    assert index.count() == 10
    resource_keys = sorted(keys.resource_key(doc_id(*row[:2])) for row in DOCUMENTS)
    result = rebuild(index, archive, batch=5)
    assert result.resumed_after == resource_keys[9] and result.indexed == 20  # the other 20, not 30
    assert index.count() == 30 and answers(index)["everything"] == ALL
    assert rebuild(index, archive, batch=5).resumed_after is None  # done: the next one starts over


def test_rebuild_since_reads_only_what_is_new(index_url, archive, tmp_path):
    index = DocumentIndex(index_url)
    rebuild(index, archive)
    late = resource(B, "2026-009", "invoice", "2026-06-30", SCI, "42.00", "42.00", "unpaid", None, None,
                    created_at="2026-11-22T08:00:00+00:00")  # issued in June, archived in November
    write(archive, late)
    result = rebuild(index, archive, since=date(2026, 11, 1))
    # indexed again: what was issued or archived from 1 November on: F-2026/0008 (11-02), AV-2026-0002
    # (11-03), 2026-008 (11-20), RE-6 (11-23) and the late 2026-009; the 26 older rows are skipped unread
    assert (result.indexed, result.skipped) == (5, 26)
    assert [d["id"] for d in index.search(Query(seller=B, issued_from=date(2026, 6, 1), issued_to=date(2026, 6, 30))
                                          ).items] == ids(B, "2026-005", "2026-009")


def test_check_reports_missing_rows_and_rows_without_original(index_url, archive):
    index = DocumentIndex(index_url)
    rebuild(index, archive)
    assert check(index, archive).consistent
    ghost = resource(C, "RE-99", "invoice", "2026-05-05", None, "1.00", "1.00", "unpaid", None, None)
    index.upsert(ghost)  # a row whose original isn't in this archive
    unindexed = resource(A, "F-2026-0100", "invoice", "2026-11-23", ACME, "5.00", "5.00", "unpaid", None, None)
    write(archive, unindexed)
    report = check(index, archive)
    assert (report.archived, report.indexed) == (31, 31)
    assert report.missing == ["912345675-F-2026-0100"] and report.orphans == ["DE811907980-RE-99"]


def test_upsert_replaces_by_id(index_url, archive):
    index = DocumentIndex(index_url)
    rebuild(index, archive)
    paid = resource(*DOCUMENTS[1])  # F-2026-0001, unpaid
    paid["document"]["payment_status"] = "paid"
    index.upsert(paid)
    index.upsert(paid)
    assert index.count() == 30
    assert [d["number"] for d in index.search(Query(seller=A, status="paid")).items] == [
        "F-2025-0099", "F-2026-0001", "F-2026-0002", "F-2026-0003"]


def test_a_document_missed_while_the_database_was_down_is_swept_in(postgresql, tmp_path):
    """PostgreSQL stops; an original is archived (its row can't be written, a marker is);
    PostgreSQL comes back; the start-up sweep indexes it, once."""
    archive = make_archive(tmp_path / "archive")
    index = DocumentIndex(postgresql.new_database())
    rebuild(index, archive)
    late = resource(A, "F-2026-0200", "invoice", "2026-11-23", ACME, "12.00", "12.00", "unpaid", None, None)
    write(archive, late)
    postgresql.stop()
    try:
        with pytest.raises(IndexUnavailable) as down:
            index.ping()
        assert str(down.value).startswith(f"index database unreachable (postgresql 127.0.0.1:{postgresql.port}/t_")
        assert "s3cret" not in str(down.value)
        assert index_or_defer(index, archive, late) is False
    finally:
        postgresql.start()
    markers = list(archive.list(PENDING))
    assert len(markers) == 1 and markers[0].endswith("-912345675-F-2026-0200.json")
    assert index.search(Query(number="F-2026-0200")).count == 0
    assert sweep(index, archive) == 1
    assert [d["id"] for d in index.search(Query(number="F-2026-0200")).items] == ["912345675-F-2026-0200"]
    assert sweep(index, archive) == 0  # past the high-water mark: nothing read again
    assert check(index, archive).consistent


def test_the_migrations_make_what_the_code_queries(index_url):
    """Alembic's comparison of the migrated database with tables.py finds nothing to add."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from docsvc.index.tables import metadata

    index = DocumentIndex(index_url)
    index.migrate()
    with index.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
