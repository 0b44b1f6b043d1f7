"""Roster referrals: a town roster's rows whose ID number is none of the town's children, held
for the city bureau's decision

Revision ID: 20261201_2115_roster_referrals
Revises: 20261201_2215_notice_series
"""
import sqlalchemy as sa
from alembic import op

revision = "20261201_2115_roster_referrals"
down_revision = "20261201_2215_notice_series"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster_referrals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("import_id", sa.Integer(), sa.ForeignKey("imports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("id_number_lookup", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("gender", sa.String(1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("ethnicity", sa.String(20)),
        sa.Column("village_code", sa.String(12), sa.ForeignKey("villages.code"), nullable=False),
        sa.Column("group_name", sa.String(20)),
        sa.Column("household_number", sa.String(30)),
        sa.Column("address", sa.String(200)),
        sa.Column("head_name", sa.String(50)),
        sa.Column("relation_to_head", sa.String(20)),
        sa.Column("guardian_name", sa.String(50)),
        sa.Column("guardian_phone", sa.String(30)),
        sa.Column("child_id", sa.Uuid(), sa.ForeignKey("children.id")),
        sa.Column("status", sa.String(10), server_default="held", nullable=False),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("people.id")),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status in ('held', 'moved', 'dismissed')", name=op.f("ck_roster_referrals_status")),
    )
    op.create_index("ix_roster_referrals_import_id", "roster_referrals", ["import_id"])
    op.create_index("ix_roster_referrals_held", "roster_referrals", ["id"], postgresql_where=sa.text("status = 'held'"))


def downgrade() -> None:
    op.drop_table("roster_referrals")
