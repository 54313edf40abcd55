"""advocacy: each team's weeks summed, and the team each person's figures are summed into

A team's dashboard over a year read its people's daily figures (about 38,000 rows for a team
of 834, and as many for the year before). ``advocacy_team_weeks`` holds the events of each
ISO week (its Monday) summed per team, network, kind, campaign and content item (about a
quarter of the rows), and ``advocacy_team_people`` the team each person's figures are summed
into: a page reads a team's weeks only while that list is the team's current members with
figures, else the daily figures. lms.advocacy.figures keeps both with the daily figures, an
ORM hook moves a person whose membership changes, and ``relais rebuild-advocacy-figures``
rebuilds them. This fills them from the daily figures and the memberships, as the rebuild
does.

Revision ID: 0043_team_weeks
Revises: 0042_orgnofk
Create Date: 2026-12-07

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0043_team_weeks'
down_revision = '0042_orgnofk'
branch_labels = None
depends_on = None

METRICS = ('impressions', 'clicks', 'reactions', 'comments', 'reshares', 'signups', 'leads',
           'hires')
SUMS = ('events', 'with_own_comment', *METRICS)


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.create_table(
        'advocacy_team_weeks',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('team', sa.String(length=120), nullable=False),
        sa.Column('week', sa.Date(), nullable=False),
        sa.Column('network', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('content_item_id', sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in SUMS],
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_advocacy_team_weeks_organization_id_organizations'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'team', 'week', 'network', 'kind',
                                'campaign_id', 'content_item_id',
                                name=op.f('pk_advocacy_team_weeks'),
                                postgresql_include=list(SUMS)),
    )
    op.create_table(
        'advocacy_team_people',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('team', sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'],
            name=op.f('fk_advocacy_team_people_organization_id_organizations'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'user_id',
                                name=op.f('pk_advocacy_team_people')),
    )
    op.create_index('ix_advocacy_team_people_team', 'advocacy_team_people',
                    ['organization_id', 'team', 'user_id'])
    # As lms.advocacy.figures.rebuild_sql writes them (a migration does not import the app).
    op.execute(
        "INSERT INTO advocacy_team_people (organization_id, user_id, team) "
        "SELECT t.organization_id, t.user_id, CASE WHEN m.team <> '' THEN m.team END "
        "FROM advocacy_person_totals t LEFT JOIN memberships m "
        "ON m.organization_id = t.organization_id AND m.user_id = t.user_id "
        "WHERE t.user_id <> 0")
    week = ("CAST(date_trunc('week', t.day) AS date)" if postgresql
            else "date(t.day, 'weekday 0', '-6 days')")
    others = "t.network, t.kind, t.campaign_id, t.content_item_id"
    op.execute(
        f"INSERT INTO advocacy_team_weeks (organization_id, team, week, network, kind, "
        f"campaign_id, content_item_id, {', '.join(SUMS)}) "
        f"SELECT t.organization_id, p.team, {week}, {others}, "
        + ", ".join(f"sum(t.{s})" for s in SUMS)
        + " FROM advocacy_daily_figures t JOIN advocacy_team_people p "
        "ON p.organization_id = t.organization_id AND p.user_id = t.user_id "
        f"WHERE p.team IS NOT NULL GROUP BY t.organization_id, p.team, {week}, {others}")
    if postgresql:
        # Statistics of the filled tables now, not when autovacuum comes.
        op.execute("ANALYZE advocacy_team_weeks")
        op.execute("ANALYZE advocacy_team_people")


def downgrade():
    op.drop_index('ix_advocacy_team_people_team', table_name='advocacy_team_people')
    op.drop_table('advocacy_team_people')
    op.drop_table('advocacy_team_weeks')
