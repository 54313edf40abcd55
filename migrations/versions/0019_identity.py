"""identity: single sign-on and SCIM

Revision ID: 0019_identity
Revises: 0018_privacy
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019_identity'
down_revision = '0018_privacy'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_oidc_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('next_url', sa.String(length=500), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_identity_oidc_requests_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oidc_requests')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_identity_oidc_requests_state_hash'))
    )
    with op.batch_alter_table('identity_oidc_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_oidc_requests_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_oidc_requests_organization_id'), ['organization_id'], unique=False)

    op.create_table('identity_oidc_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('client_secret_encrypted', sa.Text(), nullable=False),
    sa.Column('default_role', sa.Enum('learner', 'trainer', 'hr', 'admin', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('groups_claim', sa.String(length=100), server_default='groups', nullable=False),
    sa.Column('role_mapping', sa.JSON(), nullable=False),
    sa.Column('team_claim', sa.String(length=100), nullable=True),
    sa.Column('require_sso', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('break_glass_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['break_glass_user_id'], ['users.id'], name=op.f('fk_identity_oidc_settings_break_glass_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_identity_oidc_settings_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oidc_settings')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_identity_oidc_settings_organization_id'))
    )
    op.create_table('identity_scim_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_identity_scim_groups_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_scim_groups')),
    sa.UniqueConstraint('organization_id', 'display_name', name=op.f('uq_identity_scim_groups_organization_id_display_name'))
    )
    with op.batch_alter_table('identity_scim_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_scim_groups_organization_id'), ['organization_id'], unique=False)

    op.create_table('identity_scim_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_identity_scim_tokens_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_scim_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_identity_scim_tokens_token_hash'))
    )
    with op.batch_alter_table('identity_scim_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_scim_tokens_organization_id'), ['organization_id'], unique=False)

    op.create_table('identity_scim_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('employee_number', sa.String(length=64), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_identity_scim_users_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_identity_scim_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_scim_users')),
    sa.UniqueConstraint('organization_id', 'external_id', name=op.f('uq_identity_scim_users_organization_id_external_id')),
    sa.UniqueConstraint('organization_id', 'user_id', name=op.f('uq_identity_scim_users_organization_id_user_id'))
    )
    with op.batch_alter_table('identity_scim_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_scim_users_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_scim_users_user_id'), ['user_id'], unique=False)

    op.create_table('identity_oidc_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('settings_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.ForeignKeyConstraint(['settings_id'], ['identity_oidc_settings.id'], name=op.f('fk_identity_oidc_domains_settings_id_identity_oidc_settings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_oidc_domains')),
    sa.UniqueConstraint('domain', name=op.f('uq_identity_oidc_domains_domain'))
    )
    with op.batch_alter_table('identity_oidc_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_oidc_domains_settings_id'), ['settings_id'], unique=False)

    # A member deactivated by the company's directory keeps their learning records.
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('active')

    with op.batch_alter_table('identity_oidc_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_oidc_domains_settings_id'))

    op.drop_table('identity_oidc_domains')
    with op.batch_alter_table('identity_scim_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_scim_users_user_id'))
        batch_op.drop_index(batch_op.f('ix_identity_scim_users_organization_id'))

    op.drop_table('identity_scim_users')
    with op.batch_alter_table('identity_scim_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_scim_tokens_organization_id'))

    op.drop_table('identity_scim_tokens')
    with op.batch_alter_table('identity_scim_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_scim_groups_organization_id'))

    op.drop_table('identity_scim_groups')
    op.drop_table('identity_oidc_settings')
    with op.batch_alter_table('identity_oidc_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_oidc_requests_organization_id'))
        batch_op.drop_index(batch_op.f('ix_identity_oidc_requests_expires_at'))

    op.drop_table('identity_oidc_requests')
