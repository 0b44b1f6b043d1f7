"""Imports: problems with a severity (warnings are rows imported all the same), the child's name,
town and village, the value a warning's row was imported with; an import's mode (corrections)

Revision ID: 20261202_0900_import_warnings
Revises: 20261201_2330_openrosa
"""
import sqlalchemy as sa
from alembic import op

revision = "20261202_0900_import_warnings"
down_revision = "20261201_2330_openrosa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every problem stored so far kept its row out: they are errors.
    op.add_column("import_problems", sa.Column("severity", sa.String(length=8), server_default="error",
                                               nullable=False))
    op.add_column("import_problems", sa.Column("imported_value", sa.String(length=200), nullable=True))
    op.add_column("import_problems", sa.Column("name", sa.String(length=50), nullable=True))
    op.add_column("import_problems", sa.Column("town", sa.String(length=100), nullable=True))
    op.add_column("import_problems", sa.Column("village", sa.String(length=100), nullable=True))
    op.create_check_constraint(op.f("ck_import_problems_severity"), "import_problems",
                               "severity in ('error', 'warning')")
    op.create_index("ix_import_problems_import_severity", "import_problems", ["import_id", "severity", "line"])
    op.add_column("imports", sa.Column("mode", sa.String(length=12), server_default="full", nullable=False))
    op.create_check_constraint(op.f("ck_imports_mode"), "imports", "mode in ('full', 'corrections')")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_imports_mode"), "imports", type_="check")
    op.drop_column("imports", "mode")
    op.drop_index("ix_import_problems_import_severity", table_name="import_problems")
    op.drop_constraint(op.f("ck_import_problems_severity"), "import_problems", type_="check")
    for column in ("village", "town", "name", "imported_value", "severity"):
        op.drop_column("import_problems", column)
