"""A case is in its child's village, kept so by the database

Revision ID: 20261202_2000_cases_follow_child
Revises: 20261202_1600_scope_hashes

The rates and the map count a case's outcome in its child's current village. Finding a town's
cases by their children meant probing the child of every case of the county (1,928 after the
demo's field week and a load run: 12 ms of a town supervisor's 28 ms rates). A case's
village_code was its child's village when it was opened and stayed so when the household
moved, so it could not be used for that. Now the database keeps it equal to the child's: set
from the child when a case is written, and moved with the child (a household's move moves its
children, migration 0003's trigger, and so their cases). A case follows its child to the team
and the supervisor who now hold the child's record, as the records' scope does.
"""
from alembic import op

revision = "20261202_2000_cases_follow_child"
down_revision = "20261202_1600_scope_hashes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        UPDATE cases c SET village_code = ch.village_code
        FROM children ch WHERE ch.id = c.child_id AND c.village_code <> ch.village_code
    """)
    op.execute("""
        CREATE FUNCTION case_in_child_village() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            SELECT village_code INTO NEW.village_code FROM children WHERE id = NEW.child_id;
            RETURN NEW;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER case_in_child_village BEFORE INSERT OR UPDATE OF child_id, village_code ON cases
        FOR EACH ROW EXECUTE FUNCTION case_in_child_village()
    """)
    op.execute("""
        CREATE FUNCTION cases_follow_child() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE cases SET village_code = NEW.village_code, updated_at = now() WHERE child_id = NEW.id;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER cases_follow_child AFTER UPDATE OF village_code ON children
        FOR EACH ROW WHEN (OLD.village_code IS DISTINCT FROM NEW.village_code)
        EXECUTE FUNCTION cases_follow_child()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER cases_follow_child ON children")
    op.execute("DROP FUNCTION cases_follow_child()")
    op.execute("DROP TRIGGER case_in_child_village ON cases")
    op.execute("DROP FUNCTION case_in_child_village()")
