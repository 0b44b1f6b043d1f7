"""The audit trail's indexes, and the job outbox (jobs survive a Redis outage)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_submissions_received_at", "submissions", ["received_at"])
    op.create_index("ix_submissions_person_received_at", "submissions", ["person_id", "received_at"])
    op.create_table(
        "job_outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("queue", sa.String(length=20), nullable=False),
        sa.Column("function", sa.String(length=200), nullable=False),
        sa.Column("args", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_outbox")),
    )
    op.create_index("ix_job_outbox_created_at", "job_outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_job_outbox_created_at", table_name="job_outbox")
    op.drop_table("job_outbox")
    op.drop_index("ix_submissions_person_received_at", table_name="submissions")
    op.drop_index("ix_submissions_received_at", table_name="submissions")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
