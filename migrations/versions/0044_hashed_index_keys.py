"""xapi: the filter index keyed by a 64-bit hash of (kind, key) instead of their text

``xapi_statement_index`` was (organization_id, kind, key, statement_pk): the key the text of an
IRI or an agent key, tens of bytes in every row and in its primary key. Its rows become
(organization_id, key_hash, statement_pk), ``key_hash`` the signed 64-bit BLAKE2b hash of
``kind + "\\x1f" + key`` (``lms.xapi.index_keys.index_key``, copied below: a migration must
not change when the app's code does). Each row costs less to insert, and the index is about
half the size (docs/performance.md, "Hashed index keys").

Upgrade: the hash of each distinct (kind, key) is computed here, in Python, into a temporary
table; the rows are written again into a new table (PostgreSQL: the same monthly partitions
and DEFAULT partition, new heaps, so the dropped text does not stay in place as a dropped
column would), the primary key built after the rows are in, and the old table dropped. About
the time of copying the table once (docs/production.md gives a measured rate).

Downgrade: the hashes cannot be turned back into keys: the text rows are computed again from
the statements' JSON, with the rules of the statement store when this migration was written
(``lms.xapi.record.index_rows``; a statement whose object is a StatementRef also gets its
target's rows).

Revision ID: 0044_hashed_index_keys
Revises: 0043_team_weeks
Create Date: 2026-12-07

"""
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from alembic import op

# revision identifiers, used by Alembic.
revision = '0044_hashed_index_keys'
down_revision = '0043_team_weeks'
branch_labels = None
depends_on = None

TABLE = 'xapi_statement_index'
_BATCH = 20_000


def index_key(kind: str, key: str) -> int:
    """A copy of lms.xapi.index_keys.index_key as this migration wrote the rows."""
    return int.from_bytes(hashlib.blake2b((kind + '\x1f' + key).encode(), digest_size=8)
                          .digest(), 'big', signed=True)


def _pg() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _insert(sql_pg: str, sql_sqlite: str, rows: list[tuple[Any, ...]],
            pg_types: tuple[str, ...]) -> None:
    """Insert rows (tuples) in one statement per batch: arrays on PostgreSQL, executemany
    on SQLite."""
    if not rows:
        return
    bind = op.get_bind()
    if _pg():
        columns = [list(column) for column in zip(*rows, strict=True)]
        bind.exec_driver_sql(sql_pg.format(*(f'%s::{t}[]' for t in pg_types)), tuple(columns))
    else:
        bind.exec_driver_sql(sql_sqlite, rows)


def _batches(sql: str) -> Iterable[list[Any]]:
    """The rows of a query in batches, read as they come (a server-side cursor on
    PostgreSQL): the whole table never sits in memory."""
    result = op.get_bind().exec_driver_sql(
        sql, execution_options={'stream_results': True, 'yield_per': _BATCH})
    while True:
        rows = result.fetchmany(_BATCH)
        if not rows:
            break
        yield rows
    result.close()


def _partitions() -> list[tuple[str, str]]:
    """(name, bound: ``FOR VALUES FROM (…) TO (…)`` or ``DEFAULT``) of the table's
    partitions (PostgreSQL)."""
    return [(row[0], row[1]) for row in op.get_bind().exec_driver_sql(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid "
        f"WHERE i.inhparent = '{TABLE}'::regclass ORDER BY c.relname")]


def _rebuild(columns: str, primary_key: str, fill: Callable[[str, str], None]) -> None:
    """Make the table again with ``columns`` (DDL) and ``primary_key`` (its columns), the
    rows written by ``fill(source, target)``, then drop the old one. PostgreSQL keeps the
    partitions (same names and bounds); the primary key is built once the rows are in."""
    bind = op.get_bind()
    if not _pg():
        op.execute(f'CREATE TABLE _{TABLE}_new ({columns}, CONSTRAINT pk_{TABLE} '
                   f'PRIMARY KEY ({primary_key})) WITHOUT ROWID')
        fill(TABLE, f'_{TABLE}_new')
        op.execute(f'DROP TABLE {TABLE}')
        op.execute(f'ALTER TABLE _{TABLE}_new RENAME TO {TABLE}')
        return
    parts = _partitions()
    op.execute(f'ALTER TABLE {TABLE} RENAME TO _{TABLE}_old')
    op.execute(f'ALTER TABLE _{TABLE}_old RENAME CONSTRAINT pk_{TABLE} TO _pk_{TABLE}_old')
    for name, _bound in parts:
        op.execute(f'ALTER TABLE {name} RENAME TO _old_{name}')
        for (index,) in bind.exec_driver_sql(
                f"SELECT indexrelid::regclass::text FROM pg_index "
                f"WHERE indrelid = '_old_{name}'::regclass").all():
            op.execute(f'ALTER INDEX {index} RENAME TO {("_old_" + index)[:63]}')
    op.execute(f'CREATE TABLE {TABLE} ({columns}) PARTITION BY RANGE (statement_pk)')
    for name, bound in parts:
        op.execute(f'CREATE TABLE {name} PARTITION OF {TABLE} {bound}')
    fill(f'_{TABLE}_old', TABLE)
    op.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT pk_{TABLE} PRIMARY KEY ({primary_key})')
    op.execute(f'DROP TABLE _{TABLE}_old')  # its partitions with it


def _hashed(source: str, target: str) -> None:
    """Fill ``target`` with the hashed rows of ``source``: each distinct (kind, key) hashed
    once, here, into a temporary table joined to the rows."""
    bind = op.get_bind()
    if _pg():
        bind.exec_driver_sql('CREATE TEMP TABLE _index_keys (kind text NOT NULL, '
                             'key text NOT NULL, key_hash bigint NOT NULL)')
    else:
        bind.exec_driver_sql('CREATE TEMP TABLE _index_keys (kind TEXT NOT NULL, '
                             'key TEXT NOT NULL, key_hash BIGINT NOT NULL, '
                             'PRIMARY KEY (kind, key)) WITHOUT ROWID')
    keys: list[tuple[str, str, int]] = []
    for rows in _batches(f'SELECT DISTINCT kind, key FROM {source}'):
        keys.extend((kind, key, index_key(kind, key)) for kind, key in rows)
        if len(keys) >= _BATCH:
            _insert('INSERT INTO _index_keys SELECT * FROM unnest({}, {}, {})',
                    'INSERT INTO _index_keys VALUES (?, ?, ?)', keys, ('text', 'text', 'bigint'))
            keys = []
    _insert('INSERT INTO _index_keys SELECT * FROM unnest({}, {}, {})',
            'INSERT INTO _index_keys VALUES (?, ?, ?)', keys, ('text', 'text', 'bigint'))
    if _pg():
        bind.exec_driver_sql('ANALYZE _index_keys')
    order = '' if _pg() else ' ORDER BY 1, 2, 3'  # SQLite: in the primary key's order
    bind.exec_driver_sql(
        f'INSERT INTO {target} (organization_id, key_hash, statement_pk) '
        f'SELECT i.organization_id, m.key_hash, i.statement_pk FROM {source} i '
        f'JOIN _index_keys m ON m.kind = i.kind AND m.key = i.key{order}')
    bind.exec_driver_sql('DROP TABLE _index_keys')


def _texts(_source: str, target: str) -> None:
    """Fill ``target`` with the text rows computed from the statements' JSON."""
    # The statement store's rules as they were when this migration was written.
    from lms.xapi.record import index_rows

    def write(rows: list[tuple[int, str, str, int]]) -> None:
        _insert(f'INSERT INTO {target} (organization_id, kind, key, statement_pk) '
                'SELECT * FROM unnest({}, {}, {}, {})',
                f'INSERT INTO {target} (organization_id, kind, key, statement_pk) '
                'VALUES (?, ?, ?, ?)', rows, ('int', 'text', 'text', 'bigint'))

    refs: list[tuple[int, int, str, set[tuple[str, str]]]] = []
    pending: list[tuple[int, str, str, int]] = []
    for rows in _batches('SELECT pk, organization_id, object_statement_id, data '
                         'FROM xapi_statements'):
        for pk, organization_id, target_id, data in rows:
            keys = index_rows(json.loads(data))
            if target_id is not None:  # completed with its target's rows below
                refs.append((pk, organization_id, target_id, keys))
                continue
            pending.extend((organization_id, kind, key, pk) for kind, key in keys)
        if len(pending) >= _BATCH:
            write(pending)
            pending = []
    bind = op.get_bind()
    # PostgreSQL finds a statement by id through the id table (migration 0040).
    target_sql = ('SELECT s.data FROM xapi_statement_ids i JOIN xapi_statements s '
                  'ON s.pk = i.pk WHERE i.organization_id = %s AND i.statement_id = %s::uuid'
                  if _pg() else 'SELECT data FROM xapi_statements WHERE organization_id = ? '
                  'AND statement_id = ?')
    for pk, organization_id, target_id, keys in refs:
        found = bind.exec_driver_sql(target_sql, (organization_id, target_id)).first()
        if found is not None:
            keys = keys | index_rows(json.loads(found[0]))
        pending.extend((organization_id, kind, key, pk) for kind, key in keys)
        if len(pending) >= _BATCH:
            write(pending)
            pending = []
    write(pending)


def upgrade():
    key_type = 'bigint' if _pg() else 'INTEGER'
    _rebuild(f'organization_id integer NOT NULL, key_hash bigint NOT NULL, '
             f'statement_pk {key_type} NOT NULL',
             'organization_id, key_hash, statement_pk', _hashed)


def downgrade():
    key_type = 'bigint' if _pg() else 'INTEGER'
    _rebuild(f'organization_id integer NOT NULL, kind varchar(1) NOT NULL, key text NOT NULL, '
             f'statement_pk {key_type} NOT NULL',
             'organization_id, kind, key, statement_pk', _texts)
