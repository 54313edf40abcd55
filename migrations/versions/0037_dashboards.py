"""advocacy: the daily figures' primary key carries their sums (PostgreSQL)

A team's (or a cohort's) dashboard reads its people's daily figures: over a year, 38,000 of
the 930,000 rows of the bench's organization (10,000 learners, 1,000,000 events). PostgreSQL
found them by scanning the whole table (in parallel), three times a page — the key would have
found them, but each row was then read from the table, scattered by the order it was written
in. The key's index now also holds the sums (``INCLUDE``): a person's days are read from the
index alone, in order, and the planner loops over the team's people through it (measured:
the team's page 184 → 106 ms of PostgreSQL CPU under load, its parallel workers no longer
needed). The key itself, and the upserts' ``ON CONFLICT`` on it, are unchanged. SQLite has
no ``INCLUDE``: a covering index measured no gain there (SQLite's time is its own work on
the rows, not reaching them).

Revision ID: 0037_dashboards
Revises: 0036_indexnofk
Create Date: 2026-12-06

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0037_dashboards'
down_revision = '0036_indexnofk'
branch_labels = None
depends_on = None

TABLE = 'advocacy_daily_figures'
PK = 'pk_advocacy_daily_figures'
KEY = ('organization_id, user_id, day, network, kind, campaign_id, content_item_id')
SUMS = ('events, with_own_comment, impressions, clicks, reactions, comments, reshares, '
        'signups, leads, hires')


def _key(include: bool) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_constraint(PK, TABLE, type_='primary')
    op.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT {PK} PRIMARY KEY ({KEY})'
               + (f' INCLUDE ({SUMS})' if include else ''))


def upgrade():
    _key(include=True)


def downgrade():
    _key(include=False)
