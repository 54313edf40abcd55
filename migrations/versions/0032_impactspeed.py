"""impact: one person's events in a period read from the index alone (their totals included)

The comparison-group estimate sums each person's events of the weeks around a training date.
The index on (user_id, occurred_at) found the events but every one of them was then read from
the table, scattered over a year of imports: at a million events a page read 150,000 table
rows. The same index carrying the totals the estimate sums answers from the index alone, in
person order (so the grouping needs no sort on SQLite). It replaces the narrower one, whose
queries (the timeline, exercise verification, the user key's cascades) use its first columns.

Revision ID: 0032_impactspeed
Revises: 0031_parrot
Create Date: 2026-12-06

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0032_impactspeed'
down_revision = '0031_parrot'
branch_labels = None
depends_on = None

TOTALS = ['user_id', 'occurred_at', 'organization_id', 'kind', 'clicks', 'reactions',
          'comments', 'signups', 'leads', 'hires']


def upgrade():
    with op.batch_alter_table('advocacy_events') as batch_op:
        batch_op.drop_index('ix_advocacy_events_user_id_occurred_at')
        batch_op.create_index('ix_advocacy_events_user_occurred_totals', TOTALS)


def downgrade():
    with op.batch_alter_table('advocacy_events') as batch_op:
        batch_op.drop_index('ix_advocacy_events_user_occurred_totals')
        batch_op.create_index('ix_advocacy_events_user_id_occurred_at',
                              ['user_id', 'occurred_at'])
