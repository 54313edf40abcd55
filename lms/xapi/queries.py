"""Reads of the statement store: one statement, filtered pages, activities, attachments.

Every filtered read walks one index in key order (``xapi_statement_index`` primary key:
organization, key hash, statement pk), joins the other filters by primary key and stops at the
page size, so its cost depends on the page, not on the size of the store. A filter's kind and
key are looked up as their hash (:func:`lms.xapi.index_keys.index_key`): ``key_hash = ?``,
and a related filter ``key_hash IN (?, ?)`` (its direct and related kinds); a related filter
that drives the read still walks its two kinds as two ranges, each in key order.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import select

from lms.core.database import driver_sql, time_processor
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi import partitions
from lms.xapi.index_keys import index_key
from lms.xapi.models import Activity, Statement, StatementAttachment

# Which filter drives a query when several are given: the most selective kinds first.
DRIVING_ORDER = ("r", "a", "o", "A", "O", "v")


def get_statement(organization_id: int, statement_id: str) -> Any:
    """The stored statement with this id (pk, data, voided, stored), or None."""
    if partitions.partitioned():
        # The id table gives the key, the key its month: one partition read.
        pk = partitions.keys_of(organization_id, [statement_id.lower()]).get(
            statement_id.lower())
        if pk is None:
            return None
        return db.session.execute(
            select(Statement.pk, Statement.data, Statement.voided, Statement.stored).where(
                Statement.pk == pk)).first()
    return db.session.execute(
        select(Statement.pk, Statement.data, Statement.voided, Statement.stored).where(
            Statement.organization_id == organization_id,
            Statement.statement_id == statement_id.lower())).first()


# A related filter also matches the direct kind (see models.StatementIndex).
WIDER = {"A": ("a", "A"), "O": ("o", "O")}


class Found(NamedTuple):
    """A statement of a filtered page: its pk (the ``more`` cursor), JSON and ``stored``."""

    pk: int
    data: str
    stored: datetime


def find_statements(organization_id: int, *, filters: dict[str, str],
                    since: datetime | None = None, until: datetime | None = None,
                    ascending: bool = False, after_pk: int | None = None,
                    limit: int = 100) -> list[Found]:
    """A page of non-voided statements matching every filter, in storage order.

    :param filters: index kind → key (see ``models.StatementIndex``).
    :param after_pk: continue after this statement (the ``more`` cursor).
    :return: rows (pk, data, stored), at most ``limit``.
    """
    if partitions.partitioned():
        return _by_months(organization_id, filters, since, until, ascending, after_pk, limit)
    kinds = sorted(filters, key=DRIVING_ORDER.index)
    if not kinds:
        return _page(organization_id, None, [], filters, since, until, ascending, after_pk,
                     limit)
    # The driving filter walks the index in pk order; a related one walks two ranges (direct
    # and related rows), each ordered and limited, merged here.
    rows: dict[int, Found] = {}
    for driver_kind in WIDER.get(kinds[0], (kinds[0],)):
        for row in _page(organization_id, driver_kind, kinds[1:], filters, since, until,
                         ascending, after_pk, limit):
            rows[row.pk] = row
    ordered = sorted(rows.values(), key=lambda row: row.pk, reverse=not ascending)
    return ordered[:limit]


def _by_months(organization_id: int, filters: dict[str, str], since: datetime | None,
               until: datetime | None, ascending: bool, after_pk: int | None,
               limit: int) -> list[Found]:
    """find_statements on the monthly partitions: the months are read in the page's order
    (newest first, or oldest first when ascending), the first month alone, then as many
    months as its rate of matches says the page still needs (all the rest if it had none),
    each read limited to what the page still lacks; the reads stop once the page is full. A
    read names its range of keys, so PostgreSQL plans and opens only those months'
    partitions: a page found in the newest month costs what it costs on one month's table,
    not on every month's. ``since``, ``until`` and the ``more`` cursor narrow the months.
    """
    # The key ranges that bound the whole read: since/until's months, the cursor. An hour
    # ahead of now: another process's clock may already be in the next month.
    floor: int | None = None
    ceiling = partitions.key_floor(partitions.month_code(utcnow() + timedelta(hours=1)) + 1)
    if since is not None:
        floor = partitions.key_floor(partitions.month_code(since))
    if until is not None:
        ceiling = min(ceiling, partitions.key_floor(partitions.month_code(until) + 1))
    if after_pk is not None:  # to its month: the cursor itself is a parameter (see _page)
        if ascending:
            floor = max(floor or 0, partitions.key_floor(partitions.month_of_key(after_pk)))
        else:
            ceiling = min(ceiling, partitions.key_floor(partitions.month_of_key(after_pk) + 1))
    newest = partitions.month_of_key(ceiling - 1)
    oldest = min(newest, max(partitions.oldest_month(),
                             partitions.month_of_key(floor) if floor is not None else 0))
    # How much of the current month has passed: early in a month, its partition holds a few
    # days of statements, not a month's.
    now = utcnow()
    this_month = partitions.month_code(now)
    start, next_start = (partitions.month_start(m).replace(tzinfo=UTC)
                         for m in (this_month, this_month + 1))
    elapsed = max(0.1, (now - start) / (next_start - start))
    found: list[Found] = []
    # Keys under the oldest month's (down to the floor) can only be in the DEFAULT partition
    # (a month made late, older than every month made): an arm of their own in the read that
    # reaches the oldest month. So a read of months names whole months only, and PostgreSQL
    # leaves the DEFAULT partition out of it when every one of those months has its
    # partition: the months' index then gives the page's order as it is — with the DEFAULT
    # partition in, it had to merge two ordered scans, and for a key it thinks has fewer
    # rows than the page it read them all and sorted them instead.
    bottom = partitions.key_floor(oldest)
    under = (floor, bottom) if floor is None or floor < bottom else None
    step = 1 if ascending else -1
    first, span = (oldest if ascending else newest), 1
    while len(found) < limit:
        end = first + step * (span - 1)
        low_month, high_month = min(first, end), max(first, end)
        low = max(partitions.key_floor(max(low_month, oldest)), floor or 0)
        high = partitions.key_floor(min(high_month, newest) + 1)  # the ceiling at the top
        # The read that reaches the oldest month (the last one, or the first when
        # ascending) also reads the keys under it, in the same query.
        rows = _window(organization_id, filters, since, until, ascending, after_pk,
                       limit - len(found), low, high,
                       under if low_month <= oldest else None)
        found.extend(rows)
        if (low_month <= oldest and not ascending) or (high_month >= newest and ascending):
            break
        # The next read spans the months these ones' rate says the page still needs (one
        # more for luck); all the rest when they found nothing.
        missing = limit - len(found)
        covered = span - (1 - elapsed if low_month <= this_month <= high_month else 0)
        span = math.ceil(missing * covered / len(rows)) + 1 if rows else 100_000
        first = end + step
    return found


def _window(organization_id: int, filters: dict[str, str], since: datetime | None,
            until: datetime | None, ascending: bool, after_pk: int | None, limit: int,
            low: int | None, high: int | None,
            under: tuple[int | None, int] | None = None) -> list[Found]:
    """A page of statements among the keys ``low`` ≤ pk < ``high`` (when given), and among
    the keys of ``under`` (the same, under the oldest month) when given: what
    :func:`_find` reads, on the partitions of those months only. One query: a related
    filter's two kinds and ``under`` are arms of a ``UNION ALL``, each ordered and limited
    on its own, merged here.
    """
    kinds = sorted(filters, key=DRIVING_ORDER.index)
    drivers: tuple[str | None, ...] = WIDER.get(kinds[0], (kinds[0],)) if kinds else (None,)
    ranges = [(low, high)] if under is None else [(low, high), under]
    arms: list[str] = []
    params: list[Any] = []
    for driver_kind in drivers:
        for arm_low, arm_high in ranges:
            arms.append(_window_sql(driver_kind, tuple(kinds[1:]), since is not None,
                                    until is not None, after_pk is not None, ascending,
                                    arm_low, arm_high))
            params.append(organization_id)
            if driver_kind is not None:
                params.append(index_key(driver_kind, filters[
                    "A" if driver_kind == "a" and "A" in filters else
                    "O" if driver_kind == "o" and "O" in filters else driver_kind]))
                for kind in kinds[1:]:
                    params += [organization_id, *(index_key(k, filters[kind])
                                                  for k in WIDER.get(kind, (kind,)))]
            # In the order of the text: the cursor bounds the index's keys (driven reads),
            # the times the statements.
            if driver_kind is not None and after_pk is not None:
                params.append(after_pk)
            params += [value for value in (since, until) if value is not None]
            if driver_kind is None and after_pk is not None:
                params.append(after_pk)
            params.append(limit)
    sql = arms[0] if len(arms) == 1 else " UNION ALL ".join(f"({arm})" for arm in arms)
    rows = {pk: Found(pk, data, stored.astimezone(UTC))
            for pk, data, stored in driver_sql(sql, tuple(params)).rows}
    ordered = sorted(rows.values(), key=lambda row: row.pk, reverse=not ascending)
    return ordered[:limit]


@lru_cache(maxsize=4096)
def _window_sql(driver_kind: str | None, others: tuple[str, ...], since: bool, until: bool,
                after: bool, ascending: bool, low: int | None, high: int | None) -> str:
    """The SQL of :func:`_window` (written once per shape: no query construct to build and
    compile on each read). The months' key bounds are constants of the text:
    the plan psycopg prepares after five runs of a text, made once for any key, then names
    only those months' partitions (PostgreSQL prunes partitions by each table's own
    conditions; it does not carry a range across a join, hence the bounds on every table).
    """
    def bounds(column: str) -> str:
        return (f" AND {column} >= {int(low)}" if low is not None else "") + \
            (f" AND {column} < {int(high)}" if high is not None else "")

    direction = "ASC" if ascending else "DESC"
    if driver_kind is None:
        sql = ("SELECT s.pk, s.data, s.stored FROM xapi_statements s WHERE s.organization_id = ? "
               "AND s.voided IS false" + bounds("s.pk"))
        if since:
            sql += " AND s.stored > ?"
        if until:
            sql += " AND s.stored <= ?"
        if after:
            sql += f" AND s.pk {'>' if ascending else '<'} ?"
        return sql + f" ORDER BY s.pk {direction} LIMIT ?"
    # The keys first, in the page's order, from the index alone (OFFSET 0: a subquery
    # PostgreSQL plans apart, not merged into the join); then each key's statement, in that
    # order, until the page is full. As one join, a key PostgreSQL thinks has fewer rows
    # than the page (an activity's 500 estimated at 55: its statistics multiply the kind's
    # and the key's frequencies) made it fetch every statement of the key, then sort them:
    # 500 statements read for 100 kept. Here the index rows are what may be sorted (a few
    # bytes each, no statement read), and only the page's statements are read.
    sql = ("SELECT s.pk, s.data, s.stored FROM (SELECT d.statement_pk "
           "FROM xapi_statement_index d "
           "WHERE d.organization_id = ? AND d.key_hash = ?" + bounds("d.statement_pk"))
    for i, kind in enumerate(others):
        wanted = ", ".join("?" for _k in WIDER.get(kind, (kind,)))
        # OFFSET 0 keeps each other filter a check of the driver's rows: PostgreSQL does
        # not turn it into a join it may drive from (the prepared plan, made without the
        # keys, drove from the verb — thousands of rows a month — for an agent's few).
        sql += (f" AND EXISTS (SELECT 1 FROM xapi_statement_index o{i} "
                f"WHERE o{i}.organization_id = ? AND o{i}.key_hash IN ({wanted}) "
                f"AND o{i}.statement_pk = d.statement_pk"
                + bounds(f"o{i}.statement_pk") + " OFFSET 0)")
    if after:
        sql += f" AND d.statement_pk {'>' if ascending else '<'} ?"
    # The statement of each key (a lateral subquery, OFFSET 0: read once per key, in the
    # keys' order, never as a join of the whole table).
    sql += (f" ORDER BY d.statement_pk {direction} OFFSET 0) d CROSS JOIN LATERAL "
            "(SELECT s.pk, s.data, s.stored FROM xapi_statements s "
            "WHERE s.pk = d.statement_pk AND s.voided IS false" + bounds("s.pk"))
    if since:
        sql += " AND s.stored > ?"
    if until:
        sql += " AND s.stored <= ?"
    return sql + f" OFFSET 0) s ORDER BY d.statement_pk {direction} LIMIT ?"


def _page(organization_id: int, driver_kind: str | None, others: list[str],
          filters: dict[str, str], since: datetime | None, until: datetime | None,
          ascending: bool, after_pk: int | None, limit: int) -> list[Found]:
    # Driver SQL, not a SQLAlchemy construct: building, caching and compiling the select and
    # processing its rows cost about as much CPU as the GET's query itself at 1,000,000
    # stored (see docs/performance.md, "The LRS").
    params: list[Any] = [organization_id]
    if driver_kind is not None:
        key = filters["A" if driver_kind == "a" and "A" in filters else
                      "O" if driver_kind == "o" and "O" in filters else driver_kind]
        sql = ["SELECT s.pk, s.data, s.stored FROM xapi_statement_index i "
               "JOIN xapi_statements s ON s.pk = i.statement_pk "
               "WHERE i.organization_id = ? AND i.key_hash = ?"]
        params.append(index_key(driver_kind, key))
        order = "i.statement_pk"
        for n, kind in enumerate(others):
            wider = WIDER.get(kind, (kind,))
            sql.append(f" AND EXISTS (SELECT 1 FROM xapi_statement_index j{n} "
                       f"WHERE j{n}.organization_id = ? AND j{n}.key_hash IN "
                       f"({', '.join('?' * len(wider))}) "
                       f"AND j{n}.statement_pk = i.statement_pk)")
            params += [organization_id, *(index_key(k, filters[kind]) for k in wider)]
    else:
        sql = ["SELECT s.pk, s.data, s.stored FROM xapi_statements s WHERE s.organization_id = ?"]
        order = "s.pk"
    sql.append(" AND NOT s.voided")
    as_time = time_processor()
    if since is not None:
        sql.append(" AND s.stored > ?")
        params.append(as_time(since))
    if until is not None:
        sql.append(" AND s.stored <= ?")
        params.append(as_time(until))
    if after_pk is not None:
        sql.append(f" AND {order} {'>' if ascending else '<'} ?")
        params.append(after_pk)
    sql.append(f" ORDER BY {order} {'ASC' if ascending else 'DESC'} LIMIT ?")
    params.append(limit)
    return [Found(pk, data, _utc(stored))
            for pk, data, stored in driver_sql("".join(sql), tuple(params)).rows]


def _utc(value: Any) -> datetime:
    """A stored timestamp as the column type reads it: aware, in UTC (SQLite gives text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def activity_definitions(organization_id: int, activity_ids: list[str]) -> dict[str, Any]:
    """Canonical definitions (JSON text) of the given activities, by id."""
    if not activity_ids:
        return {}
    rows = db.session.execute(select(Activity.activity_id, Activity.definition).where(
        Activity.organization_id == organization_id, Activity.activity_id.in_(activity_ids)))
    return {row.activity_id: row.definition for row in rows}


def attachment_contents(organization_id: int, hashes: list[str]
                        ) -> list[tuple[str, str, bytes]]:
    """Stored attachment contents (sha2, content type, bytes) among ``hashes``."""
    if not hashes:
        return []
    rows = db.session.execute(select(StatementAttachment.sha2, StatementAttachment.content_type,
                                     StatementAttachment.content).where(
        StatementAttachment.organization_id == organization_id,
        StatementAttachment.sha2.in_(hashes)))
    return [(r.sha2, r.content_type, r.content) for r in rows]
