"""advocacy: exercise verification and impact

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    # Campaigns can be archived: kept with their figures, no longer offered to learners.
    with op.batch_alter_table('advocacy_campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    # One person's events in a period (impact windows, exercise verification, timeline): the
    # composite index replaces the one on user_id alone, which it also serves.
    with op.batch_alter_table('advocacy_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advocacy_events_user_id'))
        batch_op.create_index('ix_advocacy_events_user_id_occurred_at',
                              ['user_id', 'occurred_at'], unique=False)


def downgrade():
    with op.batch_alter_table('advocacy_events', schema=None) as batch_op:
        batch_op.drop_index('ix_advocacy_events_user_id_occurred_at')
        batch_op.create_index(batch_op.f('ix_advocacy_events_user_id'), ['user_id'],
                              unique=False)
    with op.batch_alter_table('advocacy_campaigns', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
