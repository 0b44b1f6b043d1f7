"""Login lockout: failed attempts per account and the time a locked account opens again

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("people", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
    op.add_column("people", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("people", "locked_until")
    op.drop_column("people", "failed_logins")
