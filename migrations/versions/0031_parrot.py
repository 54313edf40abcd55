"""parrot: advocacy event texts, and the organization's activity rule for recertification

Revision ID: 0031_parrot
Revises: 0030_charter
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0031_parrot'
down_revision = '0030_charter'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('advocacy_events') as batch_op:
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=True))
    with op.batch_alter_table('impact_settings') as batch_op:
        batch_op.add_column(sa.Column('recertify_below_actions', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recertify_weeks', sa.Integer(), server_default='12',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('impact_settings') as batch_op:
        batch_op.drop_column('recertify_weeks')
        batch_op.drop_column('recertify_below_actions')
    with op.batch_alter_table('advocacy_events') as batch_op:
        batch_op.drop_column('text')
