"""xapi: the statement store partitioned by month of ``stored`` (PostgreSQL)

Statements grow without end. On PostgreSQL ``xapi_statements`` and ``xapi_statement_index``
become tables partitioned by month, so a month's rows (and their indexes) stay the size of a
month: what ingestion writes into and what a GET reads first no longer grow with the store,
and retention drops a whole month at once.

The month is carried by the statement key itself: ``pk = month << 40 | n`` (``month`` =
year × 12 + month − 1 of ``stored``, in UTC; ``n`` from the same sequence as before, unique
over the whole store). Both tables are partitioned by range of that key (``pk``, and
``statement_pk`` for the index), one partition per month of ``stored``: a lookup by key is
pruned to its month, ``PRIMARY KEY (pk)`` stays a real key (the outbox keeps its foreign
key), and the order by key is still the order of storage. Statement ids are unique per
organization through ``xapi_statement_ids`` (a partitioned table cannot have a unique index
without its partition key).

Existing rows move: each key gets its month (``pk + month << 40``), index rows, outbox
entries, retention's cursor (``privacy_retention.statements_done_pk``) and the progress
projection's newest statement seen (``module_progress.seen``) follow. Months are made from the oldest statement's to the next one; a DEFAULT
partition takes a row whose month was not made (the periodic task and ``relais
statement-months`` make them ahead). The downgrade moves the rows back into plain tables
with their old keys (the low 40 bits). SQLite keeps its plain tables.

Revision ID: 0040_statement_months
Revises: 0039_running_figures
Create Date: 2026-12-06

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0040_statement_months'
down_revision = '0039_running_figures'
branch_labels = None
depends_on = None

MONTH_SHIFT = 40
COLUMNS = ('organization_id, statement_id, actor_key, verb_id, object_type, '
           'object_activity_id, object_agent_key, object_statement_id, registration, '
           'timestamp, stored, voided, data')
# The month code of a statement's stored time (see lms.xapi.partitions.month_code).
MONTH_OF = ("(extract(year from {0} AT TIME ZONE 'UTC')::bigint * 12 "
            "+ extract(month from {0} AT TIME ZONE 'UTC')::bigint - 1)")


def _pg() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _statements_table(name: str, partitioned: bool) -> None:
    pk = 'bigint' if partitioned else "integer DEFAULT nextval('xapi_statements_pk_seq')"
    op.execute(f"""
        CREATE TABLE {name} (
            pk {pk} NOT NULL,
            organization_id integer NOT NULL,
            statement_id varchar(36) NOT NULL,
            actor_key text,
            verb_id text NOT NULL,
            object_type varchar(16) NOT NULL,
            object_activity_id text,
            object_agent_key text,
            object_statement_id varchar(36),
            registration varchar(36),
            timestamp timestamptz NOT NULL,
            stored timestamptz NOT NULL,
            voided boolean DEFAULT false NOT NULL,
            data text NOT NULL
        ){' PARTITION BY RANGE (pk)' if partitioned else ''}""")


def _index_table(name: str, partitioned: bool) -> None:
    op.execute(f"""
        CREATE TABLE {name} (
            organization_id integer NOT NULL,
            kind varchar(1) NOT NULL,
            key text NOT NULL,
            statement_pk {'bigint' if partitioned else 'integer'} NOT NULL
        ){' PARTITION BY RANGE (statement_pk)' if partitioned else ''}""")


def _constraints(partitioned: bool) -> None:
    """Keys and indexes of the two tables (after the rows are in: building is cheaper)."""
    op.execute('ALTER TABLE xapi_statements ADD CONSTRAINT pk_xapi_statements PRIMARY KEY (pk)')
    if not partitioned:
        op.execute('ALTER TABLE xapi_statements ADD CONSTRAINT '
                   'uq_xapi_statements_organization_id_statement_id '
                   'UNIQUE (organization_id, statement_id)')
    op.execute('ALTER TABLE xapi_statements ADD CONSTRAINT '
               'fk_xapi_statements_organization_id_organizations FOREIGN KEY '
               '(organization_id) REFERENCES organizations (id) ON DELETE CASCADE')
    op.execute('CREATE INDEX ix_xapi_statements_org_pk ON xapi_statements '
               '(organization_id, pk)')
    op.execute('CREATE INDEX ix_xapi_statements_org_target ON xapi_statements '
               '(organization_id, object_statement_id) WHERE object_statement_id IS NOT NULL')
    op.execute('ALTER TABLE xapi_statement_index ADD CONSTRAINT pk_xapi_statement_index '
               'PRIMARY KEY (organization_id, kind, key, statement_pk)')
    op.execute('ALTER TABLE xapi_outbox ADD CONSTRAINT '
               'fk_xapi_outbox_statement_pk_xapi_statements FOREIGN KEY (statement_pk) '
               'REFERENCES xapi_statements (pk) ON DELETE CASCADE')


def _month_name(month: int) -> str:
    return f'y{month // 12:04d}m{month % 12 + 1:02d}'


def upgrade():
    if not _pg():
        return
    op.execute('ALTER SEQUENCE xapi_statements_pk_seq OWNED BY NONE')
    op.execute('ALTER TABLE xapi_outbox DROP CONSTRAINT '
               'fk_xapi_outbox_statement_pk_xapi_statements')
    op.execute('ALTER TABLE xapi_statements RENAME TO _xapi_statements_old')
    op.execute('ALTER TABLE xapi_statement_index RENAME TO _xapi_statement_index_old')
    for old in ('pk_xapi_statements', 'uq_xapi_statements_organization_id_statement_id',
                'fk_xapi_statements_organization_id_organizations'):
        op.execute(f'ALTER TABLE _xapi_statements_old RENAME CONSTRAINT {old} TO _{old}')
    op.execute('ALTER TABLE _xapi_statement_index_old RENAME CONSTRAINT '
               'pk_xapi_statement_index TO _pk_xapi_statement_index')
    for old in ('ix_xapi_statements_org_pk', 'ix_xapi_statements_org_target'):
        op.execute(f'ALTER INDEX {old} RENAME TO _{old}')
    _statements_table('xapi_statements', partitioned=True)
    _index_table('xapi_statement_index', partitioned=True)
    bind = op.get_bind()
    now = bind.exec_driver_sql(f"SELECT {MONTH_OF.format('now()')}").scalar()
    oldest = bind.exec_driver_sql(
        f"SELECT min({MONTH_OF.format('stored')}) FROM _xapi_statements_old").scalar()
    for month in range(min(oldest if oldest is not None else now, now), now + 2):
        low, high = month << MONTH_SHIFT, (month + 1) << MONTH_SHIFT
        for table in ('xapi_statements', 'xapi_statement_index'):
            op.execute(f'CREATE TABLE {table}_{_month_name(month)} PARTITION OF {table} '
                       f'FOR VALUES FROM ({low}) TO ({high})')
    for table in ('xapi_statements', 'xapi_statement_index'):
        op.execute(f'CREATE TABLE {table}_default PARTITION OF {table} DEFAULT')
    shift = f"({MONTH_OF.format('stored')} << {MONTH_SHIFT})"
    op.execute(f'INSERT INTO xapi_statements (pk, {COLUMNS}) '
               f'SELECT pk + {shift}, {COLUMNS} FROM _xapi_statements_old')
    op.execute(f'INSERT INTO xapi_statement_index (organization_id, kind, key, statement_pk) '
               f'SELECT i.organization_id, i.kind, i.key, s.pk + {shift} '
               f'FROM _xapi_statement_index_old i '
               f'JOIN _xapi_statements_old s ON s.pk = i.statement_pk')
    op.execute('ALTER TABLE xapi_outbox ALTER COLUMN statement_pk TYPE bigint')
    op.execute(f'UPDATE xapi_outbox o SET statement_pk = s.pk + {shift} '
               f'FROM _xapi_statements_old s WHERE s.pk = o.statement_pk')
    # The progress projection's newest statement seen per row follows its key (a statement
    # gone since leaves the old number, below every new key: the row is derived again).
    op.execute('ALTER TABLE module_progress ALTER COLUMN seen TYPE bigint')
    op.execute(f'UPDATE module_progress m SET seen = s.pk + {shift} '
               f'FROM _xapi_statements_old s WHERE s.pk = m.seen')
    # Retention's cursor: every statement up to it was pseudonymised; it follows its keys.
    op.execute('ALTER TABLE privacy_retention ALTER COLUMN statements_done_pk TYPE bigint')
    op.execute(f'UPDATE privacy_retention r SET statements_done_pk = coalesce('
               f'(SELECT max(s.pk + {shift}) FROM _xapi_statements_old s '
               f'WHERE s.organization_id = r.organization_id '
               f'AND s.pk <= r.statements_done_pk), 0)')
    op.execute('DROP TABLE _xapi_statement_index_old')
    op.execute('DROP TABLE _xapi_statements_old')
    op.execute('ALTER SEQUENCE xapi_statements_pk_seq AS bigint OWNED BY xapi_statements.pk')
    # A row written without its key (none of Relais's own writes) still lands in its month.
    op.execute(f"ALTER TABLE xapi_statements ALTER COLUMN pk SET DEFAULT "
               f"({MONTH_OF.format('now()')} << {MONTH_SHIFT}) "
               f"+ nextval('xapi_statements_pk_seq')")
    _constraints(partitioned=True)
    op.execute("""
        CREATE TABLE xapi_statement_ids (
            organization_id integer NOT NULL,
            statement_id uuid NOT NULL,
            pk bigint NOT NULL,
            CONSTRAINT pk_xapi_statement_ids PRIMARY KEY (organization_id, statement_id)
        )""")
    op.execute('INSERT INTO xapi_statement_ids (organization_id, statement_id, pk) '
               'SELECT organization_id, statement_id::uuid, pk FROM xapi_statements')


def downgrade():
    if not _pg():
        return
    low = f'& {(1 << MONTH_SHIFT) - 1}'
    op.execute('DROP TABLE xapi_statement_ids')
    op.execute('ALTER TABLE xapi_outbox DROP CONSTRAINT '
               'fk_xapi_outbox_statement_pk_xapi_statements')
    op.execute('ALTER TABLE xapi_statements ALTER COLUMN pk DROP DEFAULT')
    op.execute('ALTER SEQUENCE xapi_statements_pk_seq OWNED BY NONE')
    op.execute('ALTER TABLE xapi_statements RENAME TO _xapi_statements_new')
    op.execute('ALTER TABLE xapi_statement_index RENAME TO _xapi_statement_index_new')
    for old in ('pk_xapi_statements', 'fk_xapi_statements_organization_id_organizations'):
        op.execute(f'ALTER TABLE _xapi_statements_new RENAME CONSTRAINT {old} TO _{old}')
    op.execute('ALTER TABLE _xapi_statement_index_new RENAME CONSTRAINT '
               'pk_xapi_statement_index TO _pk_xapi_statement_index')
    for old in ('ix_xapi_statements_org_pk', 'ix_xapi_statements_org_target'):
        op.execute(f'ALTER INDEX {old} RENAME TO _{old}')
    op.execute('ALTER SEQUENCE xapi_statements_pk_seq AS integer')
    _statements_table('xapi_statements', partitioned=False)
    _index_table('xapi_statement_index', partitioned=False)
    op.execute(f'INSERT INTO xapi_statements (pk, {COLUMNS}) '
               f'SELECT pk {low}, {COLUMNS} FROM _xapi_statements_new')
    op.execute('INSERT INTO xapi_statement_index (organization_id, kind, key, statement_pk) '
               f'SELECT organization_id, kind, key, statement_pk {low} '
               f'FROM _xapi_statement_index_new')
    op.execute(f'UPDATE xapi_outbox SET statement_pk = statement_pk {low}')
    op.execute('ALTER TABLE xapi_outbox ALTER COLUMN statement_pk TYPE integer')
    op.execute(f'UPDATE module_progress SET seen = seen {low}')
    op.execute('ALTER TABLE module_progress ALTER COLUMN seen TYPE integer')
    op.execute(f'UPDATE privacy_retention SET statements_done_pk = statements_done_pk {low}')
    op.execute('ALTER TABLE privacy_retention ALTER COLUMN statements_done_pk TYPE integer')
    op.execute('DROP TABLE _xapi_statement_index_new')
    op.execute('DROP TABLE _xapi_statements_new')
    op.execute('ALTER SEQUENCE xapi_statements_pk_seq OWNED BY xapi_statements.pk')
    _constraints(partitioned=False)
