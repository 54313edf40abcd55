"""surveys: unscored surveys, rules on programs, invitations, anonymous answers; the
"named in internal results" opt-in on users

Revision ID: 0029_surveys
Revises: 0028_champions
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029_surveys'
down_revision = '0028_champions'
branch_labels = None
depends_on = None


def _fk(table, column, target, ondelete='CASCADE'):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                   name=op.f(f'fk_{table}_{column}_{target}'), ondelete=ondelete)


def upgrade():
    op.create_table(
        'surveys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('anonymous', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('title', sa.JSON(), nullable=False),
        sa.Column('description', sa.JSON(), nullable=True),
        sa.Column('items', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _fk('surveys', 'organization_id', 'organizations'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
        sa.UniqueConstraint('organization_id', 'key', name=op.f('uq_surveys_organization_id_key')),
    )
    op.create_index(op.f('ix_surveys_organization_id'), 'surveys', ['organization_id'])
    op.create_table(
        'survey_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('trigger', sa.String(length=20), nullable=False),
        sa.Column('module_id', sa.Integer(), nullable=True),
        sa.Column('days', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _fk('survey_rules', 'organization_id', 'organizations'),
        _fk('survey_rules', 'program_id', 'programs'),
        _fk('survey_rules', 'survey_id', 'surveys'),
        _fk('survey_rules', 'module_id', 'program_modules'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_rules')),
    )
    for column in ('organization_id', 'program_id', 'survey_id', 'module_id'):
        op.create_index(op.f(f'ix_survey_rules_{column}'), 'survey_rules', [column])
    op.create_table(
        'survey_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('occasion', sa.String(length=64), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('module_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        _fk('survey_invitations', 'organization_id', 'organizations'),
        _fk('survey_invitations', 'rule_id', 'survey_rules'),
        _fk('survey_invitations', 'survey_id', 'surveys'),
        _fk('survey_invitations', 'membership_id', 'memberships'),
        _fk('survey_invitations', 'cohort_id', 'cohorts'),
        _fk('survey_invitations', 'session_id', 'training_sessions', 'SET NULL'),
        _fk('survey_invitations', 'module_id', 'program_modules', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
        sa.UniqueConstraint('rule_id', 'membership_id', 'occasion',
                            name=op.f('uq_survey_invitations_rule_id_membership_id_occasion')),
    )
    for column in ('organization_id', 'rule_id', 'survey_id', 'membership_id', 'cohort_id'):
        op.create_index(op.f(f'ix_survey_invitations_{column}'), 'survey_invitations', [column])
    op.create_table(
        'survey_responses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('module_id', sa.Integer(), nullable=True),
        sa.Column('membership_id', sa.Integer(), nullable=True),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('answered_on', sa.Date(), nullable=False),
        _fk('survey_responses', 'organization_id', 'organizations'),
        _fk('survey_responses', 'survey_id', 'surveys'),
        _fk('survey_responses', 'program_id', 'programs'),
        _fk('survey_responses', 'cohort_id', 'cohorts'),
        _fk('survey_responses', 'module_id', 'program_modules', 'SET NULL'),
        _fk('survey_responses', 'membership_id', 'memberships'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    )
    for column in ('organization_id', 'survey_id', 'program_id', 'cohort_id', 'membership_id'):
        op.create_index(op.f(f'ix_survey_responses_{column}'), 'survey_responses', [column])
    # NOT NULL on existing rows: added with a server default (off: nobody is named unasked).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('named_in_results', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('named_in_results')
    op.drop_table('survey_responses')
    op.drop_table('survey_invitations')
    op.drop_table('survey_rules')
    op.drop_table('surveys')
