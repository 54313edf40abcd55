"""impact: an organization's outcome values and training costs (the ROI's inputs)

Revision ID: 0027_impact
Revises: 0026_calendar
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027_impact'
down_revision = '0026_calendar'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'impact_settings',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False),
        sa.Column('outcome_values', sa.JSON(), nullable=False),
        sa.Column('trainer_day_rate', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('extra_trainer_days', sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column('learner_hourly_cost', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('tools_cost_per_learner', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_impact_settings_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_impact_settings')),
    )


def downgrade():
    op.drop_table('impact_settings')
