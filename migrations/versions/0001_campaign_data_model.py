"""The campaign's data model: places, schools, campaigns, households, children, accounts, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 05:05:15.024276
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostGIS is installed by scripts/setup.sh; creating it here keeps a fresh database usable.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('cutoff_month', sa.SmallInteger(), server_default='8', nullable=False),
    sa.Column('cutoff_day', sa.SmallInteger(), server_default='31', nullable=False),
    sa.Column('publicity_start', sa.Date(), nullable=False),
    sa.Column('survey_start', sa.Date(), nullable=False),
    sa.Column('persuasion_start', sa.Date(), nullable=False),
    sa.Column('enforcement_start', sa.Date(), nullable=False),
    sa.Column('enforcement_end', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='false', nullable=False),
    sa.CheckConstraint('cutoff_month between 1 and 12 and cutoff_day between 1 and 31', name=op.f('ck_campaigns_cutoff')),
    sa.CheckConstraint('publicity_start <= survey_start and survey_start <= persuasion_start and persuasion_start <= enforcement_start and enforcement_start <= enforcement_end', name=op.f('ck_campaigns_phases_in_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_index('uq_campaigns_one_active', 'campaigns', ['active'], unique=True, postgresql_where=sa.text('active'))
    op.create_table('towns',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=12), server_default='town', nullable=False),
    sa.CheckConstraint("code ~ '^\\d{12}$'", name=op.f('ck_towns_code_digits')),
    sa.CheckConstraint("kind in ('town', 'subdistrict', 'zone')", name=op.f('ck_towns_kind')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_towns'))
    )
    op.create_geospatial_table('schools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('town_code', sa.String(length=12), nullable=True),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint("stage in ('primary', 'junior', 'nine_year', 'special')", name=op.f('ck_schools_stage')),
    sa.ForeignKeyConstraint(['town_code'], ['towns.code'], name=op.f('fk_schools_town_code_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools')),
    sa.UniqueConstraint('code', name=op.f('uq_schools_code'))
    )
    op.create_index(op.f('ix_schools_town_code'), 'schools', ['town_code'], unique=False)
    op.create_geospatial_table('villages',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('town_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=12), server_default='village', nullable=False),
    sa.Column('boundary', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('centroid', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint("code ~ '^\\d{12}$'", name=op.f('ck_villages_code_digits')),
    sa.CheckConstraint("kind in ('village', 'community')", name=op.f('ck_villages_kind')),
    sa.ForeignKeyConstraint(['town_code'], ['towns.code'], name=op.f('fk_villages_town_code_towns')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_villages'))
    )
    op.create_geospatial_index('idx_villages_boundary', 'villages', ['boundary'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_villages_town_code'), 'villages', ['town_code'], unique=False)
    op.create_geospatial_table('households',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('group_name', sa.String(length=20), nullable=True),
    sa.Column('household_number', sa.String(length=30), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('head_name', sa.String(length=50), nullable=True),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('location_approximate', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('survey_status', sa.String(length=20), server_default='not_visited', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("survey_status in ('not_visited', 'visited', 'confirmed')", name=op.f('ck_households_survey_status')),
    sa.ForeignKeyConstraint(['village_code'], ['villages.code'], name=op.f('fk_households_village_code_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households'))
    )
    op.create_geospatial_index('idx_households_location', 'households', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_households_village_code', 'households', ['village_code'], unique=False)
    op.create_index('uq_households_village_number', 'households', ['village_code', 'household_number'], unique=True, postgresql_where='household_number is not null')
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('full_name', sa.String(length=50), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('line', sa.String(length=12), nullable=True),
    sa.Column('town_code', sa.String(length=12), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("line is null or line in ('government', 'school')", name=op.f('ck_people_line')),
    sa.CheckConstraint("role <> 'school' or school_id is not null", name=op.f('ck_people_school_account_school')),
    sa.CheckConstraint("role <> 'town_supervisor' or town_code is not null", name=op.f('ck_people_supervisor_town')),
    sa.CheckConstraint("role in ('city', 'town_supervisor', 'team_leader', 'surveyor', 'school')", name=op.f('ck_people_role')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_people_school_id_schools')),
    sa.ForeignKeyConstraint(['town_code'], ['towns.code'], name=op.f('fk_people_town_code_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('username', name=op.f('uq_people_username'))
    )
    op.create_index(op.f('ix_people_town_code'), 'people', ['town_code'], unique=False)
    op.create_table('access_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_access_tokens_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_access_tokens_token_hash'))
    )
    op.create_index('ix_access_tokens_person_id', 'access_tokens', ['person_id'], unique=False)
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('subject_type', sa.String(length=30), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_audit_events_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index('ix_audit_events_person_at', 'audit_events', ['person_id', 'at'], unique=False)
    op.create_index('ix_audit_events_subject', 'audit_events', ['subject_type', 'subject_id'], unique=False)
    op.create_table('children',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('gender', sa.String(length=1), nullable=False),
    sa.Column('id_number_cipher', sa.LargeBinary(), nullable=True),
    sa.Column('id_number_lookup', sa.LargeBinary(), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('ethnicity', sa.String(length=20), nullable=True),
    sa.Column('relation_to_head', sa.String(length=20), nullable=True),
    sa.Column('guardian_name', sa.String(length=50), nullable=True),
    sa.Column('guardian_phone', sa.String(length=30), nullable=True),
    sa.Column('disability', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('disability_type', sa.String(length=20), nullable=True),
    sa.Column('disability_level', sa.SmallInteger(), nullable=True),
    sa.Column('left_behind', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('migrant', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('vulnerable_family_types', sa.ARRAY(sa.String(length=30)), server_default='{}', nullable=False),
    sa.Column('enrollment_status', sa.String(length=30), server_default='suspected_out_of_school', nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('school_name', sa.String(length=100), nullable=True),
    sa.Column('grade', sa.SmallInteger(), nullable=True),
    sa.Column('class_name', sa.String(length=20), nullable=True),
    sa.Column('dropout_reason', sa.String(length=30), nullable=True),
    sa.Column('dropout_reason_note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("disability_type is null or disability_type in ('visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple')", name=op.f('ck_children_disability_type')),
    sa.CheckConstraint("dropout_reason is null or dropout_reason in ('weary_of_study', 'poverty', 'working', 'health_disability', 'family_crisis', 'early_marriage', 'other')", name=op.f('ck_children_dropout_reason')),
    sa.CheckConstraint("enrollment_status in ('enrolled_unconfirmed', 'enrolled', 'home_teaching', 'sick_deferral', 'moved_out', 'abroad', 'deceased', 'suspected_out_of_school', 'never_enrolled', 'dropped_out', 'suspended', 'transferred_out', 'not_school_age')", name=op.f('ck_children_enrollment_status')),
    sa.CheckConstraint("gender in ('M', 'F')", name=op.f('ck_children_gender')),
    sa.CheckConstraint("vulnerable_family_types <@ array['single_parent', 'poor', 'parent_disabled', 'parents_away', 'raised_by_relatives']::varchar[]", name=op.f('ck_children_vulnerable_family_types')),
    sa.CheckConstraint('disability_level is null or disability_level between 1 and 4', name=op.f('ck_children_disability_level')),
    sa.CheckConstraint('grade is null or grade between 1 and 12', name=op.f('ck_children_grade')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_children_household_id_households')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_children_school_id_schools')),
    sa.ForeignKeyConstraint(['village_code'], ['villages.code'], name=op.f('fk_children_village_code_villages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children'))
    )
    op.create_index(op.f('ix_children_household_id'), 'children', ['household_id'], unique=False)
    op.create_index(op.f('ix_children_id_number_lookup'), 'children', ['id_number_lookup'], unique=False)
    op.create_index(op.f('ix_children_school_id'), 'children', ['school_id'], unique=False)
    op.create_index(op.f('ix_children_village_code'), 'children', ['village_code'], unique=False)
    op.create_index('ix_children_village_status', 'children', ['village_code', 'enrollment_status'], unique=False)
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('town_code', sa.String(length=12), nullable=False),
    sa.Column('line', sa.String(length=12), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("line in ('government', 'school')", name=op.f('ck_teams_line')),
    sa.ForeignKeyConstraint(['leader_id'], ['people.id'], name=op.f('fk_teams_leader_id_people')),
    sa.ForeignKeyConstraint(['town_code'], ['towns.code'], name=op.f('fk_teams_town_code_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams'))
    )
    op.create_index(op.f('ix_teams_town_code'), 'teams', ['town_code'], unique=False)
    op.create_table('team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_team_members_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'person_id', name=op.f('pk_team_members'))
    )
    op.create_index(op.f('ix_team_members_person_id'), 'team_members', ['person_id'], unique=False)
    op.create_table('team_villages',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_villages_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_code'], ['villages.code'], name=op.f('fk_team_villages_village_code_villages')),
    sa.PrimaryKeyConstraint('team_id', 'village_code', name=op.f('pk_team_villages'))
    )
    op.create_index(op.f('ix_team_villages_village_code'), 'team_villages', ['village_code'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_team_villages_village_code'), table_name='team_villages')
    op.drop_table('team_villages')
    op.drop_index(op.f('ix_team_members_person_id'), table_name='team_members')
    op.drop_table('team_members')
    op.drop_index(op.f('ix_teams_town_code'), table_name='teams')
    op.drop_table('teams')
    op.drop_index('ix_children_village_status', table_name='children')
    op.drop_index(op.f('ix_children_village_code'), table_name='children')
    op.drop_index(op.f('ix_children_school_id'), table_name='children')
    op.drop_index(op.f('ix_children_id_number_lookup'), table_name='children')
    op.drop_index(op.f('ix_children_household_id'), table_name='children')
    op.drop_table('children')
    op.drop_index('ix_audit_events_subject', table_name='audit_events')
    op.drop_index('ix_audit_events_person_at', table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_index('ix_access_tokens_person_id', table_name='access_tokens')
    op.drop_table('access_tokens')
    op.drop_index(op.f('ix_people_town_code'), table_name='people')
    op.drop_table('people')
    op.drop_index('uq_households_village_number', table_name='households', postgresql_where='household_number is not null')
    op.drop_index('ix_households_village_code', table_name='households')
    op.drop_geospatial_index('idx_households_location', table_name='households', postgresql_using='gist', column_name='location')
    op.drop_geospatial_table('households')
    op.drop_index(op.f('ix_villages_town_code'), table_name='villages')
    op.drop_geospatial_index('idx_villages_boundary', table_name='villages', postgresql_using='gist', column_name='boundary')
    op.drop_geospatial_table('villages')
    op.drop_index(op.f('ix_schools_town_code'), table_name='schools')
    op.drop_geospatial_table('schools')
    op.drop_table('towns')
    op.drop_index('uq_campaigns_one_active', table_name='campaigns', postgresql_where=sa.text('active'))
    op.drop_table('campaigns')
