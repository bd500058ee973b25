"""The document index: one row per archived original, in SQLite (embedded) or PostgreSQL.

The archive stays the truth. Every row is derived from a resource.json and can be
re-derived at any time (`docsvc index rebuild`), so writing a row is an idempotent upsert
and losing the database loses nothing but time.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, event, func, select, tuple_
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.sql.elements import ColumnElement

from ..billing.numbering import out_of_order, series_of
from .tables import documents, state

SORTS = ("issue_date", "-issue_date", "number", "-number")


class IndexUnavailable(Exception):
    """The index database can't be reached; the message names it, never its credentials."""


def describe(url: str) -> str:
    """`sqlite /path/index.sqlite3` or `postgresql host:5432/docsvc`: a database named for
    operators, with user and password left out."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite {parsed.database}"
    where = parsed.host or "localhost"
    if parsed.port:
        where += f":{parsed.port}"
    return f"{parsed.get_backend_name()} {where}/{parsed.database or ''}"


def row_of(resource: dict) -> dict:
    """The index row of one resource.json, as archived (any shape issue() ever wrote)."""
    doc = resource.get("document") or {}
    totals = resource.get("totals") or {}
    buyer = doc.get("buyer") or {}
    seller = doc.get("seller") or resource.get("seller") or {}
    template = resource.get("template") or {}

    def money(name: str) -> Decimal | None:
        value = totals.get(name)
        return Decimal(value) if value is not None else None

    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    created = datetime.fromisoformat(resource["created_at"])
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return {
        "id": resource["id"],
        "seller": resource["id"].split("-", 1)[0],
        "seller_name": seller.get("name") or "",
        "buyer_siren": buyer.get("siren"),
        "buyer_name": (resource.get("buyer") or {}).get("name") or buyer.get("name") or "",
        "type": resource["type"],
        "type_code": doc.get("type_code"),
        "number": resource["number"],
        "issue_date": day(resource["issue_date"]),
        "due_date": day(doc.get("due_date")),
        "quote_number": (doc.get("quote") or {}).get("number"),
        "corrects_number": (doc.get("corrects") or {}).get("number"),
        "currency": doc.get("currency"),
        "net_total": money("net_total"),
        "vat_total": money("vat_total"),
        "gross_total": money("gross_total"),
        "amount_due": money("amount_due"),
        "payment_status": doc.get("payment_status"),
        "template_name": template.get("name"),
        "template_version": template.get("version"),
        "formats": ",".join(f["format"] for f in resource.get("files", [])),
        "created_at": created.astimezone(UTC),
        "summary": json.dumps(summary_of(resource), ensure_ascii=False, separators=(",", ":")),
    }


def summary_of(resource: dict) -> dict:
    """The resource as a search item shows it: what DocumentSummarySchema().dump() gives
    (no `document`, files without their storage keys), taken by keeping the schema's fields
    only, since an archived resource holds its values formatted already. Stored in the row,
    so a page of 100 is read without touching the archive (the API adds each file's URL)."""
    return _project(_summary_shape(), resource)


def _fields_of(schema) -> dict:
    from marshmallow import fields

    out = {}
    for name, field in schema.fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        out[field.data_key or name] = _fields_of(inner.schema) if isinstance(inner, fields.Nested) else None
    return out


_SHAPE: dict | None = None


def _summary_shape() -> dict:
    global _SHAPE
    if _SHAPE is None:
        from ..schemas.resources import DocumentSummarySchema

        _SHAPE = _fields_of(DocumentSummarySchema())
    return _SHAPE


def _project(shape: dict, value):
    if isinstance(value, list):
        return [_project(shape, v) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: (value[k] if shape[k] is None or value[k] is None else _project(shape[k], value[k]))
            for k in shape if k in value}


@dataclass(frozen=True)
class Query:
    """What a search asks for. `sellers` is the caller's isolation (None: every seller),
    applied to the rows and to the count alike."""

    sellers: frozenset[str] | None = None
    seller: str | None = None
    buyer: str | None = None
    type: str | None = None
    number: str | None = None
    quote: str | None = None
    corrects: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    due_from: date | None = None
    due_to: date | None = None
    min_amount: Decimal | None = None  # on the gross total (TTC), the figure printed at the bottom
    max_amount: Decimal | None = None
    status: str | None = None
    sort: str = "issue_date"


@dataclass
class Page:
    count: int  # every matching document, across all pages
    summaries: list[str]  # each item's JSON, as stored (see summary_of)
    after: tuple[str, str] | None  # (sort value, id) of the last item when another page follows

    @property
    def items(self) -> list[dict]:
        return [json.loads(s) for s in self.summaries]


class DocumentIndex:
    """The port the service and the API use; SQLAlchemy Core underneath."""

    def __init__(self, url: str, *, connect_timeout: int = 3):
        self.url = url
        self.name = describe(url)
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4,
                                        connect_args={"connect_timeout": connect_timeout})
        self._migrated = False
        self._secret: bytes | None = None

    # ------------------------------------------------------------------ lifecycle

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic, scripts shipped in the package)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self._guard(), self.engine.begin() as connection:
            if self.dialect == "postgresql":  # instances starting together migrate one at a time
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(1500015)")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        self._migrated = True

    def ping(self) -> None:
        """Raise IndexUnavailable unless the database answers (what /readyz asks)."""
        with self._guard(), self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ writes

    def upsert(self, resource: dict) -> None:
        self.upsert_rows([row_of(resource)])

    def upsert_rows(self, rows: list[dict]) -> None:
        """Insert or replace rows by id, in one transaction (a rebuild's batch)."""
        if not rows:
            return
        self._ensure()
        insert = self._insert(documents)
        statement = insert.on_conflict_do_update(
            index_elements=[documents.c.id],
            set_={c.name: insert.excluded[c.name] for c in documents.c if c.name != "id"})
        with self._guard(), self.engine.begin() as connection:
            if self.dialect == "postgresql":
                # Rows are derived: a database crash may lose the last fraction of a second of
                # them (never corrupt anything), and `docsvc index check` / `rebuild --since`
                # restore them from the archive. So the issue doesn't wait for the WAL flush.
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            connection.execute(statement, rows)

    def set_state(self, name: str, value: str | None) -> None:
        self._ensure()
        with self._guard(), self.engine.begin() as connection:
            if value is None:
                connection.execute(state.delete().where(state.c.name == name))
                return
            insert = self._insert(state)
            connection.execute(insert.on_conflict_do_update(index_elements=[state.c.name],
                                                            set_={"value": insert.excluded.value}),
                               {"name": name, "value": value})

    def get_state(self, name: str) -> str | None:
        self._ensure()
        with self._guard(), self.engine.connect() as connection:
            return connection.execute(select(state.c.value).where(state.c.name == name)).scalar()

    def cursor_secret(self) -> bytes:
        """The key that signs search cursors: made once, kept in the database, so every worker
        and every instance on the same index accepts the cursors the others hand out."""
        if self._secret is None:
            secret = self.get_state("cursor_secret")
            if secret is None:
                self._insert_state_once("cursor_secret", secrets.token_hex(32))
                secret = self.get_state("cursor_secret")
            assert secret is not None, "written once above, by this process or another"
            self._secret = bytes.fromhex(secret)
        return self._secret

    # ------------------------------------------------------------------ reads

    def search(self, query: Query, *, after: tuple[str, str] | None = None, limit: int = 100) -> Page:
        self._ensure()
        t = documents.c
        conditions = self._conditions(query)
        column = t.issue_date if query.sort.endswith("issue_date") else t.number
        descending = query.sort.startswith("-")
        page_conditions = list(conditions)
        if after is not None:
            value = date.fromisoformat(after[0]) if column is t.issue_date else after[0]
            position = tuple_(column, t.id)
            page_conditions.append(position < tuple_(value, after[1]) if descending
                                   else position > tuple_(value, after[1]))
        order = (column.desc(), t.id.desc()) if descending else (column.asc(), t.id.asc())
        rows_query = (select(t.summary, column, t.id).where(*page_conditions).order_by(*order)
                      .limit(limit + 1))
        count_query = select(func.count()).select_from(documents).where(*conditions)
        with self._guard(), self.engine.connect() as connection:
            rows = connection.execute(rows_query).all()
            count = connection.execute(count_query).scalar_one()
        more = len(rows) > limit
        rows = rows[:limit]
        last = None
        if more:
            value = rows[-1][1]
            last = (value.isoformat() if isinstance(value, date) else value, rows[-1][2])
        return Page(count, [r[0] for r in rows], last)

    def documents_of_quote(self, seller: str, quote: str) -> list[dict]:
        """Every document issued on a quote, in issue order: the lookup the cycle's rules
        (no double billing, the final invoice's recap) use instead of scanning the archive."""
        self._ensure()
        t = documents.c
        statement = (select(t.summary).where(t.seller == seller, t.quote_number == quote)
                     .order_by(t.issue_date, t.created_at, t.id))
        with self._guard(), self.engine.connect() as connection:
            summaries: list[str] = list(connection.execute(statement).scalars())
        return [json.loads(s) for s in summaries]

    def out_of_order(self, seller: str, number: str, issued: date, limit: int = 50) -> list[tuple[str, date]]:
        """The seller's documents of the series of `number` that a document `number` issued on
        `issued` would contradict (billing.numbering.out_of_order): lower numbers dated later,
        higher numbers dated earlier. Numbers of one series compare as text when they have the
        same width and by width otherwise; each side reads at most `limit` rows, nearest first."""
        series = series_of(number)
        if series is None:
            return []
        self._ensure()
        prefix, width = series[0], func.length(documents.c.number)
        t = documents.c
        in_series = [t.seller == seller]
        if prefix:
            in_series += [t.number >= prefix, t.number < prefix[:-1] + chr(ord(prefix[-1]) + 1)]
        lower = ((width == len(number)) & (t.number < number)) | (width < len(number))
        higher = ((width == len(number)) & (t.number > number)) | (width > len(number))
        later = (select(t.number, t.issue_date).where(*in_series, t.issue_date > issued, lower)
                 .order_by(width.desc(), t.number.desc()).limit(limit))
        earlier = (select(t.number, t.issue_date).where(*in_series, t.issue_date < issued, higher)
                   .order_by(width, t.number).limit(limit))
        with self._guard(), self.engine.connect() as connection:
            rows = [(r.number, r.issue_date) for query in (later, earlier) for r in connection.execute(query)]
        return out_of_order(number, issued, rows)

    def dates_of(self, ids: Iterable[str]) -> dict[str, tuple[datetime, date]]:
        """id -> (created_at, issue_date) of the ids already indexed (a rebuild --since skips
        what it needn't read again)."""
        self._ensure()
        ids = list(ids)
        if not ids:
            return {}
        t = documents.c
        with self._guard(), self.engine.connect() as connection:
            rows = connection.execute(select(t.id, t.created_at, t.issue_date).where(t.id.in_(ids)))
            return {row.id: (row.created_at, row.issue_date) for row in rows}

    def all_ids(self) -> Iterator[str]:
        self._ensure()
        with self._guard(), self.engine.connect() as connection:
            yield from connection.execute(select(documents.c.id).order_by(documents.c.id)).scalars()

    def count(self) -> int:
        self._ensure()
        with self._guard(), self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(documents)).scalar_one()

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _conditions(query: Query) -> list[ColumnElement[bool]]:
        t = documents.c
        out: list[ColumnElement[bool]] = []
        if query.sellers is not None:
            out.append(t.seller.in_(sorted(query.sellers)))
        for column, value in ((t.seller, query.seller), (t.buyer_siren, query.buyer), (t.type, query.type),
                              (t.number, query.number), (t.quote_number, query.quote),
                              (t.corrects_number, query.corrects), (t.payment_status, query.status)):
            if value is not None:
                out.append(column == value)
        for column, low, high in ((t.issue_date, query.issued_from, query.issued_to),
                                  (t.due_date, query.due_from, query.due_to),
                                  (t.gross_total, query.min_amount, query.max_amount)):
            if low is not None:
                out.append(column >= low)
            if high is not None:
                out.append(column <= high)
        return out

    def _insert(self, table):
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            return postgresql_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    def _insert_state_once(self, name: str, value: str) -> None:
        with self._guard(), self.engine.begin() as connection:
            connection.execute(self._insert(state).on_conflict_do_nothing(index_elements=[state.c.name]),
                               {"name": name, "value": value})

    def _ensure(self) -> None:
        if not self._migrated:
            self.migrate()

    def _guard(self):
        return _Unavailable(self.name)


class _Unavailable:
    """Database connection failures become IndexUnavailable, naming the database only."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None:
            return False
        if isinstance(exc, (OperationalError, InterfaceError)) or (
                isinstance(exc, DBAPIError) and exc.connection_invalidated):
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200] if str(exc) else ""
            raise IndexUnavailable(f"index database unreachable ({self.name}): {_scrub(reason)}") from None
        return False


def _scrub(reason: str) -> str:
    """Driver messages may quote a connection string; keep them free of passwords."""
    import re

    return re.sub(r"password=\S+|://[^@/\s]*@", lambda m: "password=***" if m.group().startswith("password")
                  else "://***@", reason)


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; the archive is the truth anyway
    cursor.execute("PRAGMA busy_timeout=30000")  # gunicorn workers write one at a time
    cursor.close()
