"""charter: versioned social-media charter, acceptances, gates; notification digest preferences

Revision ID: 0030_charter
Revises: 0029_surveys
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0030_charter'
down_revision = '0029_surveys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'charter_settings',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('gate_advocacy', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('gate_exercises', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('gate_certificates', sa.Boolean(), server_default=sa.false(),
                  nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_charter_settings_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_charter_settings')),
    )
    op.create_table(
        'charter_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('body_fr', sa.Text(), nullable=False),
        sa.Column('body_en', sa.Text(), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_charter_versions_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['published_by_id'], ['users.id'],
                                name=op.f('fk_charter_versions_published_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_charter_versions')),
        sa.UniqueConstraint('organization_id', 'number',
                            name=op.f('uq_charter_versions_organization_id_number')),
    )
    with op.batch_alter_table('charter_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charter_versions_organization_id'),
                              ['organization_id'], unique=False)
    op.create_table(
        'charter_acceptances',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('statement_id', sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_charter_acceptances_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['charter_versions.id'],
                                name=op.f('fk_charter_acceptances_version_id_charter_versions'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'],
                                name=op.f('fk_charter_acceptances_membership_id_memberships'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_charter_acceptances')),
        sa.UniqueConstraint('version_id', 'membership_id',
                            name=op.f('uq_charter_acceptances_version_id_membership_id')),
    )
    with op.batch_alter_table('charter_acceptances', schema=None) as batch_op:
        for column in ('organization_id', 'version_id', 'membership_id'):
            batch_op.create_index(batch_op.f(f'ix_charter_acceptances_{column}'), [column],
                                  unique=False)
    op.create_table(
        'digest_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('frequency', sa.String(length=8), server_default='weekly', nullable=False),
        sa.Column('last_digest_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_digest_preferences_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_digest_preferences')),
    )


def downgrade():
    op.drop_table('digest_preferences')
    with op.batch_alter_table('charter_acceptances', schema=None) as batch_op:
        for column in ('membership_id', 'version_id', 'organization_id'):
            batch_op.drop_index(batch_op.f(f'ix_charter_acceptances_{column}'))
    op.drop_table('charter_acceptances')
    with op.batch_alter_table('charter_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charter_versions_organization_id'))
    op.drop_table('charter_versions')
    op.drop_table('charter_settings')
