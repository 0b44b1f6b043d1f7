"""Sync: devices, forms, visits, submissions, conflicts, change log and history (by triggers)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:19:24.615169
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


SYNCED_TABLES = {"households": "household", "children": "child", "visits": "visit"}

# Every write to a synced record, by any path (sync, imports, supervisors, a psql session),
# gets three things from the database itself rather than from each writer's discipline:
#  1. its version bumped (and updated_at) when the row really changed;
#  2. the new version kept in record_versions: the base a later device edit merges against;
#  3. a change_log entry numbered AT COMMIT under one advisory lock, so that change seq order
#     is commit order. A pull that has read up to seq N has then seen every change committed
#     before N, even when pushes commit concurrently (contract guarantee 2); and taking the
#     lock at commit rather than at the first write keeps the serialised part short.
TRIGGERS = [
    "CREATE SEQUENCE change_seq AS bigint",
    """
    CREATE FUNCTION bump_record_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
            IF NEW.version = OLD.version THEN
                NEW.version := OLD.version + 1;
            END IF;
            IF NEW.updated_at = OLD.updated_at THEN
                NEW.updated_at := clock_timestamp();
            END IF;
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE FUNCTION keep_record_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO record_versions (record_type, record_id, version, row, written_at)
        VALUES (TG_ARGV[0], NEW.id, NEW.version, to_jsonb(NEW), clock_timestamp())
        ON CONFLICT (record_type, record_id, version)
        DO UPDATE SET row = EXCLUDED.row, written_at = EXCLUDED.written_at;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION log_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        rtype text := TG_ARGV[0];
    BEGIN
        PERFORM pg_advisory_xact_lock(73010001);
        IF TG_OP = 'DELETE' THEN
            INSERT INTO change_log (record_type, record_id, village_code, seq, op, merged_into)
            VALUES (rtype, OLD.id, OLD.village_code, nextval('change_seq'), 'delete',
                    (SELECT t.merged_into FROM tombstones t
                      WHERE t.record_type = rtype AND t.record_id = OLD.id))
            ON CONFLICT (record_type, record_id, village_code) DO UPDATE
                SET seq = EXCLUDED.seq, op = EXCLUDED.op, merged_into = EXCLUDED.merged_into;
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.village_code IS DISTINCT FROM NEW.village_code THEN
            -- the exit is numbered before the upsert: a device holding both villages ends
            -- with the record
            INSERT INTO change_log (record_type, record_id, village_code, seq, op, merged_into)
            VALUES (rtype, OLD.id, OLD.village_code, nextval('change_seq'), 'exit', NULL)
            ON CONFLICT (record_type, record_id, village_code) DO UPDATE
                SET seq = EXCLUDED.seq, op = EXCLUDED.op, merged_into = NULL;
        END IF;
        INSERT INTO change_log (record_type, record_id, village_code, seq, op, merged_into)
        VALUES (rtype, NEW.id, NEW.village_code, nextval('change_seq'), 'upsert', NULL)
        ON CONFLICT (record_type, record_id, village_code) DO UPDATE
            SET seq = EXCLUDED.seq, op = EXCLUDED.op, merged_into = NULL;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION follow_household_village() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- a household that moves village takes its children and their visits along
        UPDATE children SET village_code = NEW.village_code
         WHERE household_id = NEW.id AND village_code IS DISTINCT FROM NEW.village_code;
        UPDATE visits SET village_code = NEW.village_code
         WHERE household_id = NEW.id AND village_code IS DISTINCT FROM NEW.village_code;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER households_follow_village AFTER UPDATE OF village_code ON households
    FOR EACH ROW WHEN (OLD.village_code IS DISTINCT FROM NEW.village_code)
    EXECUTE FUNCTION follow_household_village()
    """,
] + [
    statement
    for table, rtype in SYNCED_TABLES.items()
    for statement in (
        f"CREATE TRIGGER {table}_bump_version BEFORE UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION bump_record_version()",
        f"CREATE TRIGGER {table}_keep_version_insert AFTER INSERT ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION keep_record_version('{rtype}')",
        f"CREATE TRIGGER {table}_keep_version_update AFTER UPDATE ON {table} "
        f"FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version) "
        f"EXECUTE FUNCTION keep_record_version('{rtype}')",
        f"CREATE CONSTRAINT TRIGGER {table}_log_insert AFTER INSERT ON {table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_record_change('{rtype}')",
        f"CREATE CONSTRAINT TRIGGER {table}_log_update AFTER UPDATE ON {table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        f"WHEN (OLD.version IS DISTINCT FROM NEW.version OR OLD.village_code IS DISTINCT FROM NEW.village_code) "
        f"EXECUTE FUNCTION log_record_change('{rtype}')",
        f"CREATE CONSTRAINT TRIGGER {table}_log_delete AFTER DELETE ON {table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_record_change('{rtype}')",
    )
]

# Records that existed before this revision enter the log and the history once.
BACKFILL = [
    statement
    for table, rtype in SYNCED_TABLES.items()
    if table != "visits"
    for statement in (
        f"INSERT INTO change_log (record_type, record_id, village_code, seq, op) "
        f"SELECT '{rtype}', id, village_code, nextval('change_seq'), 'upsert' FROM {table} ORDER BY village_code, id",
        f"INSERT INTO record_versions (record_type, record_id, version, row) "
        f"SELECT '{rtype}', id, version, to_jsonb(t) FROM {table} t",
    )
]

DROP_TRIGGERS = [
    f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
    for table in SYNCED_TABLES
    for name in ("bump_version", "keep_version_insert", "keep_version_update", "log_insert", "log_update",
                 "log_delete")
] + [
    "DROP TRIGGER IF EXISTS households_follow_village ON households",
    "DROP FUNCTION IF EXISTS follow_household_village()",
    "DROP FUNCTION IF EXISTS log_record_change()",
    "DROP FUNCTION IF EXISTS keep_record_version()",
    "DROP FUNCTION IF EXISTS bump_record_version()",
    "DROP SEQUENCE IF EXISTS change_seq",
]


def upgrade() -> None:
    op.create_table('change_log',
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('op', sa.String(length=10), nullable=False),
    sa.Column('merged_into', sa.Uuid(), nullable=True),
    sa.CheckConstraint("op in ('upsert', 'exit', 'delete')", name=op.f('ck_change_log_op')),
    sa.PrimaryKeyConstraint('record_type', 'record_id', 'village_code', name=op.f('pk_change_log')),
    sa.UniqueConstraint('seq', name=op.f('uq_change_log_seq'))
    )
    op.create_index('ix_change_log_village_seq', 'change_log', ['village_code', 'seq'], unique=False)
    op.create_table('field_states',
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('states', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.PrimaryKeyConstraint('record_type', 'record_id', name=op.f('pk_field_states'))
    )
    op.create_table('record_versions',
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('row', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('record_type', 'record_id', 'version', name=op.f('pk_record_versions'))
    )
    op.create_table('campaign_forms',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_forms_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'form_id', name=op.f('pk_campaign_forms'))
    )
    op.create_table('conflicts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('values', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolution', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.CheckConstraint("status in ('open', 'resolved')", name=op.f('ck_conflicts_status')),
    sa.ForeignKeyConstraint(['resolved_by'], ['people.id'], name=op.f('fk_conflicts_resolved_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflicts'))
    )
    op.create_index('ix_conflicts_record', 'conflicts', ['record_type', 'record_id'], unique=False)
    op.create_index('ix_conflicts_village_status', 'conflicts', ['village_code', 'status'], unique=False)
    op.create_index('uq_conflicts_open_field', 'conflicts', ['record_type', 'record_id', 'field'], unique=True, postgresql_where="status = 'open'")
    op.create_table('devices',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('platform', sa.String(length=50), nullable=True),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_devices_person_id_people')),
    sa.ForeignKeyConstraint(['revoked_by'], ['people.id'], name=op.f('fk_devices_revoked_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_devices_token_hash'))
    )
    op.create_index(op.f('ix_devices_person_id'), 'devices', ['person_id'], unique=False)
    op.create_table('duplicate_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_a', sa.Uuid(), nullable=False),
    sa.Column('child_b', sa.Uuid(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.CheckConstraint("status in ('open', 'resolved')", name=op.f('ck_duplicate_candidates_status')),
    sa.CheckConstraint('child_a < child_b', name=op.f('ck_duplicate_candidates_ordered_pair')),
    sa.ForeignKeyConstraint(['resolved_by'], ['people.id'], name=op.f('fk_duplicate_candidates_resolved_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_candidates'))
    )
    op.create_index(op.f('ix_duplicate_candidates_village_code'), 'duplicate_candidates', ['village_code'], unique=False)
    op.create_index('uq_duplicate_candidates_pair', 'duplicate_candidates', ['child_a', 'child_b'], unique=True)
    op.create_table('form_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('compiled', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('xform', sa.Text(), nullable=False),
    sa.Column('xlsform', sa.LargeBinary(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['published_by'], ['people.id'], name=op.f('fk_form_versions_published_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_versions')),
    sa.UniqueConstraint('form_id', 'version', name='uq_form_versions_form_version')
    )
    op.create_table('tombstones',
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('merged_into', sa.Uuid(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['deleted_by'], ['people.id'], name=op.f('fk_tombstones_deleted_by_people')),
    sa.PrimaryKeyConstraint('record_type', 'record_id', name=op.f('pk_tombstones'))
    )
    op.create_table('attachments',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_attachments_device_id_devices')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_attachments'))
    )
    op.create_table('enrollment_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_enrollment_codes_device_id_devices')),
    sa.ForeignKeyConstraint(['issued_by'], ['people.id'], name=op.f('fk_enrollment_codes_issued_by_people')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_enrollment_codes_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_enrollment_codes_code_hash'))
    )
    op.create_index('ix_enrollment_codes_person_id', 'enrollment_codes', ['person_id'], unique=False)
    op.create_table('submissions',
    sa.Column('submission_id', sa.Uuid(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('device_seq', sa.BigInteger(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('receipt', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_submissions_device_id_devices')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_submissions_person_id_people')),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_submissions'))
    )
    op.create_index('ix_submissions_device_seq', 'submissions', ['device_id', 'device_seq'], unique=False)
    op.create_index('ix_submissions_record', 'submissions', ['record_type', 'record_id'], unique=False)
    op.create_table('visits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('visit_date', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('next_step', sa.String(length=30), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('visitors', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('answers', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_visits_child_id_children')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_visits_device_id_devices')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_visits_household_id_households')),
    sa.ForeignKeyConstraint(['village_code'], ['villages.code'], name=op.f('fk_visits_village_code_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    op.create_index(op.f('ix_visits_child_id'), 'visits', ['child_id'], unique=False)
    op.create_index('ix_visits_village_code', 'visits', ['village_code'], unique=False)
    op.add_column('children', sa.Column('certificate_photo', sa.String(length=71), nullable=True))
    op.add_column('households', sa.Column('location_accuracy_m', sa.Double(), nullable=True))
    op.add_column('households', sa.Column('vulnerable_family_types', sa.ARRAY(sa.String(length=30)), server_default='{}', nullable=False))
    op.add_column('households', sa.Column('notes', sa.Text(), nullable=True))
    for statement in TRIGGERS:
        op.execute(statement)
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_TRIGGERS:
        op.execute(statement)
    op.drop_column('households', 'notes')
    op.drop_column('households', 'vulnerable_family_types')
    op.drop_column('households', 'location_accuracy_m')
    op.drop_column('children', 'certificate_photo')
    op.drop_index('ix_visits_village_code', table_name='visits')
    op.drop_index(op.f('ix_visits_child_id'), table_name='visits')
    op.drop_table('visits')
    op.drop_index('ix_submissions_record', table_name='submissions')
    op.drop_index('ix_submissions_device_seq', table_name='submissions')
    op.drop_table('submissions')
    op.drop_index('ix_enrollment_codes_person_id', table_name='enrollment_codes')
    op.drop_table('enrollment_codes')
    op.drop_table('attachments')
    op.drop_table('tombstones')
    op.drop_table('form_versions')
    op.drop_index('uq_duplicate_candidates_pair', table_name='duplicate_candidates')
    op.drop_index(op.f('ix_duplicate_candidates_village_code'), table_name='duplicate_candidates')
    op.drop_table('duplicate_candidates')
    op.drop_index(op.f('ix_devices_person_id'), table_name='devices')
    op.drop_table('devices')
    op.drop_index('uq_conflicts_open_field', table_name='conflicts', postgresql_where="status = 'open'")
    op.drop_index('ix_conflicts_village_status', table_name='conflicts')
    op.drop_index('ix_conflicts_record', table_name='conflicts')
    op.drop_table('conflicts')
    op.drop_table('campaign_forms')
    op.drop_table('record_versions')
    op.drop_table('field_states')
    op.drop_index('ix_change_log_village_seq', table_name='change_log')
    op.drop_table('change_log')
