"""advocacy: the editorial calendar (publication windows, angles and sample posts per language,
target networks, owner), content proposals and calendar subscription feeds

Revision ID: 0026_calendar
Revises: 0022_second_factor
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026_calendar'
down_revision = '0022_second_factor'
branch_labels = None
depends_on = None


def upgrade():
    # Existing items keep no window: they stay with their campaign, off the calendar, until a
    # trainer dates them.
    with op.batch_alter_table('advocacy_content_items', schema=None) as batch_op:
        batch_op.alter_column('url', existing_type=sa.String(length=2000), nullable=True)
        batch_op.add_column(sa.Column('angle_en', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sample_post', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sample_post_en', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('networks', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_advocacy_content_items_owner_id_users'),
                                    'users', ['owner_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_advocacy_content_items_owner_id'), ['owner_id'])
        batch_op.create_index('ix_advocacy_content_items_org_starts_on',
                              ['organization_id', 'starts_on'])
    op.create_table(
        'advocacy_content_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=True),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decline_reason', sa.Text(), nullable=True),
        sa.Column('content_item_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'], ondelete='CASCADE',
            name=op.f('fk_advocacy_content_proposals_organization_id_organizations')),
        sa.ForeignKeyConstraint(
            ['proposed_by_id'], ['users.id'], ondelete='CASCADE',
            name=op.f('fk_advocacy_content_proposals_proposed_by_id_users')),
        sa.ForeignKeyConstraint(
            ['reviewed_by_id'], ['users.id'], ondelete='SET NULL',
            name=op.f('fk_advocacy_content_proposals_reviewed_by_id_users')),
        sa.ForeignKeyConstraint(
            ['content_item_id'], ['advocacy_content_items.id'], ondelete='SET NULL',
            name=op.f('fk_advocacy_content_proposals_content_item_id_advocacy_content_items')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_content_proposals')),
    )
    op.create_index('ix_advocacy_content_proposals_org_status', 'advocacy_content_proposals',
                    ['organization_id', 'status'])
    for column in ('proposed_by_id', 'reviewed_by_id', 'content_item_id'):
        op.create_index(op.f(f'ix_advocacy_content_proposals_{column}'),
                        'advocacy_content_proposals', [column])
    op.create_table(
        'advocacy_calendar_feeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'], ondelete='CASCADE',
            name=op.f('fk_advocacy_calendar_feeds_organization_id_organizations')),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], ondelete='CASCADE',
            name=op.f('fk_advocacy_calendar_feeds_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_calendar_feeds')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_advocacy_calendar_feeds_token_hash')),
    )
    op.create_index(op.f('ix_advocacy_calendar_feeds_organization_id'),
                    'advocacy_calendar_feeds', ['organization_id'])
    op.create_index(op.f('ix_advocacy_calendar_feeds_user_id'), 'advocacy_calendar_feeds',
                    ['user_id'])


def downgrade():
    op.drop_table('advocacy_calendar_feeds')
    op.drop_table('advocacy_content_proposals')
    # Undated texts have no address to keep: they cannot stay once addresses are required.
    op.execute("DELETE FROM advocacy_content_items WHERE url IS NULL")
    with op.batch_alter_table('advocacy_content_items', schema=None) as batch_op:
        batch_op.drop_index('ix_advocacy_content_items_org_starts_on')
        batch_op.drop_index(batch_op.f('ix_advocacy_content_items_owner_id'))
        batch_op.drop_constraint(batch_op.f('fk_advocacy_content_items_owner_id_users'),
                                 type_='foreignkey')
        for column in ('owner_id', 'networks', 'ends_on', 'starts_on', 'sample_post_en',
                       'sample_post', 'angle_en'):
            batch_op.drop_column(column)
        batch_op.alter_column('url', existing_type=sa.String(length=2000), nullable=False)
