"""Reads of the statement store: one statement, filtered pages, activities, attachments.

Every filtered read walks one index in key order (``xapi_statement_index`` primary key:
organization, kind, key, statement pk), joins the other filters by primary key and stops at the
page size, so its cost depends on the page, not on the size of the store.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, literal_column, select
from sqlalchemy.orm import aliased

from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi import partitions
from lms.xapi.models import Activity, Statement, StatementAttachment, StatementIndex

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


def find_statements(organization_id: int, *, filters: dict[str, str],
                    since: datetime | None = None, until: datetime | None = None,
                    ascending: bool = False, after_pk: int | None = None,
                    limit: int = 100) -> list[Row[Any]]:
    """A page of non-voided statements matching every filter, in storage order.

    :param filters: index kind → key (see ``models.StatementIndex``).
    :param after_pk: continue after this statement (the ``more`` cursor).
    :return: rows (pk, data, stored), at most ``limit``.
    """
    if partitions.partitioned():
        return _by_months(organization_id, filters, since, until, ascending, after_pk, limit)
    return _find(organization_id, filters, since, until, ascending, after_pk, limit)


def _by_months(organization_id: int, filters: dict[str, str], since: datetime | None,
               until: datetime | None, ascending: bool, after_pk: int | None,
               limit: int) -> list[Row[Any]]:
    """find_statements on the monthly partitions: the months are read in the page's order
    (newest first, or oldest first when ascending), a few at a time — one, then two, four…
    — each read limited to what the page still lacks, and stop once it is full. A read names
    its range of keys, so PostgreSQL plans and opens only those months' partitions: the
    common page, found in the newest month, costs what it costs on one month's table, not on
    every month's. ``since``, ``until`` and the ``more`` cursor narrow the months read.
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
    found: list[Row[Any]] = []
    step = 1 if ascending else -1
    first, span = (oldest if ascending else newest), 1
    while len(found) < limit:
        end = first + step * (span - 1)
        low_month, high_month = min(first, end), max(first, end)
        # The far end stays open (down to the floor, up to the ceiling): rows of a month
        # made late are in the DEFAULT partition, which a range no month covers reads.
        low = floor if low_month <= oldest else partitions.key_floor(low_month)
        high = ceiling if high_month >= newest else partitions.key_floor(high_month + 1)
        rows = _find(organization_id, filters, since, until, ascending, after_pk,
                     limit - len(found), low, high, by_month=True)
        found.extend(rows)
        if (low_month <= oldest and not ascending) or (high_month >= newest and ascending):
            break
        # The next read spans the months these ones' rate says the page still needs (one
        # more for luck); all the rest when they found nothing.
        missing = limit - len(found)
        span = -(-missing * span // len(rows)) + 1 if rows else 100_000
        first = end + step
    return found


def _find(organization_id: int, filters: dict[str, str], since: datetime | None,
          until: datetime | None, ascending: bool, after_pk: int | None, limit: int,
          low: int | None = None, high: int | None = None, by_month: bool = False
          ) -> list[Row[Any]]:
    """A page of statements among the keys ``low`` ≤ pk < ``high`` (when given)."""
    kinds = sorted(filters, key=DRIVING_ORDER.index)
    if not kinds:
        return _page(organization_id, None, [], filters, since, until, ascending, after_pk,
                     limit, low, high, by_month)
    # The driving filter walks the index in pk order; a related one walks two ranges (direct
    # and related rows), each ordered and limited, merged here.
    rows: dict[int, Row[Any]] = {}
    for driver_kind in WIDER.get(kinds[0], (kinds[0],)):
        for row in _page(organization_id, driver_kind, kinds[1:], filters, since, until,
                         ascending, after_pk, limit, low, high, by_month):
            rows[row.pk] = row
    ordered = sorted(rows.values(), key=lambda row: row.pk, reverse=not ascending)
    return ordered[:limit]


def _page(organization_id: int, driver_kind: str | None, others: list[str],
          filters: dict[str, str], since: datetime | None, until: datetime | None,
          ascending: bool, after_pk: int | None, limit: int, low: int | None = None,
          high: int | None = None, by_month: bool = False) -> list[Row[Any]]:
    def keys(column: Any, query: Any) -> Any:
        # Each table's own bounds: PostgreSQL prunes partitions by a table's conditions, it
        # does not carry a range across a join. Written as constants (month boundaries: a
        # few texts), so that the plan psycopg prepares after five runs, made once for any
        # key, still names only those months' partitions.
        if low is not None:
            query = query.where(column >= literal_column(str(int(low))))
        if high is not None:
            query = query.where(column < literal_column(str(int(high))))
        return query

    if driver_kind is not None:
        driver = aliased(StatementIndex)
        order_col = driver.statement_pk
        key = filters["A" if driver_kind == "a" and "A" in filters else
                      "O" if driver_kind == "o" and "O" in filters else driver_kind]
        query = (select(Statement.pk, Statement.data, Statement.stored)
                 .select_from(driver)
                 .join(Statement, Statement.pk == driver.statement_pk)
                 .where(driver.organization_id == organization_id, driver.kind == driver_kind,
                        driver.key == key))
        query = keys(driver.statement_pk, query)
        for kind in others:
            other = aliased(StatementIndex)
            check = keys(other.statement_pk, select(other.statement_pk).where(
                other.organization_id == organization_id,
                other.kind.in_(WIDER.get(kind, (kind,))), other.key == filters[kind],
                other.statement_pk == driver.statement_pk))
            if by_month:
                # OFFSET 0 keeps the check a check: PostgreSQL does not turn it into a join
                # it may drive from. The plan psycopg prepares after five runs, made without
                # the keys, drove from the verb (a few thousand rows a month, for the one
                # agent's few) when it could.
                check = check.offset(literal_column("0"))
            query = query.where(check.exists())
    else:
        order_col = Statement.pk
        query = select(Statement.pk, Statement.data, Statement.stored).where(
            Statement.organization_id == organization_id)
    query = keys(Statement.pk, query.where(Statement.voided.is_(False)))
    if since is not None:
        query = query.where(Statement.stored > since)
    if until is not None:
        query = query.where(Statement.stored <= until)
    if after_pk is not None:
        query = query.where(order_col > after_pk if ascending else order_col < after_pk)
    query = query.order_by(order_col.asc() if ascending else order_col.desc()).limit(limit)
    return list(db.session.execute(query))


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
