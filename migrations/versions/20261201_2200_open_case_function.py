"""Which statuses open a case, said once: open_case_for_child(), called by the trigger and the backfill

Revision ID: 20261201_2200_open_case_function
Revises: 20261201_2100_bound_id_numbers

The rule (a child confirmed dropped_out or never_enrolled gets a case, due at the end of the
active campaign's 劝返复学 phase, with its first event) was written twice: in the trigger
body of 0005 and in Python (server/cases/queries.py, for `cases open-all` and POST
/cases/open). It is now one named function; the trigger and the backfill both call it.
"""
from alembic import op

revision = "20261201_2200_open_case_function"
down_revision = "20261201_2100_bound_id_numbers"
branch_labels = None
depends_on = None

OPEN_CASE_FOR_CHILD = """
CREATE FUNCTION open_case_for_child(p_child uuid, p_village varchar, p_status varchar, p_person integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    new_case integer;
BEGIN
    -- A field survey (or an import, a supervisor) that sets one of these confirms the child out
    -- of school; suspected_out_of_school is only the cross-match's guess and waits for a visit.
    IF p_status IS NULL OR p_status NOT IN ('dropped_out', 'never_enrolled') THEN
        RETURN NULL;
    END IF;
    -- ON CONFLICT on the partial unique index (one open case per child): a second call, or two
    -- concurrent ones, open nothing more.
    INSERT INTO cases (child_id, village_code, campaign_id, status, opened_from, due_on)
    SELECT p_child, p_village, c.id, 'identified', p_status, c.enforcement_start - 1
    FROM (SELECT 1) AS one LEFT JOIN campaigns c ON c.active
    ON CONFLICT (child_id) WHERE closed_at IS NULL DO NOTHING
    RETURNING id INTO new_case;
    IF new_case IS NOT NULL THEN
        INSERT INTO case_events (case_id, from_status, to_status, person_id, note)
        VALUES (new_case, NULL, 'identified', p_person, 'opened: the child is confirmed out of school');
    END IF;
    RETURN new_case;
END $$
"""

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION open_case_for_out_of_school_child() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM open_case_for_child(NEW.id, NEW.village_code, NEW.enrollment_status, NULL);
    RETURN NULL;
END $$
"""

# 0005's body, for the way back.
OLD_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION open_case_for_out_of_school_child() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_case integer;
BEGIN
    INSERT INTO cases (child_id, village_code, campaign_id, status, opened_from, due_on)
    SELECT NEW.id, NEW.village_code, c.id, 'identified', NEW.enrollment_status, c.enforcement_start - 1
    FROM (SELECT 1) AS one LEFT JOIN campaigns c ON c.active
    ON CONFLICT (child_id) WHERE closed_at IS NULL DO NOTHING
    RETURNING id INTO new_case;
    IF new_case IS NOT NULL THEN
        INSERT INTO case_events (case_id, from_status, to_status, note)
        VALUES (new_case, NULL, 'identified', 'opened: the child is confirmed out of school');
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(OPEN_CASE_FOR_CHILD)
    op.execute(TRIGGER_FUNCTION)
    # The trigger fires on every status change; the function decides (the WHEN clause was a
    # second copy of the rule).
    op.execute("DROP TRIGGER IF EXISTS children_open_case ON children")
    op.execute("CREATE TRIGGER children_open_case AFTER INSERT OR UPDATE OF enrollment_status ON children"
               " FOR EACH ROW EXECUTE FUNCTION open_case_for_out_of_school_child()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS children_open_case ON children")
    op.execute(OLD_TRIGGER_FUNCTION)
    op.execute("CREATE TRIGGER children_open_case AFTER INSERT OR UPDATE OF enrollment_status ON children"
               " FOR EACH ROW WHEN (NEW.enrollment_status IN ('dropped_out', 'never_enrolled'))"
               " EXECUTE FUNCTION open_case_for_out_of_school_child()")
    op.execute("DROP FUNCTION IF EXISTS open_case_for_child(uuid, varchar, varchar, integer)")
