"""Index benchmark: search at a million documents, the index write per issue, rebuild rate.

1. Rows generated directly (not through issue(): a million renders would take days): 50
   sellers, 2 000 buyers, five types, ten years of issue dates, amounts, statuses, quotes;
   each row's summary is the summary of a real resource (one invoice issued once, its
   identity and figures changed per row). Inserted with executemany (SQLite) or COPY
   (PostgreSQL) into the migrated schema.
2. Search: GET /v1/documents through the Flask app (parsing, index, JSON out), a key
   limited to one seller, three filter mixes, a page of 100 and the total count; p50/p95.
3. Index write per issue: the upsert issue() adds after an original, into the full
   index (p50/p95 of 300 new documents).
4. Rebuild: a filesystem archive of N resources of real size (the issued invoice cloned),
   `rebuild` into an empty index; documents/s.

Usage: python bench/index.py [--rows 1000000] [--archive 20000] [--queries 200] [--only sqlite|postgresql]
PostgreSQL is started like the tests do (initdb in a temporary folder, Debian's binaries).
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docsvc.app import create_app  # noqa: E402
from docsvc.archive import keys  # noqa: E402
from docsvc.archive.filesystem import FilesystemArchive  # noqa: E402
from docsvc.index import DocumentIndex, rebuild  # noqa: E402
from docsvc.index.tables import documents  # noqa: E402
from docsvc.settings import Settings  # noqa: E402

TYPES = ["invoice"] * 70 + ["credit_note"] * 10 + ["deposit_invoice"] * 8 + ["progress_invoice"] * 8 + \
        ["final_invoice"] * 4
CODES = {"invoice": "380", "deposit_invoice": "386", "progress_invoice": "380", "final_invoice": "380",
         "credit_note": "381"}
STATUSES = ["paid"] * 6 + ["unpaid"] * 3 + ["partially_paid"]
SELLERS = [f"{100000000 + 7919 * i:09d}" for i in range(50)]
BUYERS = [f"{300000000 + 104729 * i:09d}" for i in range(2000)]
FIRST_DAY = date(2016, 1, 1)


def issued_resource(workdir: Path) -> dict:
    """One real resource: fixtures/invoice.json issued through the service (rendered, archived)."""
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{workdir / 'one'}", "DOCSVC_AUTH": "disabled"})
    client = create_app(settings).test_client()
    raw = json.loads((ROOT / "fixtures" / "invoice.json").read_text(), parse_float=Decimal)
    r = client.post("/v1/documents", data=json.dumps(raw, default=str), content_type="application/json")
    assert r.status_code == 201, r.json
    return r.json


def clone(template: dict, i: int, rng: random.Random) -> dict:
    """The template resource as document i: its own seller, number, buyer, dates, figures."""
    seller = SELLERS[i % len(SELLERS)]
    doc_type = rng.choice(TYPES)
    number = f"F-{i:08d}"
    issue = FIRST_DAY + timedelta(days=rng.randrange(3650))
    gross = Decimal(rng.randrange(1000, 5_000_000)) / 100
    net = (gross / Decimal("1.2")).quantize(Decimal("0.01"))
    status = rng.choice(STATUSES)
    due_amount = Decimal(0) if status == "paid" else gross if status == "unpaid" else (gross / 2).quantize(
        Decimal("0.01"))
    doc_id = keys.document_id(seller, number)
    resource = json.loads(json.dumps(template))
    resource.update(id=doc_id, type=doc_type, number=number, issue_date=issue.isoformat(),
                    created_at=f"{issue.isoformat()}T10:{i % 60:02d}:00+00:00")
    resource["seller"]["siren"] = seller
    resource["totals"].update(net_total=str(net), vat_total=str(gross - net), gross_total=str(gross),
                              amount_due=str(due_amount))
    doc = resource["document"]
    doc.update(type=doc_type, type_code=CODES[doc_type], number=number, issue_date=issue.isoformat(),
               due_date=(issue + timedelta(days=30)).isoformat(), payment_status=status)
    doc["buyer"]["siren"] = rng.choice(BUYERS)
    doc["quote"] = {"number": f"D-{i // 4:07d}"} if doc_type != "invoice" else None
    doc["corrects"] = {"number": f"F-{max(i - 1, 0):08d}", "issue_date": issue.isoformat(),
                       "type": None} if doc_type == "credit_note" else None
    for f in resource["files"]:
        f["key"] = keys.file_key(doc_id, "0" * 16, f["filename"].rsplit(".", 1)[-1])
        f["filename"] = f"{doc_id}.{f['filename'].rsplit('.', 1)[-1]}"
        f["url"] = f"/v1/documents/{doc_id}/files/{f['format']}"
    return resource


def generated_rows(template: dict, count: int, seed: int = 7):
    """Index rows for `count` documents, made directly (the fields row_of would read)."""
    from docsvc.index import row_of

    rng = random.Random(seed)
    summary_template = {k: v for k, v in template.items() if k != "document"}
    for i in range(count):
        seller = SELLERS[i % len(SELLERS)]
        doc_type = rng.choice(TYPES)
        number = f"F-{i:08d}"
        issue = FIRST_DAY + timedelta(days=rng.randrange(3650))
        gross = Decimal(rng.randrange(1000, 5_000_000)) / 100
        status = rng.choice(STATUSES)
        doc_id = keys.document_id(seller, number)
        summary = dict(summary_template, id=doc_id, type=doc_type, number=number, issue_date=issue.isoformat(),
                       totals=dict(summary_template["totals"], gross_total=str(gross)))
        row = row_of({**summary, "document": {}, "created_at": f"{issue.isoformat()}T10:00:00+00:00"})
        row.update(buyer_siren=rng.choice(BUYERS), type_code=CODES[doc_type], due_date=issue + timedelta(days=30),
                   quote_number=f"D-{i // 4:07d}" if doc_type != "invoice" else None,
                   corrects_number=f"F-{max(i - 1, 0):08d}" if doc_type == "credit_note" else None,
                   currency="EUR", payment_status=status, gross_total=gross,
                   amount_due=Decimal(0) if status == "paid" else gross)
        yield row


COLUMNS = [c.name for c in documents.columns]


def load(index: DocumentIndex, rows, total: int) -> float:
    """Bulk-insert rows, secondary indexes dropped meanwhile and built after; seconds taken."""
    index.migrate()
    started = time.perf_counter()
    with index.engine.begin() as connection:
        for ix in documents.indexes:
            ix.drop(connection)
    _insert(index, rows, total)
    with index.engine.begin() as connection:
        for ix in documents.indexes:
            ix.create(connection)
        if index.dialect == "sqlite":
            connection.exec_driver_sql("ANALYZE")
    if index.dialect == "postgresql":  # what autovacuum does soon after a load: statistics, visibility map
        with index.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE documents")
    return time.perf_counter() - started


def _insert(index: DocumentIndex, rows, total: int) -> None:
    done = 0
    if index.dialect == "postgresql":
        raw = index.engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f"COPY documents ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in COLUMNS])
                    done += 1
                    if done % 100_000 == 0:
                        print(f"  postgresql: {done}/{total} rows", file=sys.stderr, flush=True)
            raw.commit()
        finally:
            raw.close()
    else:
        raw = index.engine.raw_connection()
        try:
            cursor = raw.cursor()
            statement = f"INSERT INTO documents ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
            batch = []

            def sqlite_value(value):
                if isinstance(value, Decimal):
                    return float(value)
                if isinstance(value, datetime):
                    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                if isinstance(value, date):
                    return value.isoformat()
                return value

            for row in rows:
                batch.append([sqlite_value(row[c]) for c in COLUMNS])
                if len(batch) == 20_000:
                    cursor.executemany(statement, batch)
                    raw.commit()
                    done += len(batch)
                    batch = []
                    if done % 100_000 == 0:
                        print(f"  sqlite: {done}/{total} rows", file=sys.stderr, flush=True)
            cursor.executemany(statement, batch)
            raw.commit()
        finally:
            raw.close()


def percentile(values, p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def search_timings(index_url: str, workdir: Path, queries: int, seed: int = 11) -> dict[str, list[float]]:
    """ms per GET /v1/documents (a key for one seller, a page of 100 and the count), by filter mix."""
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{workdir / 'empty-archive'}",
                                  "DOCSVC_AUTH": "disabled", "DOCSVC_DATABASE_URL": index_url,
                                  "DOCSVC_RATE_LIMIT": "1000000/second", "DOCSVC_LOG_LEVEL": "WARNING"})
    client = create_app(settings).test_client()
    rng = random.Random(seed)

    def year_range():
        first = rng.randrange(2016, 2025)
        return f"from={first}-01-01&to={first + 1}-12-31"

    mixes = {
        "seller + type + 2 years": lambda: f"seller={rng.choice(SELLERS)}&type=invoice&{year_range()}",
        "seller + buyer": lambda: f"seller={rng.choice(SELLERS)}&buyer={rng.choice(BUYERS)}",
        "seller + unpaid + amount": lambda: f"seller={rng.choice(SELLERS)}&status=unpaid&min_amount=1000"
                                            f"&max_amount=20000&sort=-issue_date",
    }
    every_seller = {  # an auditor's key for every seller: the count runs over all 50
        "all sellers: credit notes, 1 month": lambda: (lambda m: f"type=credit_note&from=2020-{m:02d}-01"
                                                                 f"&to=2020-{m:02d}-28")(rng.randrange(1, 13)),
    }
    out = {}
    for name, make in {**mixes, **every_seller}.items():
        times = []
        for i in range(queries + 10):
            url = f"/v1/documents?{make()}&limit=100"
            started = time.perf_counter()
            r = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert r.status_code == 200, r.json
            if i >= 10:  # warm-up
                times.append(elapsed)
        out[name] = times
    page2 = []  # the second page of a broad search, through its cursor
    for _ in range(queries // 4):
        first = client.get(f"/v1/documents?seller={rng.choice(SELLERS)}&limit=100").json
        if "next" not in first:  # a small --rows: fewer than two pages per seller
            continue
        started = time.perf_counter()
        assert client.get(first["next"]).status_code == 200
        page2.append((time.perf_counter() - started) * 1000)
    if page2:
        out["seller, page 2 by cursor"] = page2
    return out


def upsert_timings(index: DocumentIndex, template: dict, n: int = 300) -> list[float]:
    rng = random.Random(5)
    times = []
    for i in range(n):
        resource = clone(template, 5_000_000 + i, rng)
        started = time.perf_counter()
        index.upsert(resource)
        times.append((time.perf_counter() - started) * 1000)
    return times


def make_archive(root: Path, template: dict, n: int) -> FilesystemArchive:
    archive = FilesystemArchive(root)
    rng = random.Random(3)
    for i in range(n):
        resource = clone(template, i, rng)
        archive.put_once(keys.resource_key(resource["id"]), json.dumps(resource).encode(),
                         content_type="application/json", retain_until=None)
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--archive", type=int, default=20_000, help="resources in the rebuild archive")
    parser.add_argument("--queries", type=int, default=200, help="searches per filter mix")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="docsvc-bench-index-"))
    template = issued_resource(workdir)
    print(f"resource of the issued invoice: {len(json.dumps(template))} bytes; summary "
          f"{len(json.dumps({k: v for k, v in template.items() if k != 'document'}))} bytes", file=sys.stderr)
    print(f"building a filesystem archive of {args.archive} resources ...", file=sys.stderr, flush=True)
    archive = make_archive(workdir / "archive", template, args.archive)

    backends = [args.only] if args.only else ["sqlite", "postgresql"]
    results = []
    server = None
    try:
        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{workdir / 'index.sqlite3'}"
                rebuild_url = f"sqlite:///{workdir / 'rebuilt.sqlite3'}"
            else:
                from tests.postgres import PostgreSQL

                server = PostgreSQL(durable=True).start()  # fsync on, as in production
                url, rebuild_url = server.new_database(), server.new_database()
            index = DocumentIndex(url)
            print(f"{backend}: loading {args.rows} rows ...", file=sys.stderr, flush=True)
            load_s = load(index, generated_rows(template, args.rows), args.rows)
            searches = search_timings(url, workdir, args.queries)
            writes = upsert_timings(index, template)
            fresh = DocumentIndex(rebuild_url)
            result = rebuild(fresh, archive, batch=500)
            assert result.indexed == args.archive
            results.append((backend, args.rows, load_s, searches, writes, result.indexed / result.seconds))
            index.close()
            fresh.close()
    finally:
        if server is not None:
            server.remove()

    print()
    print("| database | rows | bulk load | search (page of 100 + count) | p50 ms | p95 ms |")
    print("|---|---:|---:|---|---:|---:|")
    for backend, rows, load_s, searches, _, _ in results:
        for name, times in searches.items():
            print(f"| {backend} | {rows:,} | {load_s:.0f} s | {name} | {statistics.median(times):.1f} | "
                  f"{percentile(times, 95):.1f} |")
    print()
    print("| database | index write per issue p50 ms | p95 ms | rebuild from a filesystem archive |")
    print("|---|---:|---:|---:|")
    for backend, _, _, _, writes, rate in results:
        print(f"| {backend} | {statistics.median(writes):.2f} | {percentile(writes, 95):.2f} | "
              f"{rate:,.0f} documents/s ({args.archive:,} resources) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
