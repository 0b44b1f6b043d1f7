"""Maps: tasks (visit lists), synced to tablets read-only, closed when a survey or visit arrives

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Tasks are synced records like households: the same three triggers of 0003 give them versions,
# history and a commit-ordered change log, so they reach tablets by village with no new code path.
SYNC_TRIGGERS = [
    "CREATE TRIGGER tasks_bump_version BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION bump_record_version()",
    "CREATE TRIGGER tasks_keep_version_insert AFTER INSERT ON tasks "
    "FOR EACH ROW EXECUTE FUNCTION keep_record_version('task')",
    "CREATE TRIGGER tasks_keep_version_update AFTER UPDATE ON tasks "
    "FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION keep_record_version('task')",
    "CREATE CONSTRAINT TRIGGER tasks_log_insert AFTER INSERT ON tasks "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_record_change('task')",
    "CREATE CONSTRAINT TRIGGER tasks_log_update AFTER UPDATE ON tasks DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
    "WHEN (OLD.version IS DISTINCT FROM NEW.version OR OLD.village_code IS DISTINCT FROM NEW.village_code) "
    "EXECUTE FUNCTION log_record_change('task')",
    "CREATE CONSTRAINT TRIGGER tasks_log_delete AFTER DELETE ON tasks "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_record_change('task')",
    # A household's open tasks are done when an accepted household survey (of the household or
    # one of its children) or a visit for it is stored: whichever path stores submissions, in the
    # same transaction, with no extra step in the push code.
    """
    CREATE FUNCTION close_tasks_of_submission() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        hid uuid;
    BEGIN
        IF NEW.receipt->>'status' = 'rejected' THEN
            RETURN NULL;
        END IF;
        IF NEW.record_type = 'visit' OR NEW.payload->>'form_id' = 'household_survey' THEN
            hid := CASE WHEN NEW.record_type = 'household' THEN NEW.record_id
                        ELSE (NEW.payload->'record'->>'household_id')::uuid END;
            IF hid IS NULL AND NEW.record_type = 'visit' THEN
                SELECT v.household_id INTO hid FROM visits v WHERE v.id = NEW.record_id;
            END IF;
            UPDATE tasks SET status = 'done' WHERE household_id = hid AND status = 'open';
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER submissions_close_tasks AFTER INSERT ON submissions "
    "FOR EACH ROW EXECUTE FUNCTION close_tasks_of_submission()",
]

DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS submissions_close_tasks ON submissions",
    "DROP FUNCTION IF EXISTS close_tasks_of_submission()",
] + [f"DROP TRIGGER IF EXISTS tasks_{name} ON tasks"
     for name in ("bump_version", "keep_version_insert", "keep_version_update", "log_insert", "log_update",
                  "log_delete")]


def upgrade() -> None:
    op.create_table('tasks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('route_order', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='open', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("priority between 1 and 3", name=op.f('ck_tasks_priority')),
    sa.CheckConstraint("status in ('open', 'done')", name=op.f('ck_tasks_status')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_tasks_household_id_households'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_tasks_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_code'], ['villages.code'], name=op.f('fk_tasks_village_code_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_index('ix_tasks_village_code', 'tasks', ['village_code'], unique=False)
    op.create_index('uq_tasks_team_household', 'tasks', ['team_id', 'household_id'], unique=True)
    op.create_index('ix_tasks_household_open', 'tasks', ['household_id'], unique=False,
                    postgresql_where=sa.text("status = 'open'"))
    for statement in SYNC_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS:
        op.execute(statement)
    op.execute("DELETE FROM change_log WHERE record_type = 'task'")
    op.execute("DELETE FROM record_versions WHERE record_type = 'task'")
    op.drop_index('ix_tasks_household_open', table_name='tasks')
    op.drop_index('uq_tasks_team_household', table_name='tasks')
    op.drop_index('ix_tasks_village_code', table_name='tasks')
    op.drop_table('tasks')
