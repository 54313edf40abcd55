"""advocacy: each person's totals and last active day, each campaign's running totals

The dashboard's activation figure (learners active in the last 30 days) counted the people in
the last month of daily figures (about 40,000 rows for 10,000 learners), "all time"'s
leaderboard summed each person's months (240,000 rows), and each campaign's progress summed
everyone's daily rows of it since it began, on every view of the page.
``advocacy_person_totals`` holds each person's sums of all time (the leaderboard's: events,
own comments, clicks) and last day with an event (a row per person), and
``advocacy_campaign_totals`` each campaign's sums (a row per campaign); lms.advocacy.figures
keeps both with the daily figures, in the same transaction, and ``relais
rebuild-advocacy-figures`` rebuilds them. This fills them from the daily figures, as the
rebuild does. A partial index on the daily figures' campaign rows serves a campaign's
leaderboard (its people's sums, read from the index alone).

Revision ID: 0039_running_figures
Revises: 0038_projpkg
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0039_running_figures'
down_revision = '0038_projpkg'
branch_labels = None
depends_on = None

METRICS = ('impressions', 'clicks', 'reactions', 'comments', 'reshares', 'signups', 'leads',
           'hires')


def upgrade():
    op.create_table(
        'advocacy_person_totals',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('with_own_comment', sa.Integer(), nullable=False),
        sa.Column('clicks', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_advocacy_person_totals_organization_id_organizations'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'user_id',
                                name=op.f('pk_advocacy_person_totals')),
    )
    sums = ('events', 'shares', 'with_own_comment', *METRICS)
    op.create_table(
        'advocacy_campaign_totals',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in sums],
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_advocacy_campaign_totals_organization_id_organizations'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'campaign_id',
                                name=op.f('pk_advocacy_campaign_totals')),
    )
    # A campaign's rows, for its leaderboard: read from the index alone, in person order.
    op.create_index('ix_advocacy_daily_figures_campaign', 'advocacy_daily_figures',
                    ['organization_id', 'campaign_id', 'user_id', 'events', 'with_own_comment',
                     'clicks'], sqlite_where=sa.text('campaign_id <> 0'),
                    postgresql_where=sa.text('campaign_id <> 0'))
    # As lms.advocacy.figures.rebuild_sql writes them (a migration does not import the app).
    op.execute(
        "INSERT INTO advocacy_person_totals (organization_id, user_id, last_day, events, "
        "with_own_comment, clicks) SELECT organization_id, user_id, max(day), sum(events), "
        "sum(with_own_comment), sum(clicks) FROM advocacy_daily_figures "
        "WHERE user_id <> 0 GROUP BY organization_id, user_id")
    op.execute(
        f"INSERT INTO advocacy_campaign_totals (organization_id, campaign_id, {', '.join(sums)}) "
        "SELECT organization_id, campaign_id, sum(events), "
        "sum(CASE WHEN kind IN ('post', 'share') THEN events ELSE 0 END), "
        + ", ".join(f"sum({name})" for name in ('with_own_comment', *METRICS))
        + " FROM advocacy_daily_figures WHERE user_id = 0 AND campaign_id <> 0 "
        "GROUP BY organization_id, campaign_id")
    if op.get_bind().dialect.name == 'postgresql':
        # Statistics of the filled tables now, not when autovacuum comes.
        op.execute("ANALYZE advocacy_person_totals")
        op.execute("ANALYZE advocacy_campaign_totals")


def downgrade():
    op.drop_index('ix_advocacy_daily_figures_campaign', table_name='advocacy_daily_figures')
    op.drop_table('advocacy_campaign_totals')
    op.drop_table('advocacy_person_totals')
