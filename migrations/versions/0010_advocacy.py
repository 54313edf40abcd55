"""advocacy: events, consent, campaigns

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

METRICS = ('impressions', 'clicks', 'reactions', 'comments', 'reshares', 'signups', 'leads',
           'hires')


def upgrade():
    op.create_table(
        'advocacy_settings',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('webhook_secret', sa.String(length=128), nullable=True),
        sa.Column('leaderboard_enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ondelete='CASCADE',
                                name=op.f('fk_advocacy_settings_organization_id_organizations')),
        sa.PrimaryKeyConstraint('organization_id', name=op.f('pk_advocacy_settings')),
    )
    op.create_table(
        'advocacy_consents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('opted_in_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('leaderboard_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ondelete='CASCADE',
                                name=op.f('fk_advocacy_consents_organization_id_organizations')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_advocacy_consents_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_consents')),
        sa.UniqueConstraint('organization_id', 'user_id',
                            name=op.f('uq_advocacy_consents_organization_id_user_id')),
    )
    op.create_index(op.f('ix_advocacy_consents_organization_id'), 'advocacy_consents',
                    ['organization_id'])
    op.create_index(op.f('ix_advocacy_consents_user_id'), 'advocacy_consents', ['user_id'])
    op.create_table(
        'advocacy_campaigns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('target_metric', sa.String(length=16), nullable=True),
        sa.Column('target_value', sa.Integer(), nullable=True),
        sa.Column('deadline', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ondelete='CASCADE',
                                name=op.f('fk_advocacy_campaigns_organization_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_campaigns')),
    )
    op.create_index(op.f('ix_advocacy_campaigns_organization_id'), 'advocacy_campaigns',
                    ['organization_id'])
    op.create_table(
        'advocacy_content_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('angle', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'], ondelete='CASCADE',
            name=op.f('fk_advocacy_content_items_organization_id_organizations')),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['advocacy_campaigns.id'], ondelete='CASCADE',
            name=op.f('fk_advocacy_content_items_campaign_id_advocacy_campaigns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_content_items')),
    )
    op.create_index(op.f('ix_advocacy_content_items_organization_id'), 'advocacy_content_items',
                    ['organization_id'])
    op.create_index(op.f('ix_advocacy_content_items_campaign_id'), 'advocacy_content_items',
                    ['campaign_id'])
    op.create_table(
        'advocacy_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('content_item_id', sa.Integer(), nullable=True),
        sa.Column('url', sa.String(length=2000), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('external_id', sa.String(length=200), nullable=True),
        sa.Column('idem_key', sa.String(length=64), nullable=False),
        *[sa.Column(m, sa.Integer(), server_default=sa.text('0'), nullable=False)
          for m in METRICS],
        sa.Column('with_own_comment', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('statement_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ondelete='CASCADE',
                                name=op.f('fk_advocacy_events_organization_id_organizations')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_advocacy_events_user_id_users')),
        sa.ForeignKeyConstraint(['campaign_id'], ['advocacy_campaigns.id'], ondelete='SET NULL',
                                name=op.f('fk_advocacy_events_campaign_id_advocacy_campaigns')),
        sa.ForeignKeyConstraint(
            ['content_item_id'], ['advocacy_content_items.id'], ondelete='SET NULL',
            name=op.f('fk_advocacy_events_content_item_id_advocacy_content_items')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_events')),
        sa.UniqueConstraint('organization_id', 'idem_key',
                            name=op.f('uq_advocacy_events_organization_id_idem_key')),
    )
    op.create_index('ix_advocacy_events_org_occurred', 'advocacy_events',
                    ['organization_id', 'occurred_at'])
    op.create_index(op.f('ix_advocacy_events_user_id'), 'advocacy_events', ['user_id'])
    op.create_index(op.f('ix_advocacy_events_campaign_id'), 'advocacy_events', ['campaign_id'])
    op.create_index(op.f('ix_advocacy_events_content_item_id'), 'advocacy_events',
                    ['content_item_id'])


def downgrade():
    op.drop_table('advocacy_events')
    op.drop_table('advocacy_content_items')
    op.drop_table('advocacy_campaigns')
    op.drop_table('advocacy_consents')
    op.drop_table('advocacy_settings')
