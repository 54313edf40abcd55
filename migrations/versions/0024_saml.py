"""identity: SAML 2.0 single sign-on

Revision ID: 0024_saml
Revises: 0020_hardening
Create Date: 2027-01-10

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0024_saml'
down_revision = '0020_hardening'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_saml_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('default_role', sa.Enum('learner', 'trainer', 'hr', 'admin', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('role_mapping', sa.JSON(), nullable=False),
    sa.Column('require_sso', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('break_glass_user_id', sa.Integer(), nullable=True),
    sa.Column('idp_entity_id', sa.String(length=500), nullable=False),
    sa.Column('idp_metadata', sa.Text(), nullable=False),
    sa.Column('idp_metadata_url', sa.String(length=500), nullable=True),
    sa.Column('sp_private_key_encrypted', sa.Text(), nullable=False),
    sa.Column('sp_certificate', sa.Text(), nullable=False),
    sa.Column('email_attribute', sa.String(length=200), server_default='email', nullable=False),
    sa.Column('name_attribute', sa.String(length=200), nullable=True),
    sa.Column('groups_attribute', sa.String(length=200), server_default='groups', nullable=False),
    sa.Column('team_attribute', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['break_glass_user_id'], ['users.id'], name=op.f('fk_identity_saml_settings_break_glass_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_identity_saml_settings_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_saml_settings')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_identity_saml_settings_organization_id'))
    )
    op.create_table('identity_saml_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('settings_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.ForeignKeyConstraint(['settings_id'], ['identity_saml_settings.id'], name=op.f('fk_identity_saml_domains_settings_id_identity_saml_settings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_saml_domains')),
    sa.UniqueConstraint('domain', name=op.f('uq_identity_saml_domains_domain'))
    )
    with op.batch_alter_table('identity_saml_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_saml_domains_settings_id'), ['settings_id'], unique=False)

    op.create_table('identity_saml_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.String(length=100), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('next_url', sa.String(length=500), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_identity_saml_requests_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_saml_requests')),
    sa.UniqueConstraint('request_id', name=op.f('uq_identity_saml_requests_request_id'))
    )
    with op.batch_alter_table('identity_saml_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_saml_requests_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_saml_requests_organization_id'), ['organization_id'], unique=False)

    op.create_table('identity_saml_assertions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assertion_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_saml_assertions')),
    sa.UniqueConstraint('assertion_hash', name=op.f('uq_identity_saml_assertions_assertion_hash'))
    )
    with op.batch_alter_table('identity_saml_assertions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_saml_assertions_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('identity_saml_assertions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_saml_assertions_expires_at'))
    op.drop_table('identity_saml_assertions')
    with op.batch_alter_table('identity_saml_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_saml_requests_organization_id'))
        batch_op.drop_index(batch_op.f('ix_identity_saml_requests_expires_at'))
    op.drop_table('identity_saml_requests')
    with op.batch_alter_table('identity_saml_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_saml_domains_settings_id'))
    op.drop_table('identity_saml_domains')
    op.drop_table('identity_saml_settings')
