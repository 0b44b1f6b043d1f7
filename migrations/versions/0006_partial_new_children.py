"""A child created on a tablet may first be known from a partial edit: name, gender and birth
date become nullable (sync guarantee 7: a new record's first edit may arrive after its second)

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("name", "gender", "birth_date")


def upgrade() -> None:
    for column in COLUMNS:
        op.alter_column("children", column, nullable=True)


def downgrade() -> None:
    # Children still waiting for their first edit cannot satisfy NOT NULL, and inventing a name
    # or a birth date for them would be worse than refusing: ALTER fails and says which column.
    for column in COLUMNS:
        op.alter_column("children", column, nullable=False)
