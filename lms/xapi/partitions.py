"""Monthly partitions of the statement store (PostgreSQL; SQLite keeps plain tables).

``xapi_statements`` and ``xapi_statement_index`` are partitioned by range of the statement key,
whose high bits are the month of ``stored``: ``pk = month << 40 | n`` (migration 0040). A
month's rows, and their indexes, live in one partition per table; a DEFAULT partition takes a
row whose month was not made yet. Months are made ahead by a periodic task and by ``relais
statement-months``; retention drops a month once every statement in it may go.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from lms.core.database import driver_sql, run_sql
from lms.core.models import utcnow
from lms.extensions import db

MONTH_SHIFT = 40
LOW_BITS = (1 << MONTH_SHIFT) - 1
TABLES = ("xapi_statements", "xapi_statement_index")
# Key column of each partitioned table.
KEY = {"xapi_statements": "pk", "xapi_statement_index": "statement_pk"}
_NAME = re.compile(r"^xapi_statements_y(\d{4})m(\d{2})$")


def month_code(moment: datetime) -> int:
    """The month of a UTC moment as one number (year × 12 + month − 1)."""
    return moment.year * 12 + moment.month - 1


def month_start(month: int) -> datetime:
    """The first instant of a month (naive UTC, as the store's datetimes are compared)."""
    return datetime(month // 12, month % 12 + 1, 1)  # noqa: DTZ001 - compared as UTC


def key_floor(month: int) -> int:
    """The smallest statement key of a month."""
    return month << MONTH_SHIFT


def month_of_key(pk: int) -> int:
    """The month a statement key belongs to."""
    return pk >> MONTH_SHIFT


def month_name(month: int) -> str:
    """The suffix of a month's partitions: ``y2026m12``."""
    return f"y{month // 12:04d}m{month % 12 + 1:02d}"


# Whether this database's store is partitioned, by engine URL: PostgreSQL after migration
# 0040. Asked once per process (the schema does not change under a running app).
_PARTITIONED: dict[Any, bool] = {}


def partitioned() -> bool:
    """Whether the statement store of the current database is partitioned by month."""
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    # By the engine's URL as it is (rendering it as text cost more than a batch's lookups).
    url = bind.engine.url
    if url not in _PARTITIONED:
        _PARTITIONED[url] = bool(run_sql(
            "SELECT count(*) FROM pg_partitioned_table t JOIN pg_class c ON c.oid = t.partrelid "
            "WHERE c.relname = 'xapi_statements' AND c.relnamespace = "
            "to_regnamespace(current_schema())::oid").scalar())
    return _PARTITIONED[url]


_OLDEST: dict[str, tuple[float, int]] = {}
_OLDEST_SECONDS = 600


def months() -> list[int]:
    """The months that have a partition, oldest first."""
    rows = run_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass('xapi_statements')").scalars()
    found = []
    for name in rows:
        match = _NAME.match(name)
        if match:
            found.append(int(match[1]) * 12 + int(match[2]) - 1)
    return sorted(found)


def oldest_month() -> int:
    """The oldest month with a partition (remembered for ten minutes: a month dropped since
    only costs a read that finds nothing; the current month if none).
    """
    url = db.engine.url.render_as_string(hide_password=True)
    cached = _OLDEST.get(url)
    if cached is None or time.monotonic() - cached[0] > _OLDEST_SECONDS:
        found = months()
        cached = (time.monotonic(), found[0] if found else month_code(utcnow()))
        _OLDEST[url] = cached
    return cached[1]


def create_month(month: int) -> bool:
    """Make a month's partitions if missing (True if made). Rows of that month that fell into
    the DEFAULT partition move into it: the month is built beside the table, filled from the
    default partition, then attached (attaching checks the rows and builds the indexes).
    """
    name = month_name(month)
    low, high = key_floor(month), key_floor(month + 1)
    made = False
    for table in TABLES:
        if run_sql(f"SELECT to_regclass('{table}_{name}')").scalar() is not None:
            continue
        key = KEY[table]
        run_sql(f"CREATE TABLE {table}_{name} (LIKE {table} INCLUDING DEFAULTS)")
        run_sql(f"WITH moved AS (DELETE FROM {table}_default WHERE {key} >= {low} "
                f"AND {key} < {high} RETURNING *) INSERT INTO {table}_{name} "
                f"SELECT * FROM moved")
        run_sql(f"ALTER TABLE {table} ATTACH PARTITION {table}_{name} "
                f"FOR VALUES FROM ({low}) TO ({high})")
        made = True
    return made


def create_months(ahead: int = 2) -> list[int]:
    """Make the partitions of this month and the ``ahead`` next ones; the months made."""
    if not partitioned():
        return []
    now = month_code(utcnow())
    return [month for month in range(now, now + ahead + 1) if create_month(month)]


def drop_month(month: int) -> None:
    """Drop a month's partitions (the caller checked every statement in it may go). The
    outbox rows of its statements go first: their foreign key would forbid the detach.
    """
    name = month_name(month)
    low, high = key_floor(month), key_floor(month + 1)
    run_sql(f"DELETE FROM xapi_outbox WHERE statement_pk >= {low} AND statement_pk < {high}")
    run_sql(f"DELETE FROM xapi_statement_ids WHERE pk >= {low} AND pk < {high}")
    for table in TABLES:
        if run_sql(f"SELECT to_regclass('{table}_{name}')").scalar() is None:
            continue
        run_sql(f"ALTER TABLE {table} DETACH PARTITION {table}_{name}")
        run_sql(f"DROP TABLE {table}_{name}")
    _OLDEST.clear()


def keys_of(organization_id: int, statement_ids: list[str]) -> dict[str, int]:
    """The keys of the organization's stored statements with these ids (lower case), by id."""
    if not statement_ids:
        return {}
    rows = driver_sql(
        "SELECT i.statement_id::text AS sid, i.pk FROM unnest(%b::text[]) AS wanted(value) "
        "JOIN xapi_statement_ids i ON i.organization_id = %s "
        "AND i.statement_id = wanted.value::uuid",
        (list(dict.fromkeys(statement_ids)), organization_id)).rows
    return {row.sid: row.pk for row in rows}


def month_summary(month: int) -> tuple[dict[int, int], bool]:
    """(the largest statement key of each organization with statements in the month, whether
    one of them still waits to be forwarded): what retention needs to know before dropping it.
    """
    low, high = key_floor(month), key_floor(month + 1)
    last = {row[0]: row[1] for row in run_sql(
        f"SELECT organization_id, max(pk) FROM xapi_statements WHERE pk >= {low} "
        f"AND pk < {high} GROUP BY organization_id")}
    waiting = run_sql(
        f"SELECT 1 FROM xapi_outbox WHERE statement_pk >= {low} AND statement_pk < {high} "
        f"AND status = 'pending' LIMIT 1").first() is not None
    return last, waiting
