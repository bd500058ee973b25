"""The documents index and its state table.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def key(length: int) -> sa.String:
    """Byte-order comparison on PostgreSQL too (see tables.Key)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", key(160), primary_key=True),
        sa.Column("seller", sa.String(16), nullable=False),
        sa.Column("seller_name", sa.Text, nullable=False),
        sa.Column("buyer_siren", sa.String(16)),
        sa.Column("buyer_name", sa.Text, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("type_code", sa.String(8)),
        sa.Column("number", key(140), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("quote_number", key(140)),
        sa.Column("corrects_number", key(140)),
        sa.Column("currency", sa.String(3)),
        sa.Column("net_total", sa.Numeric(20, 4)),
        sa.Column("vat_total", sa.Numeric(20, 4)),
        sa.Column("gross_total", sa.Numeric(20, 4)),
        sa.Column("amount_due", sa.Numeric(20, 4)),
        sa.Column("payment_status", sa.String(20)),
        sa.Column("template_name", sa.String(100)),
        sa.Column("template_version", sa.String(40)),
        sa.Column("formats", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    for name, columns in (
        ("ix_documents_seller_issue", ["seller", "issue_date", "id"]),
        ("ix_documents_seller_number", ["seller", "number"]),
        ("ix_documents_seller_type_issue", ["seller", "type", "issue_date", "id"]),
        ("ix_documents_seller_buyer_issue", ["seller", "buyer_siren", "issue_date"]),
        ("ix_documents_seller_quote", ["seller", "quote_number", "issue_date"]),
        ("ix_documents_seller_due", ["seller", "due_date"]),
        ("ix_documents_seller_status_issue", ["seller", "payment_status", "issue_date", "gross_total"]),
        ("ix_documents_issue", ["issue_date", "id"]),
        ("ix_documents_type_issue", ["type", "issue_date", "id"]),
        ("ix_documents_number", ["number", "id"]),
        ("ix_documents_created", ["created_at"]),
    ):
        op.create_index(name, "documents", columns)
    op.create_table(
        "index_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("index_state")
    op.drop_table("documents")
