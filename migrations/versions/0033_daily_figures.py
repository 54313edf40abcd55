"""advocacy: daily figures (events summed per day, person, network, kind, campaign, item)

The dashboards and the impact pages summed a million events per page. They now read the
events summed per UTC day and person (and over everyone), kept up to date by every write of
the application (lms.advocacy.figures); this fills the table from the events already stored,
with the same statements as ``relais rebuild-advocacy-figures``.

Revision ID: 0033_daily_figures
Revises: 0032_impactspeed
Create Date: 2026-12-07

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0033_daily_figures'
down_revision = '0032_impactspeed'
branch_labels = None
depends_on = None

KEY = ['organization_id', 'user_id', 'day', 'network', 'kind', 'campaign_id',
       'content_item_id']
SUMS = ['events', 'with_own_comment', 'impressions', 'clicks', 'reactions', 'comments',
        'reshares', 'signups', 'leads', 'hires']
METRICS = SUMS[2:]


def _fill_sql(dialect):
    # As lms.advocacy.figures.rebuild_sql writes them (a migration does not import the app).
    day = ("date(occurred_at)" if dialect == 'sqlite'
           else "CAST(occurred_at AT TIME ZONE 'UTC' AS date)")
    columns = ', '.join(KEY + SUMS)
    others = ', '.join(KEY[2:])
    return [
        f"INSERT INTO advocacy_daily_figures ({columns}) SELECT organization_id, user_id, "
        f"{day}, network, kind, COALESCE(campaign_id, 0), COALESCE(content_item_id, 0), "
        "count(*), sum(CASE WHEN with_own_comment THEN 1 ELSE 0 END), "
        + ', '.join(f'sum({m})' for m in METRICS)
        + f" FROM advocacy_events GROUP BY organization_id, user_id, {day}, network, kind, "
        "COALESCE(campaign_id, 0), COALESCE(content_item_id, 0)",
        f"INSERT INTO advocacy_daily_figures ({columns}) SELECT organization_id, 0, {others}, "
        + ', '.join(f'sum({s})' for s in SUMS)
        + f" FROM advocacy_daily_figures WHERE user_id <> 0 GROUP BY organization_id, {others}",
    ]


def upgrade():
    op.create_table(
        'advocacy_daily_figures',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('network', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('content_item_id', sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in SUMS],
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_advocacy_daily_figures_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint(*KEY, name=op.f('pk_advocacy_daily_figures')),
    )
    op.create_index('ix_advocacy_daily_figures_org_day_user', 'advocacy_daily_figures',
                    ['organization_id', 'day', 'user_id', 'events', 'with_own_comment',
                     'clicks'])
    for sql in _fill_sql(op.get_bind().dialect.name):
        op.execute(sql)


def downgrade():
    op.drop_index('ix_advocacy_daily_figures_org_day_user', table_name='advocacy_daily_figures')
    op.drop_table('advocacy_daily_figures')
