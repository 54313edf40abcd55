"""courses: on-the-job exercises, evidence submissions and AFEST

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('program_modules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exercise', sa.JSON(), nullable=True))

    op.create_table('exercise_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.String(length=36), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('post_url', sa.String(length=500), nullable=True),
    sa.Column('screenshot_path', sa.String(length=200), nullable=True),
    sa.Column('screenshot_type', sa.String(length=40), nullable=True),
    sa.Column('reflection', sa.Text(), nullable=True),
    sa.Column('verification', sa.JSON(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('statement_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_exercise_submissions_enrollment_id_enrollments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['program_modules.id'], name=op.f('fk_exercise_submissions_module_id_program_modules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_exercise_submissions_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_submissions')),
    sa.UniqueConstraint('enrollment_id', 'module_id', 'attempt', name=op.f('uq_exercise_submissions_enrollment_id_module_id_attempt'))
    )
    op.create_index(op.f('ix_exercise_submissions_enrollment_id'), 'exercise_submissions', ['enrollment_id'], unique=False)
    op.create_index(op.f('ix_exercise_submissions_module_id'), 'exercise_submissions', ['module_id'], unique=False)
    op.create_index('ix_exercise_submissions_organization_status', 'exercise_submissions', ['organization_id', 'status', 'submitted_at'], unique=False)
    op.create_table('exercise_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('rubric', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['memberships.id'], name=op.f('fk_exercise_reviews_reviewer_id_memberships'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submission_id'], ['exercise_submissions.id'], name=op.f('fk_exercise_reviews_submission_id_exercise_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_reviews'))
    )
    op.create_index(op.f('ix_exercise_reviews_submission_id'), 'exercise_reviews', ['submission_id'], unique=False)
    op.create_table('afest_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.String(length=36), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('tutor_id', sa.Integer(), nullable=True),
    sa.Column('analysis', sa.Text(), nullable=False),
    sa.Column('analysis_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_afest_plans_enrollment_id_enrollments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['program_modules.id'], name=op.f('fk_afest_plans_module_id_program_modules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_afest_plans_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tutor_id'], ['memberships.id'], name=op.f('fk_afest_plans_tutor_id_memberships'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_afest_plans')),
    sa.UniqueConstraint('enrollment_id', 'module_id', name=op.f('uq_afest_plans_enrollment_id_module_id'))
    )
    op.create_index(op.f('ix_afest_plans_enrollment_id'), 'afest_plans', ['enrollment_id'], unique=False)
    op.create_index(op.f('ix_afest_plans_module_id'), 'afest_plans', ['module_id'], unique=False)
    op.create_index(op.f('ix_afest_plans_organization_id'), 'afest_plans', ['organization_id'], unique=False)
    op.create_index(op.f('ix_afest_plans_tutor_id'), 'afest_plans', ['tutor_id'], unique=False)
    op.create_table('afest_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('statement_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['afest_plans.id'], name=op.f('fk_afest_entries_plan_id_afest_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_afest_entries_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_afest_entries'))
    )
    op.create_index(op.f('ix_afest_entries_plan_id'), 'afest_entries', ['plan_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_afest_entries_plan_id'), table_name='afest_entries')
    op.drop_table('afest_entries')
    op.drop_index(op.f('ix_afest_plans_tutor_id'), table_name='afest_plans')
    op.drop_index(op.f('ix_afest_plans_organization_id'), table_name='afest_plans')
    op.drop_index(op.f('ix_afest_plans_module_id'), table_name='afest_plans')
    op.drop_index(op.f('ix_afest_plans_enrollment_id'), table_name='afest_plans')
    op.drop_table('afest_plans')
    op.drop_index(op.f('ix_exercise_reviews_submission_id'), table_name='exercise_reviews')
    op.drop_table('exercise_reviews')
    op.drop_index('ix_exercise_submissions_organization_status', table_name='exercise_submissions')
    op.drop_index(op.f('ix_exercise_submissions_module_id'), table_name='exercise_submissions')
    op.drop_index(op.f('ix_exercise_submissions_enrollment_id'), table_name='exercise_submissions')
    op.drop_table('exercise_submissions')
    with op.batch_alter_table('program_modules', schema=None) as batch_op:
        batch_op.drop_column('exercise')
