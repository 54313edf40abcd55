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


def downgrade():
    with op.batch_alter_table('advocacy_campaigns', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
