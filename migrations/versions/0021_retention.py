"""privacy: per-organization retention periods

Revision ID: 0021_retention
Revises: 0020_hardening
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_retention'
down_revision = '0025_lti'
branch_labels = None
depends_on = None


def upgrade():
    # One row per organization that changed a period; a NULL period is the instance default.
    op.create_table(
        'privacy_retention',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('advocacy_events_months', sa.Integer(), nullable=True),
        sa.Column('statements_months', sa.Integer(), nullable=True),
        sa.Column('hand_ins_months', sa.Integer(), nullable=True),
        sa.Column('coaching_notes_months', sa.Integer(), nullable=True),
        sa.Column('certificates_months', sa.Integer(), nullable=True),
        sa.Column('audit_months', sa.Integer(), nullable=True),
        sa.Column('jobs_days', sa.Integer(), nullable=True),
        sa.Column('statements_done_pk', sa.Integer(), server_default=sa.text('0'),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_privacy_retention_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_privacy_retention')),
    )


def downgrade():
    op.drop_table('privacy_retention')
