"""skill mapping: competencies, questionnaires, attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('skill_frameworks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('format_version', sa.Integer(), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skill_frameworks')),
    sa.UniqueConstraint('key', name=op.f('uq_skill_frameworks_key'))
    )
    op.create_table('competencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('description', sa.JSON(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('digcomp', sa.JSON(), nullable=False),
    sa.Column('ssi', sa.String(length=16), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('advice', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['skill_frameworks.id'], name=op.f('fk_competencies_framework_id_skill_frameworks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competencies')),
    sa.UniqueConstraint('framework_id', 'code', name=op.f('uq_competencies_framework_id_code'))
    )
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competencies_framework_id'), ['framework_id'], unique=False)

    op.create_table('target_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('job_family', sa.String(length=64), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['skill_frameworks.id'], name=op.f('fk_target_profiles_framework_id_skill_frameworks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_target_profiles')),
    sa.UniqueConstraint('framework_id', 'job_family', name=op.f('uq_target_profiles_framework_id_job_family'))
    )
    with op.batch_alter_table('target_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_profiles_framework_id'), ['framework_id'], unique=False)

    op.create_table('questionnaires',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('format_version', sa.Integer(), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('description', sa.JSON(), nullable=True),
    sa.Column('published', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['skill_frameworks.id'], name=op.f('fk_questionnaires_framework_id_skill_frameworks')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_questionnaires_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaires')),
    sa.UniqueConstraint('organization_id', 'key', name=op.f('uq_questionnaires_organization_id_key'))
    )
    with op.batch_alter_table('questionnaires', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaires_framework_id'), ['framework_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_questionnaires_organization_id'), ['organization_id'], unique=False)

    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('competency', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('text', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('feedback', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_questions_questionnaire_id_questionnaires'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions')),
    sa.UniqueConstraint('questionnaire_id', 'key', name=op.f('uq_questions_questionnaire_id_key'))
    )
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questions_questionnaire_id'), ['questionnaire_id'], unique=False)

    op.create_table('skill_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=True),
    sa.Column('declared', sa.JSON(), nullable=True),
    sa.Column('job_family', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('draft_key', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_skill_attempts_membership_id_memberships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_skill_attempts_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaires.id'], name=op.f('fk_skill_attempts_questionnaire_id_questionnaires')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_skill_attempts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skill_attempts')),
    sa.UniqueConstraint('draft_key', name=op.f('uq_skill_attempts_draft_key')),
    sa.UniqueConstraint('uuid', name=op.f('uq_skill_attempts_uuid'))
    )
    with op.batch_alter_table('skill_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_skill_attempts_membership_id_status', ['membership_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_skill_attempts_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_skill_attempts_questionnaire_id'), ['questionnaire_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_skill_attempts_user_id'), ['user_id'], unique=False)

    op.create_table('skill_validations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('competency', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('validated_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['skill_attempts.id'], name=op.f('fk_skill_validations_attempt_id_skill_attempts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_skill_validations_membership_id_memberships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_skill_validations_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['validated_by_id'], ['users.id'], name=op.f('fk_skill_validations_validated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skill_validations'))
    )
    with op.batch_alter_table('skill_validations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skill_validations_membership_id'), ['membership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_skill_validations_organization_id'), ['organization_id'], unique=False)

    op.create_table('skill_levels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('competency', sa.String(length=16), nullable=False),
    sa.Column('measured', sa.Integer(), nullable=False),
    sa.Column('shown', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['skill_attempts.id'], name=op.f('fk_skill_levels_attempt_id_skill_attempts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_skill_levels_membership_id_memberships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_skill_levels_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skill_levels')),
    sa.UniqueConstraint('membership_id', 'competency', name=op.f('uq_skill_levels_membership_id_competency'))
    )
    with op.batch_alter_table('skill_levels', schema=None) as batch_op:
        batch_op.create_index('ix_skill_levels_organization_id_competency', ['organization_id', 'competency'], unique=False)
        batch_op.create_index(batch_op.f('ix_skill_levels_attempt_id'), ['attempt_id'], unique=False)


def downgrade():
    with op.batch_alter_table('skill_levels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skill_levels_attempt_id'))
        batch_op.drop_index('ix_skill_levels_organization_id_competency')
    op.drop_table('skill_levels')
    with op.batch_alter_table('skill_validations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skill_validations_organization_id'))
        batch_op.drop_index(batch_op.f('ix_skill_validations_membership_id'))
    op.drop_table('skill_validations')
    with op.batch_alter_table('skill_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skill_attempts_user_id'))
        batch_op.drop_index(batch_op.f('ix_skill_attempts_questionnaire_id'))
        batch_op.drop_index(batch_op.f('ix_skill_attempts_organization_id'))
        batch_op.drop_index('ix_skill_attempts_membership_id_status')
    op.drop_table('skill_attempts')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_questionnaire_id'))
    op.drop_table('questions')
    with op.batch_alter_table('questionnaires', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaires_organization_id'))
        batch_op.drop_index(batch_op.f('ix_questionnaires_framework_id'))
    op.drop_table('questionnaires')
    with op.batch_alter_table('target_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_profiles_framework_id'))
    op.drop_table('target_profiles')
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competencies_framework_id'))
    op.drop_table('competencies')
    op.drop_table('skill_frameworks')
