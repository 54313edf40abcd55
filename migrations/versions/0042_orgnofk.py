"""imports: no foreign key to the organization on the tables an import writes row by row

``xapi_statements``, ``xapi_activities``, ``advocacy_events`` and ``advocacy_daily_figures``
lose the foreign key of their ``organization_id`` (the column and its indexes stay). An
advocacy import of 100,000 rows writes about 99,000 rows into each, and PostgreSQL checked
every one against ``organizations`` (a trigger and a key look-up per row: a quarter of the
writing of each table, some 2 of the 10 to 14 seconds of the database's work). The rows are
written by Relais alone for an organization it has just read; an organization's deletion
deletes them (listeners in ``lms.xapi.models`` and ``lms.advocacy.models``, on the ORM's
delete of the organization), as ``0036_indexnofk`` did for the statements' index rows.

Revision ID: 0042_orgnofk
Revises: 0041_membership_team
Create Date: 2026-12-07

"""
import re

from alembic import op

# revision identifiers, used by Alembic.
revision = '0042_orgnofk'
down_revision = '0041_membership_team'
branch_labels = None
depends_on = None

TABLES = ('xapi_statements', 'xapi_activities', 'advocacy_events', 'advocacy_daily_figures')


def _fk(table: str) -> str:
    return f'fk_{table}_organization_id_organizations'


def _clause(table: str) -> str:
    return (f'CONSTRAINT {_fk(table)} FOREIGN KEY(organization_id) REFERENCES organizations '
            f'(id) ON DELETE CASCADE')


def _without_fk(table: str, sql: str) -> str:
    new, found = re.subn(r',\s*CONSTRAINT ' + _fk(table) + r' FOREIGN KEY\s*\(organization_id\)'
                         r' REFERENCES "?organizations"? \(id\) ON DELETE CASCADE', '', sql)
    assert found == 1, f'{table}: the foreign key is not where it was expected'
    return new


def _with_fk(table: str, sql: str) -> str:
    body = sql.rstrip()
    assert body.endswith(')'), table
    return f'{body[:-1].rstrip()}, \n\t{_clause(table)}\n)'


def _sqlite_rebuild(table: str, change) -> None:
    """Make the table again with ``change`` applied to its CREATE statement (SQLite cannot
    drop or add a foreign key): the same columns in the same order, rows and indexes.
    """
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' "
                               "AND name = ?", (table,)).scalar()
    indexes = list(bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL", (table,)).scalars())
    new, found = re.subn(r'^CREATE TABLE\s+("?)' + table + r'\1\s*\(',
                         f'CREATE TABLE _{table}_new (', change(table, sql))
    assert found == 1, table
    bind.exec_driver_sql(new)
    op.execute(f'INSERT INTO _{table}_new SELECT * FROM {table}')
    # Dropping the statements deletes their outbox entries (its foreign key's cascade, with
    # foreign keys on as Relais runs SQLite): they are kept aside and put back.
    keep_outbox = table == 'xapi_statements'
    if keep_outbox:
        op.execute('CREATE TEMP TABLE _xapi_outbox_kept AS SELECT * FROM xapi_outbox')
    op.execute(f'DROP TABLE {table}')
    op.execute(f'ALTER TABLE _{table}_new RENAME TO {table}')
    for index in indexes:
        bind.exec_driver_sql(index)
    if keep_outbox:
        op.execute('INSERT INTO xapi_outbox SELECT * FROM _xapi_outbox_kept '
                   'WHERE id NOT IN (SELECT id FROM xapi_outbox)')
        op.execute('DROP TABLE _xapi_outbox_kept')


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES:
        if sqlite:
            _sqlite_rebuild(table, _without_fk)
        else:
            op.drop_constraint(_fk(table), table, type_='foreignkey')


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in TABLES:
        # Rows of an organization that is gone would break the constraint.
        op.execute(f'DELETE FROM {table} WHERE organization_id NOT IN '
                   f'(SELECT id FROM organizations)')
        if sqlite:
            _sqlite_rebuild(table, _with_fk)
        else:
            op.create_foreign_key(_fk(table), table, 'organizations', ['organization_id'],
                                  ['id'], ondelete='CASCADE')
