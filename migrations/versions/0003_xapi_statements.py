"""xapi: statements store

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'xapi_statements',
        sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('statement_id', sa.String(length=36), nullable=False),
        sa.Column('actor_key', sa.Text(), nullable=True),
        sa.Column('verb_id', sa.Text(), nullable=False),
        sa.Column('object_type', sa.String(length=16), nullable=False),
        sa.Column('object_activity_id', sa.Text(), nullable=True),
        sa.Column('object_agent_key', sa.Text(), nullable=True),
        sa.Column('object_statement_id', sa.String(length=36), nullable=True),
        sa.Column('registration', sa.String(length=36), nullable=True),
        sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stored', sa.DateTime(timezone=True), nullable=False),
        sa.Column('voided', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_xapi_statements_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('pk', name=op.f('pk_xapi_statements')),
        sa.UniqueConstraint('organization_id', 'statement_id',
                            name=op.f('uq_xapi_statements_organization_id_statement_id')),
    )
    op.create_index('ix_xapi_statements_org_pk', 'xapi_statements', ['organization_id', 'pk'])
    op.create_index('ix_xapi_statements_org_target', 'xapi_statements',
                    ['organization_id', 'object_statement_id'])

    op.create_table(
        'xapi_statement_index',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=1), nullable=False),
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('statement_pk', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['statement_pk'], ['xapi_statements.pk'],
                                name=op.f('fk_xapi_statement_index_statement_pk_xapi_statements'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'kind', 'key', 'statement_pk',
                                name=op.f('pk_xapi_statement_index')),
        sqlite_with_rowid=False,
    )

    op.create_table(
        'xapi_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('sha2', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=255), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_xapi_attachments_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_attachments')),
        sa.UniqueConstraint('organization_id', 'sha2',
                            name=op.f('uq_xapi_attachments_organization_id_sha2')),
    )

    op.create_table(
        'xapi_activities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Text(), nullable=False),
        sa.Column('definition', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_xapi_activities_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_activities')),
        sa.UniqueConstraint('organization_id', 'activity_id',
                            name=op.f('uq_xapi_activities_organization_id_activity_id')),
    )


def downgrade():
    op.drop_table('xapi_activities')
    op.drop_table('xapi_attachments')
    op.drop_table('xapi_statement_index')
    op.drop_index('ix_xapi_statements_org_target', table_name='xapi_statements')
    op.drop_index('ix_xapi_statements_org_pk', table_name='xapi_statements')
    op.drop_table('xapi_statements')
