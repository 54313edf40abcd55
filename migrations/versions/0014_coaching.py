"""coaching: coaching plans, follow-ups and action items

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('program_modules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coaching', sa.JSON(), nullable=True))
    op.create_table(
        'coaching_followups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('enrollment_id', sa.String(length=36), nullable=False),
        sa.Column('module_id', sa.Integer(), nullable=False),
        sa.Column('coach_id', sa.Integer(), nullable=True),
        sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('place', sa.String(length=300), nullable=True),
        sa.Column('video_link', sa.String(length=500), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('held_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('next_followup_on', sa.Date(), nullable=True),
        sa.Column('statement_id', sa.String(length=36), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['coach_id'], ['memberships.id'],
                                name=op.f('fk_coaching_followups_coach_id_memberships'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'],
                                name=op.f('fk_coaching_followups_enrollment_id_enrollments'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['module_id'], ['program_modules.id'],
                                name=op.f('fk_coaching_followups_module_id_program_modules'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_coaching_followups_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_followups')),
    )
    with op.batch_alter_table('coaching_followups', schema=None) as batch_op:
        batch_op.create_index('ix_coaching_followups_organization_id_status_scheduled_at',
                              ['organization_id', 'status', 'scheduled_at'], unique=False)
        for column in ('coach_id', 'enrollment_id', 'module_id', 'organization_id'):
            batch_op.create_index(batch_op.f(f'ix_coaching_followups_{column}'), [column],
                                  unique=False)
    op.create_table(
        'coaching_action_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('followup_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('completed_by_id', sa.Integer(), nullable=True),
        sa.Column('statement_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'],
                                name=op.f('fk_coaching_action_items_completed_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(
            ['followup_id'], ['coaching_followups.id'],
            name=op.f('fk_coaching_action_items_followup_id_coaching_followups'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_action_items')),
    )
    with op.batch_alter_table('coaching_action_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_action_items_followup_id'),
                              ['followup_id'], unique=False)


def downgrade():
    with op.batch_alter_table('coaching_action_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coaching_action_items_followup_id'))
    op.drop_table('coaching_action_items')
    with op.batch_alter_table('coaching_followups', schema=None) as batch_op:
        for column in ('organization_id', 'module_id', 'enrollment_id', 'coach_id'):
            batch_op.drop_index(batch_op.f(f'ix_coaching_followups_{column}'))
        batch_op.drop_index('ix_coaching_followups_organization_id_status_scheduled_at')
    op.drop_table('coaching_followups')
    with op.batch_alter_table('program_modules', schema=None) as batch_op:
        batch_op.drop_column('coaching')
