"""statements: the filter index without a foreign key to the statements

Every statement writes four to six rows into ``xapi_statement_index``, and the foreign key made
PostgreSQL check each of them against ``xapi_statements`` (a trigger and a key lookup per row:
about half of what writing the index cost, a third of an advocacy import's work in the
database). The rows are written by the statement store alone, with the statement they point
to, in the same transaction; statements are never deleted one by one, and an organization's
deletion deletes its index rows (``lms.xapi.models``, on the ORM's delete of the
organization) as the cascade did.

Revision ID: 0036_indexnofk
Revises: 0035_importindexes
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0036_indexnofk'
down_revision = '0035_importindexes'
branch_labels = None
depends_on = None

FK = 'fk_xapi_statement_index_statement_pk_xapi_statements'


def _recreate(with_fk: bool) -> None:
    # SQLite cannot drop or add a foreign key: the table is made again (WITHOUT ROWID).
    extra = [sa.ForeignKeyConstraint(['statement_pk'], ['xapi_statements.pk'], name=FK,
                                     ondelete='CASCADE')] if with_fk else []
    op.create_table(
        '_xapi_statement_index_new',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=1), nullable=False),
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('statement_pk', sa.Integer(), nullable=False),
        *extra,
        sa.PrimaryKeyConstraint('organization_id', 'kind', 'key', 'statement_pk',
                                name='pk_xapi_statement_index'),
        sqlite_with_rowid=False,
    )
    op.execute('INSERT INTO _xapi_statement_index_new (organization_id, kind, key, '
               'statement_pk) SELECT organization_id, kind, key, statement_pk '
               'FROM xapi_statement_index')
    op.drop_table('xapi_statement_index')
    op.rename_table('_xapi_statement_index_new', 'xapi_statement_index')


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _recreate(with_fk=False)
    else:
        op.drop_constraint(FK, 'xapi_statement_index', type_='foreignkey')


def downgrade():
    # Rows of statements that are gone would break the constraint.
    op.execute('DELETE FROM xapi_statement_index WHERE statement_pk NOT IN '
               '(SELECT pk FROM xapi_statements)')
    if op.get_bind().dialect.name == 'sqlite':
        _recreate(with_fk=True)
    else:
        op.create_foreign_key(FK, 'xapi_statement_index', 'xapi_statements', ['statement_pk'],
                              ['pk'], ondelete='CASCADE')
