"""advocacy: each person's events summed per month (the leaderboard over long periods)

The leaderboard and the people counted over "all time" or a year read one row per active
person-day from the daily figures (about as many rows as events). They now read whole months
from ``advocacy_person_months`` (kept by lms.advocacy.figures with the daily figures); this
fills it from the daily figures, as ``relais rebuild-advocacy-figures`` does.

Revision ID: 0034_person_months
Revises: 0033_daily_figures
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0034_person_months'
down_revision = '0033_daily_figures'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'advocacy_person_months',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('with_own_comment', sa.Integer(), nullable=False),
        sa.Column('clicks', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_advocacy_person_months_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'user_id', 'month',
                                name=op.f('pk_advocacy_person_months')),
    )
    op.create_index('ix_advocacy_person_months_sums', 'advocacy_person_months',
                    ['organization_id', 'user_id', 'month', 'events', 'with_own_comment',
                     'clicks'])
    # As lms.advocacy.figures.rebuild_sql writes it (a migration does not import the app).
    month = ("date(day, 'start of month')" if op.get_bind().dialect.name == 'sqlite'
             else "CAST(date_trunc('month', day) AS date)")
    op.execute(
        "INSERT INTO advocacy_person_months (organization_id, user_id, month, events, "
        f"with_own_comment, clicks) SELECT organization_id, user_id, {month}, sum(events), "
        "sum(with_own_comment), sum(clicks) FROM advocacy_daily_figures WHERE user_id <> 0 "
        f"GROUP BY organization_id, user_id, {month}")
    if op.get_bind().dialect.name == 'postgresql':
        # Statistics of the filled tables now, not when autovacuum comes: with an empty
        # table's, the planner loops over every learner for the activation figure.
        op.execute("ANALYZE advocacy_daily_figures")
        op.execute("ANALYZE advocacy_person_months")


def downgrade():
    op.drop_index('ix_advocacy_person_months_sums', table_name='advocacy_person_months')
    op.drop_table('advocacy_person_months')
