"""Reads of personal data in the audit trail: the request, its filters, how many records and which

Revision ID: 20261201_2140_personal_reads
Revises: 20261201_2100_edges
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20261201_2140_personal_reads"
down_revision = "20261201_2100_edges"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("endpoint", sa.String(length=120), nullable=True))
    op.add_column("audit_events", sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("audit_events", sa.Column("record_count", sa.Integer(), nullable=True))
    op.add_column("audit_events", sa.Column("record_ids", postgresql.ARRAY(sa.Uuid()), nullable=True))
    # "Who saw this child?" looks inside the arrays of list reads.
    op.create_index("ix_audit_events_record_ids", "audit_events", ["record_ids"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_audit_events_record_ids", table_name="audit_events")
    op.drop_column("audit_events", "record_ids")
    op.drop_column("audit_events", "record_count")
    op.drop_column("audit_events", "filters")
    op.drop_column("audit_events", "endpoint")
