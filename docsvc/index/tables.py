"""The index's tables (SQLAlchemy Core). Migrations in migrations/versions create them;
this module is what the code queries through, and must say the same."""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Index, MetaData, Numeric, String, Table, Text

metadata = MetaData()


def Key(length: int) -> String:  # noqa: N802 - a column type
    """Ids and numbers compare byte by byte on both databases (PostgreSQL's default collation
    would sort F-2026/0008 by its letters only), so pages and cursors agree everywhere."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")

#: One row per archived document, derived from its resource.json (the archive is the truth).
documents = Table(
    "documents", metadata,
    Column("id", Key(160), primary_key=True),
    Column("seller", String(16), nullable=False),  # the archive's seller key: SIREN, or VAT id abroad
    Column("seller_name", Text, nullable=False),
    Column("buyer_siren", String(16)),
    Column("buyer_name", Text, nullable=False),
    Column("type", String(32), nullable=False),
    Column("type_code", String(8)),
    Column("number", Key(140), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date),
    Column("quote_number", Key(140)),
    Column("corrects_number", Key(140)),
    Column("currency", String(3)),
    Column("net_total", Numeric(20, 4)),
    Column("vat_total", Numeric(20, 4)),
    Column("gross_total", Numeric(20, 4)),
    Column("amount_due", Numeric(20, 4)),
    Column("payment_status", String(20)),
    Column("template_name", String(100)),
    Column("template_version", String(40)),
    Column("formats", String(100)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("summary", Text, nullable=False),  # JSON of the resource as a search item shows it
    Index("ix_documents_seller_issue", "seller", "issue_date", "id"),
    Index("ix_documents_seller_number", "seller", "number"),
    Index("ix_documents_seller_type_issue", "seller", "type", "issue_date", "id"),
    Index("ix_documents_seller_buyer_issue", "seller", "buyer_siren", "issue_date"),
    Index("ix_documents_seller_quote", "seller", "quote_number", "issue_date"),
    Index("ix_documents_seller_due", "seller", "due_date"),
    Index("ix_documents_seller_status_issue", "seller", "payment_status", "issue_date", "gross_total"),
    Index("ix_documents_issue", "issue_date", "id"),
    Index("ix_documents_type_issue", "type", "issue_date", "id"),  # an auditor's search over every seller
    Index("ix_documents_number", "number", "id"),
    Index("ix_documents_created", "created_at"),
)

#: Small named values: the sweep's high-water mark, a rebuild's checkpoint, the cursor secret.
state = Table(
    "index_state", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
