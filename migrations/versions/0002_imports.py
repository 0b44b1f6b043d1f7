"""Imports: uploaded files and their problems, roster presence, history of changes,
register snapshots and suspected dropouts (学籍动态监控)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 05:14:52.857422
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='queued', nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('file_format', sa.String(length=8), nullable=True),
    sa.Column('encoding', sa.String(length=20), nullable=True),
    sa.Column('file_sha256', sa.LargeBinary(length=32), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('town_code', sa.String(length=12), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_ok', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows_bad', sa.Integer(), server_default='0', nullable=False),
    sa.Column('problems_preview', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('summary', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('error_code', sa.String(length=40), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('previous_import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind in ('roster', 'register')", name=op.f('ck_imports_kind')),
    sa.CheckConstraint("status in ('queued', 'running', 'done', 'failed')", name=op.f('ck_imports_status')),
    sa.ForeignKeyConstraint(['previous_import_id'], ['imports.id'], name=op.f('fk_imports_previous_import_id_imports')),
    sa.ForeignKeyConstraint(['town_code'], ['towns.code'], name=op.f('fk_imports_town_code_towns')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['people.id'], name=op.f('fk_imports_uploaded_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    op.create_index('ix_imports_kind_status', 'imports', ['kind', 'status'], unique=False)
    op.create_table('import_files',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_files_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', name=op.f('pk_import_files'))
    )
    op.create_table('import_problems',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('column', sa.String(length=30), nullable=True),
    sa.Column('header', sa.String(length=100), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_problems_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_problems'))
    )
    op.create_index('ix_import_problems_import_line', 'import_problems', ['import_id', 'line'], unique=False)
    op.create_table('record_changes',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('record_type', sa.String(length=12), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.CheckConstraint("record_type in ('child', 'household')", name=op.f('ck_record_changes_record_type')),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_record_changes_import_id_imports'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_changes'))
    )
    op.create_index(op.f('ix_record_changes_import_id'), 'record_changes', ['import_id'], unique=False)
    op.create_index('ix_record_changes_record', 'record_changes', ['record_type', 'record_id', 'id'], unique=False)
    op.create_table('register_students',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('id_number_lookup', sa.LargeBinary(), nullable=False),
    sa.Column('id_number_cipher', sa.LargeBinary(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('gender', sa.String(length=1), nullable=False),
    sa.Column('student_number', sa.String(length=30), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('school_code', sa.String(length=10), nullable=True),
    sa.Column('school_name', sa.String(length=100), nullable=True),
    sa.Column('grade', sa.SmallInteger(), nullable=False),
    sa.Column('class_name', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint("gender in ('M', 'F')", name=op.f('ck_register_students_gender')),
    sa.CheckConstraint("status in ('attending', 'suspended', 'transferred_out', 'graduated', 'dropped_out', 'deceased')", name=op.f('ck_register_students_status')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_register_students_child_id_children'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_register_students_import_id_imports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_register_students_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_students'))
    )
    op.create_index('ix_register_students_child_id', 'register_students', ['child_id'], unique=False)
    op.create_index('ix_register_students_import_lookup', 'register_students', ['import_id', 'id_number_lookup'], unique=False)
    op.create_table('roster_entries',
    sa.Column('child_id', sa.Uuid(), nullable=False),
    sa.Column('first_import_id', sa.Integer(), nullable=False),
    sa.Column('last_import_id', sa.Integer(), nullable=False),
    sa.Column('last_line', sa.Integer(), nullable=False),
    sa.Column('missing_since_import_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_roster_entries_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['missing_since_import_id'], ['imports.id'], name=op.f('fk_roster_entries_missing_since_import_id_imports')),
    sa.PrimaryKeyConstraint('child_id', name=op.f('pk_roster_entries'))
    )
    op.create_index(op.f('ix_roster_entries_last_import_id'), 'roster_entries', ['last_import_id'], unique=False)
    op.create_index(op.f('ix_roster_entries_missing_since_import_id'), 'roster_entries', ['missing_since_import_id'], unique=False)
    op.create_table('suspected_dropouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('register_import_id', sa.Integer(), nullable=False),
    sa.Column('previous_import_id', sa.Integer(), nullable=False),
    sa.Column('detected_on', sa.Date(), nullable=False),
    sa.Column('id_number_lookup', sa.LargeBinary(), nullable=False),
    sa.Column('id_number_cipher', sa.LargeBinary(), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=True),
    sa.Column('village_code', sa.String(length=12), nullable=True),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('gender', sa.String(length=1), nullable=False),
    sa.Column('student_number', sa.String(length=30), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('school_name', sa.String(length=100), nullable=True),
    sa.Column('grade', sa.SmallInteger(), nullable=False),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind in ('left_register', 'transferred_out_not_received', 'not_handed_over')", name=op.f('ck_suspected_dropouts_kind')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_suspected_dropouts_child_id_children'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['previous_import_id'], ['imports.id'], name=op.f('fk_suspected_dropouts_previous_import_id_imports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['register_import_id'], ['imports.id'], name=op.f('fk_suspected_dropouts_register_import_id_imports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_suspected_dropouts_school_id_schools')),
    sa.ForeignKeyConstraint(['village_code'], ['villages.code'], name=op.f('fk_suspected_dropouts_village_code_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suspected_dropouts'))
    )
    op.create_index('ix_suspected_dropouts_detected_on', 'suspected_dropouts', ['detected_on'], unique=False)
    op.create_index(op.f('ix_suspected_dropouts_village_code'), 'suspected_dropouts', ['village_code'], unique=False)
    op.create_index('uq_suspected_dropouts_signal', 'suspected_dropouts', ['register_import_id', 'id_number_lookup', 'kind'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_suspected_dropouts_signal', table_name='suspected_dropouts')
    op.drop_index(op.f('ix_suspected_dropouts_village_code'), table_name='suspected_dropouts')
    op.drop_index('ix_suspected_dropouts_detected_on', table_name='suspected_dropouts')
    op.drop_table('suspected_dropouts')
    op.drop_index(op.f('ix_roster_entries_missing_since_import_id'), table_name='roster_entries')
    op.drop_index(op.f('ix_roster_entries_last_import_id'), table_name='roster_entries')
    op.drop_table('roster_entries')
    op.drop_index('ix_register_students_import_lookup', table_name='register_students')
    op.drop_index('ix_register_students_child_id', table_name='register_students')
    op.drop_table('register_students')
    op.drop_index('ix_record_changes_record', table_name='record_changes')
    op.drop_index(op.f('ix_record_changes_import_id'), table_name='record_changes')
    op.drop_table('record_changes')
    op.drop_index('ix_import_problems_import_line', table_name='import_problems')
    op.drop_table('import_problems')
    op.drop_table('import_files')
    op.drop_index('ix_imports_kind_status', table_name='imports')
    op.drop_table('imports')
