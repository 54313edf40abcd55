"""lti: LTI 1.3 platform registrations, tool keys, launches, links, contexts

Revision ID: 0025_lti
Revises: 0020_hardening
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_lti'
down_revision = '0024_saml'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lti_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_key_encrypted', sa.Text(), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_lti_keys_kid'))
    )
    op.create_table('lti_platforms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('deployment_ids', sa.JSON(), nullable=False),
    sa.Column('auth_login_url', sa.String(length=500), nullable=False),
    sa.Column('auth_token_url', sa.String(length=500), nullable=False),
    sa.Column('jwks_url', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_lti_platforms_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_platforms')),
    sa.UniqueConstraint('issuer', 'client_id', name=op.f('uq_lti_platforms_issuer_client_id'))
    )
    with op.batch_alter_table('lti_platforms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_platforms_organization_id'), ['organization_id'], unique=False)

    op.create_table('lti_deep_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('return_url', sa.String(length=1000), nullable=False),
    sa.Column('data', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_deep_links_platform_id_lti_platforms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lti_deep_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_deep_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_lti_deep_links_token_hash'))
    )
    with op.batch_alter_table('lti_deep_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_deep_links_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_deep_links_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_deep_links_user_id'), ['user_id'], unique=False)

    op.create_table('lti_launch_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_launch_states_platform_id_lti_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_launch_states')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_lti_launch_states_state_hash'))
    )
    with op.batch_alter_table('lti_launch_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_launch_states_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_launch_states_platform_id'), ['platform_id'], unique=False)

    op.create_table('lti_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_users_platform_id_lti_platforms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lti_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_users')),
    sa.UniqueConstraint('platform_id', 'sub', name=op.f('uq_lti_users_platform_id_sub'))
    )
    with op.batch_alter_table('lti_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_users_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_users_user_id'), ['user_id'], unique=False)

    op.create_table('lti_contexts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('memberships_url', sa.String(length=1000), nullable=True),
    sa.Column('program_id', sa.Integer(), nullable=True),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_lti_contexts_cohort_id_cohorts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_contexts_platform_id_lti_platforms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_lti_contexts_program_id_programs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_contexts')),
    sa.UniqueConstraint('platform_id', 'context_id', name=op.f('uq_lti_contexts_platform_id_context_id'))
    )
    with op.batch_alter_table('lti_contexts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_contexts_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_contexts_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_contexts_program_id'), ['program_id'], unique=False)

    op.create_table('lti_resource_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_pk', sa.Integer(), nullable=True),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=True),
    sa.Column('module_id', sa.Integer(), nullable=True),
    sa.Column('program_id', sa.Integer(), nullable=True),
    sa.Column('lineitem_url', sa.String(length=1000), nullable=True),
    sa.Column('ags_scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_pk'], ['lti_contexts.id'], name=op.f('fk_lti_resource_links_context_pk_lti_contexts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['module_id'], ['program_modules.id'], name=op.f('fk_lti_resource_links_module_id_program_modules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_resource_links_platform_id_lti_platforms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_lti_resource_links_program_id_programs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_resource_links')),
    sa.UniqueConstraint('platform_id', 'resource_link_id', name=op.f('uq_lti_resource_links_platform_id_resource_link_id'))
    )
    with op.batch_alter_table('lti_resource_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_resource_links_context_pk'), ['context_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_resource_links_module_id'), ['module_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_resource_links_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_resource_links_program_id'), ['program_id'], unique=False)

    op.create_table('lti_link_learners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('lti_user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['lti_resource_links.id'], name=op.f('fk_lti_link_learners_link_id_lti_resource_links'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lti_user_id'], ['lti_users.id'], name=op.f('fk_lti_link_learners_lti_user_id_lti_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_link_learners')),
    sa.UniqueConstraint('link_id', 'lti_user_id', name=op.f('uq_lti_link_learners_link_id_lti_user_id'))
    )
    with op.batch_alter_table('lti_link_learners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_link_learners_link_id'), ['link_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_link_learners_lti_user_id'), ['lti_user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('lti_link_learners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_link_learners_lti_user_id'))
        batch_op.drop_index(batch_op.f('ix_lti_link_learners_link_id'))

    op.drop_table('lti_link_learners')
    with op.batch_alter_table('lti_resource_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_resource_links_program_id'))
        batch_op.drop_index(batch_op.f('ix_lti_resource_links_platform_id'))
        batch_op.drop_index(batch_op.f('ix_lti_resource_links_module_id'))
        batch_op.drop_index(batch_op.f('ix_lti_resource_links_context_pk'))

    op.drop_table('lti_resource_links')
    with op.batch_alter_table('lti_contexts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_contexts_program_id'))
        batch_op.drop_index(batch_op.f('ix_lti_contexts_platform_id'))
        batch_op.drop_index(batch_op.f('ix_lti_contexts_cohort_id'))

    op.drop_table('lti_contexts')
    with op.batch_alter_table('lti_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_users_user_id'))
        batch_op.drop_index(batch_op.f('ix_lti_users_platform_id'))

    op.drop_table('lti_users')
    with op.batch_alter_table('lti_launch_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_launch_states_platform_id'))
        batch_op.drop_index(batch_op.f('ix_lti_launch_states_expires_at'))

    op.drop_table('lti_launch_states')
    with op.batch_alter_table('lti_deep_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_deep_links_user_id'))
        batch_op.drop_index(batch_op.f('ix_lti_deep_links_platform_id'))
        batch_op.drop_index(batch_op.f('ix_lti_deep_links_expires_at'))

    op.drop_table('lti_deep_links')
    with op.batch_alter_table('lti_platforms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_platforms_organization_id'))

    op.drop_table('lti_platforms')
    op.drop_table('lti_keys')
