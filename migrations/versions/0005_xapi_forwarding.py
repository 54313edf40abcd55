"""xapi: forwarding outbox and external LRS settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'xapi_external_lrs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('endpoint', sa.String(length=500), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('secret_encrypted', sa.Text(), nullable=False),
        sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=1000), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_xapi_external_lrs_organization_id_organizations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_external_lrs')),
        sa.UniqueConstraint('organization_id', name=op.f('uq_xapi_external_lrs_organization_id')),
    )
    op.create_table(
        'xapi_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('statement_pk', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'delivered', 'dead', name='outbox_status',
                                    native_enum=False, length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_xapi_outbox_organization_id_organizations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['statement_pk'], ['xapi_statements.pk'],
            name=op.f('fk_xapi_outbox_statement_pk_xapi_statements'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_xapi_outbox')),
        sa.UniqueConstraint('statement_pk', name=op.f('uq_xapi_outbox_statement_pk')),
    )
    op.create_index('ix_xapi_outbox_pick', 'xapi_outbox',
                    ['organization_id', 'status', 'statement_pk'], unique=False)


def downgrade():
    op.drop_index('ix_xapi_outbox_pick', table_name='xapi_outbox')
    op.drop_table('xapi_outbox')
    op.drop_table('xapi_external_lrs')
