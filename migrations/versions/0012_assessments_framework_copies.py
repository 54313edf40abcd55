"""assessments: organizations' own copies of the skill framework

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('skill_frameworks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_skill_frameworks_key'), type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_skill_frameworks_organization_id_key'), ['organization_id', 'key'])
        batch_op.create_index(batch_op.f('ix_skill_frameworks_organization_id'),
                              ['organization_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_skill_frameworks_organization_id_organizations'), 'organizations',
            ['organization_id'], ['id'], ondelete='CASCADE')


def downgrade():
    # Copies cannot survive without their organization column (and the key is unique again).
    op.execute("DELETE FROM skill_frameworks WHERE organization_id IS NOT NULL")
    with op.batch_alter_table('skill_frameworks', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_skill_frameworks_organization_id_organizations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_skill_frameworks_organization_id'))
        batch_op.drop_constraint(batch_op.f('uq_skill_frameworks_organization_id_key'),
                                 type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_skill_frameworks_key'), ['key'])
        batch_op.drop_column('organization_id')
