"""OpenRosa instances: what an XForm client (ODK Collect, Enketo) sent, beside the submission it became

Revision ID: 20261201_2330_openrosa
Revises: 20261201_2140_personal_reads
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20261201_2330_openrosa"
down_revision = "20261201_2140_personal_reads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "openrosa_instances",
        sa.Column("instance_id", sa.String(length=100), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("form_version", sa.String(length=32), nullable=False),
        sa.Column("deprecated_id", sa.String(length=100), nullable=True),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("xml_mac", sa.String(length=64), nullable=False),
        sa.Column("files", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"]),
        sa.PrimaryKeyConstraint("instance_id"),
        sa.UniqueConstraint("submission_id"),
    )
    op.create_index("ix_openrosa_instances_device_id", "openrosa_instances", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_openrosa_instances_device_id", table_name="openrosa_instances")
    op.drop_table("openrosa_instances")
