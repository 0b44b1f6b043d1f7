"""Notices: a number series per kind, and what a county prints on one (school, place, contact)

Revision ID: 20261201_2215_notice_series
Revises: 20261201_2130_jobs_by_name

Each kind of notice is numbered in its own series (海安教返〔2027〕0001号 and 海安教限〔2027〕0001号
both exist); the counters gain the kind and the existing year counters become one per kind,
continuing from the highest number each kind has. A notice keeps the school, place and contact
it was issued with, so that rendering it again prints the same page.
"""
import sqlalchemy as sa
from alembic import op

revision = "20261201_2215_notice_series"
down_revision = "20261201_2130_jobs_by_name"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notices", sa.Column("school_name", sa.String(100), nullable=True))
    op.add_column("notices", sa.Column("report_place", sa.String(200), nullable=True))
    op.add_column("notices", sa.Column("contact_name", sa.String(50), nullable=True))
    op.add_column("notices", sa.Column("contact_phone", sa.String(30), nullable=True))
    op.add_column("notices", sa.Column("issuer", sa.String(100), nullable=True))
    op.drop_index("uq_notices_year_number", table_name="notices")
    op.create_index("uq_notices_kind_year_number", "notices", ["kind", "year", "number"], unique=True)

    op.add_column("notice_counters", sa.Column("kind", sa.String(12), nullable=True))
    op.execute("DELETE FROM notice_counters")
    op.execute("""
        INSERT INTO notice_counters (year, kind, last_number)
        SELECT year, kind, max(number) FROM notices GROUP BY year, kind
    """)
    op.alter_column("notice_counters", "kind", nullable=False)
    op.drop_constraint("pk_notice_counters", "notice_counters", type_="primary")
    op.create_primary_key("pk_notice_counters", "notice_counters", ["year", "kind"])


def downgrade() -> None:
    op.drop_constraint("pk_notice_counters", "notice_counters", type_="primary")
    op.execute("""
        DELETE FROM notice_counters c USING notice_counters d
         WHERE c.year = d.year AND c.kind > d.kind
    """)
    op.execute("UPDATE notice_counters SET last_number = (SELECT max(number) FROM notices n WHERE n.year = notice_counters.year)")
    op.drop_column("notice_counters", "kind")
    op.create_primary_key("pk_notice_counters", "notice_counters", ["year"])
    op.drop_index("uq_notices_kind_year_number", table_name="notices")
    # The years' numbers were per kind: renumber within the year so the old unique index holds.
    op.execute("""
        UPDATE notices n SET number = r.rn
          FROM (SELECT id, row_number() OVER (PARTITION BY year ORDER BY id) AS rn FROM notices) r
         WHERE r.id = n.id
    """)
    op.execute("UPDATE notice_counters SET last_number = coalesce((SELECT max(number) FROM notices n WHERE n.year = notice_counters.year), 0)")
    op.create_index("uq_notices_year_number", "notices", ["year", "number"], unique=True)
    for column in ("issuer", "contact_phone", "contact_name", "report_place", "school_name"):
        op.drop_column("notices", column)
