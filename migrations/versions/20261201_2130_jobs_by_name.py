"""Outbox rows name their job (server/jobs/registry.py) instead of a function's import path

Revision ID: 20261201_2130_jobs_by_name
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "20261201_2130_jobs_by_name"
down_revision = "0008"
branch_labels = None
depends_on = None

# Rows waiting in the outbox when the upgrade runs were written with the old import paths.
RENAMED = {
    "server.imports.jobs.run_import": "imports.run_import",
    "server.reports.jobs.build_export": "reports.build_export",
    "server.maps.jobs.regenerate_town_tasks": "maps.regenerate_town_tasks",
    "server.cases.jobs.render_notice": "cases.render_notice",
}


def _rename(pairs) -> None:
    for old, new in pairs:
        op.execute(sa.text("UPDATE job_outbox SET function = :new WHERE function = :old").bindparams(old=old, new=new))


def upgrade() -> None:
    _rename(RENAMED.items())


def downgrade() -> None:
    _rename((new, old) for old, new in RENAMED.items())
