"""xapi: state, activity profile and agent profile documents

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'xapi_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('activity_id', sa.Text(), nullable=False),
        sa.Column('agent_key', sa.Text(), nullable=False),
        sa.Column('registration', sa.String(length=36), nullable=False),
        sa.Column('document_id', sa.Text(), nullable=False),
        sa.Column('scope_hash', sa.String(length=64), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=255), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('etag', sa.String(length=40), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_xapi_documents_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_documents')),
        sa.UniqueConstraint('organization_id', 'key_hash',
                            name=op.f('uq_xapi_documents_organization_id_key_hash')),
    )
    op.create_index('ix_xapi_documents_org_scope_updated', 'xapi_documents',
                    ['organization_id', 'scope_hash', 'updated_at'])


def downgrade():
    op.drop_index('ix_xapi_documents_org_scope_updated', table_name='xapi_documents')
    op.drop_table('xapi_documents')
