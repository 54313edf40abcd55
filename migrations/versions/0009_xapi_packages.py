"""xapi: uploaded xAPI packages and launches

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('xapi_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('folder', sa.String(length=255), nullable=False),
    sa.Column('launch_path', sa.String(length=1000), nullable=False),
    sa.Column('activity_id', sa.Text(), nullable=False),
    sa.Column('activity_type', sa.Text(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['program_modules.id'], name=op.f('fk_xapi_packages_module_id_program_modules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_xapi_packages_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_xapi_packages_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_packages'))
    )
    op.create_index('ix_xapi_packages_org_activity', 'xapi_packages', ['organization_id', 'activity_id'], unique=False)
    op.create_index(op.f('ix_xapi_packages_module_id'), 'xapi_packages', ['module_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_xapi_packages_module_id'), table_name='xapi_packages')
    op.drop_index('ix_xapi_packages_org_activity', table_name='xapi_packages')
    op.drop_table('xapi_packages')
