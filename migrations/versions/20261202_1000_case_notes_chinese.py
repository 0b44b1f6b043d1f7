"""Case events the server writes say what happened in Chinese, as every other line of a case's
timeline does

Revision ID: 20261202_1000_case_notes_chinese
Revises: 20261202_0900_import_warnings

A case opened by a confirmed status had the note "opened: the child is confirmed out of
school" (the first line of every case's timeline in the workbench), and a support plan's
"support plan (一生一案)". open_case_for_child() is the same function with the note in
Chinese; the events written so far are given the same words.
"""
from alembic import op

revision = "20261202_1000_case_notes_chinese"
down_revision = "20261202_0900_import_warnings"
branch_labels = None
depends_on = None

OPENED_EN = "opened: the child is confirmed out of school"
OPENED_ZH = "确认失学辍学，建档立案"
PLAN_EN = "support plan (一生一案)"
PLAN_ZH = "制定帮扶方案（一生一案）"

FUNCTION = """
CREATE OR REPLACE FUNCTION open_case_for_child(p_child uuid, p_village varchar, p_status varchar, p_person integer)
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
        VALUES (new_case, NULL, 'identified', p_person, '{note}');
    END IF;
    RETURN new_case;
END $$
"""


def upgrade() -> None:
    op.execute(FUNCTION.format(note=OPENED_ZH))
    op.execute(f"UPDATE case_events SET note = '{OPENED_ZH}' WHERE note = '{OPENED_EN}'")
    op.execute(f"UPDATE case_events SET note = '{PLAN_ZH}' WHERE note = '{PLAN_EN}'")


def downgrade() -> None:
    op.execute(FUNCTION.format(note=OPENED_EN))
    op.execute(f"UPDATE case_events SET note = '{OPENED_EN}' WHERE note = '{OPENED_ZH}'")
    op.execute(f"UPDATE case_events SET note = '{PLAN_EN}' WHERE note = '{PLAN_ZH}'")
