"""Cases: out-of-school cases and their events, notices and their per-year numbers, support
plans (一生一案) and report exports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 06:12:58.339430
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


# A case opens by itself when a child becomes confirmed out of school, whoever writes the status
# (a tablet's survey through sync, a register import, a supervisor, psql): the database does it
# rather than each writer remembering to. The due date is the end of the active campaign's
# 劝返复学 phase, as server/cases/deadlines.py computes for a new case (the day before 督察整改);
# `notoneless cases open-all` and POST /api/v1/cases/open do the same for rows older than this.
OPEN_CASE_TRIGGER = [
    """
    CREATE FUNCTION open_case_for_out_of_school_child() RETURNS trigger LANGUAGE plpgsql AS $$
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
    """,
    """
    CREATE TRIGGER children_open_case AFTER INSERT OR UPDATE OF enrollment_status ON children
    FOR EACH ROW WHEN (NEW.enrollment_status IN ('dropped_out', 'never_enrolled'))
    EXECUTE FUNCTION open_case_for_out_of_school_child()
    """,
]
# A child record merged into another (duplicates review: a tombstone with merged_into, then the
# delete) hands its cases to the survivor, so that the history of visits and steps is not lost
# and the delete is not refused by the foreign key. When both had an open case, the loser's
# events, notices and plans join the survivor's, with one more event saying so. A child deleted
# without a survivor takes its cases with it.
OPEN_CASE_TRIGGER += [
    """
    CREATE FUNCTION move_cases_of_deleted_child() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        survivor uuid;
        keep integer;
        gone integer;
    BEGIN
        SELECT merged_into INTO survivor FROM tombstones
        WHERE record_type = 'child' AND record_id = OLD.id AND merged_into IS NOT NULL;
        IF survivor IS NULL THEN
            DELETE FROM cases WHERE child_id = OLD.id;
            RETURN OLD;
        END IF;
        SELECT id INTO keep FROM cases WHERE child_id = survivor AND closed_at IS NULL;
        SELECT id INTO gone FROM cases WHERE child_id = OLD.id AND closed_at IS NULL;
        IF keep IS NOT NULL AND gone IS NOT NULL THEN
            UPDATE case_events SET case_id = keep WHERE case_id = gone;
            UPDATE notices SET case_id = keep WHERE case_id = gone;
            UPDATE support_plans SET case_id = keep WHERE case_id = gone;
            INSERT INTO case_events (case_id, from_status, to_status, note, detail)
            SELECT keep, g.status, k.status, 'merged: the case of a duplicate record of the child',
                   jsonb_build_object('merged_case', gone, 'merged_child', OLD.id)
            FROM cases g, cases k WHERE g.id = gone AND k.id = keep;
            DELETE FROM cases WHERE id = gone;
        END IF;
        UPDATE cases SET child_id = survivor,
                         village_code = (SELECT village_code FROM children WHERE id = survivor)
        WHERE child_id = OLD.id;
        RETURN OLD;
    END $$
    """,
    """
    CREATE TRIGGER children_move_cases BEFORE DELETE ON children
    FOR EACH ROW EXECUTE FUNCTION move_cases_of_deleted_child()
    """,
]
DROP_OPEN_CASE_TRIGGER = [
    "DROP TRIGGER IF EXISTS children_move_cases ON children",
    "DROP FUNCTION IF EXISTS move_cases_of_deleted_child()",
    "DROP TRIGGER IF EXISTS children_open_case ON children",
    "DROP FUNCTION IF EXISTS open_case_for_out_of_school_child()",
]


def upgrade() -> None:
    op.create_table('notice_counters',
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_notice_counters'))
    )
    op.create_table('report_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('status', sa.String(length=10), server_default='queued', nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('queued', 'done', 'failed')", name=op.f('ck_report_exports_status')),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_report_exports_created_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_exports'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='identified', nullable=False),
    sa.Column('opened_from', sa.String(length=30), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('return_school_id', sa.Integer(), nullable=True),
    sa.Column('return_school_name', sa.String(length=100), nullable=True),
    sa.Column('return_date', sa.Date(), nullable=True),
    sa.Column('exemption_reason', sa.String(length=20), nullable=True),
    sa.Column('evidence', sa.String(length=71), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("exemption_reason is null or exemption_reason in ('illness', 'moved_away', 'deceased')", name=op.f('ck_cases_exemption_reason')),
    sa.CheckConstraint("status in ('identified', 'persuading', 'escalated', 'notice_issued', 'judicial', 'returned', 'exempted')", name=op.f('ck_cases_status')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_cases_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_cases_child_id_children')),
    sa.ForeignKeyConstraint(['return_school_id'], ['schools.id'], name=op.f('fk_cases_return_school_id_schools')),
    sa.ForeignKeyConstraint(['village_code'], ['villages.code'], name=op.f('fk_cases_village_code_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    op.create_index(op.f('ix_cases_child_id'), 'cases', ['child_id'], unique=False)
    op.create_index(op.f('ix_cases_due_on'), 'cases', ['due_on'], unique=False)
    op.create_index('ix_cases_status', 'cases', ['status'], unique=False)
    op.create_index(op.f('ix_cases_village_code'), 'cases', ['village_code'], unique=False)
    op.create_index('uq_cases_open_child', 'cases', ['child_id'], unique=True, postgresql_where=sa.text('closed_at is null'))
    op.create_table('case_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_case_events_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index(op.f('ix_case_events_case_id'), 'case_events', ['case_id'], unique=False)
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('number_text', sa.String(length=40), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='queued', nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('rendered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind in ('enroll', 'return', 'deadline', 'violation')", name=op.f('ck_notices_kind')),
    sa.CheckConstraint("status in ('queued', 'done', 'failed')", name=op.f('ck_notices_status')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notices_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_notices_created_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    op.create_index(op.f('ix_notices_case_id'), 'notices', ['case_id'], unique=False)
    op.create_index('uq_notices_year_number', 'notices', ['year', 'number'], unique=True)
    op.create_table('support_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('measures', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('responsible_name', sa.String(length=50), nullable=False),
    sa.Column('responsible_phone', sa.String(length=30), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_support_plans_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_support_plans_created_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_plans'))
    )
    op.create_index(op.f('ix_support_plans_case_id'), 'support_plans', ['case_id'], unique=False)
    for statement in OPEN_CASE_TRIGGER:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_OPEN_CASE_TRIGGER:
        op.execute(statement)
    op.drop_index(op.f('ix_support_plans_case_id'), table_name='support_plans')
    op.drop_table('support_plans')
    op.drop_index('uq_notices_year_number', table_name='notices')
    op.drop_index(op.f('ix_notices_case_id'), table_name='notices')
    op.drop_table('notices')
    op.drop_index(op.f('ix_case_events_case_id'), table_name='case_events')
    op.drop_table('case_events')
    op.drop_index('uq_cases_open_child', table_name='cases', postgresql_where=sa.text('closed_at is null'))
    op.drop_index(op.f('ix_cases_village_code'), table_name='cases')
    op.drop_index('ix_cases_status', table_name='cases')
    op.drop_index(op.f('ix_cases_due_on'), table_name='cases')
    op.drop_index(op.f('ix_cases_child_id'), table_name='cases')
    op.drop_table('cases')
    op.drop_table('report_exports')
    op.drop_table('notice_counters')
