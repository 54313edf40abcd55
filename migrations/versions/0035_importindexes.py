"""imports: indexes on columns most rows leave empty hold only the rows that fill them

Most advocacy events name no campaign nor content item, and almost no statement refers to
another: their indexes on ``campaign_id``, ``content_item_id`` and ``object_statement_id`` held
one entry per row for a NULL nobody looks up (the lookups are ``= value`` or ``IN``, and the
foreign keys' ``ON DELETE SET NULL`` finds rows by value too). Partial indexes keep only the
rows with a value: an import of 100,000 events writes 300,000 index entries fewer.

Revision ID: 0035_importindexes
Revises: 0034_person_months
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0035_importindexes'
down_revision = '0034_person_months'
branch_labels = None
depends_on = None

# (table, index, columns, the column that must be set)
INDEXES = [
    ('advocacy_events', 'ix_advocacy_events_campaign_id', ['campaign_id'], 'campaign_id'),
    ('advocacy_events', 'ix_advocacy_events_content_item_id', ['content_item_id'],
     'content_item_id'),
    ('xapi_statements', 'ix_xapi_statements_org_target',
     ['organization_id', 'object_statement_id'], 'object_statement_id'),
]


def upgrade():
    for table, name, columns, column in INDEXES:
        where = sa.text(f'{column} IS NOT NULL')
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_where=where, sqlite_where=where)


def downgrade():
    for table, name, columns, _column in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
