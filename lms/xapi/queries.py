"""Reads of the statement store: one statement, filtered pages, activities, attachments.

Every filtered read walks one index in key order (``xapi_statement_index`` primary key:
organization, kind, key, statement pk), joins the other filters by primary key and stops at the
page size, so its cost depends on the page, not on the size of the store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from lms.core.database import run_sql, time_processor
from lms.extensions import db
from lms.xapi.models import Activity, Statement, StatementAttachment

# Which filter drives a query when several are given: the most selective kinds first.
DRIVING_ORDER = ("r", "a", "o", "A", "O", "v")


def get_statement(organization_id: int, statement_id: str) -> Any:
    """The stored statement with this id (pk, data, voided, stored), or None."""
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
               "WHERE i.organization_id = ? AND i.kind = ? AND i.key = ?"]
        params += [driver_kind, key]
        order = "i.statement_pk"
        for n, kind in enumerate(others):
            wider = WIDER.get(kind, (kind,))
            sql.append(f" AND EXISTS (SELECT 1 FROM xapi_statement_index j{n} "
                       f"WHERE j{n}.organization_id = ? AND j{n}.kind IN "
                       f"({', '.join('?' * len(wider))}) AND j{n}.key = ? "
                       f"AND j{n}.statement_pk = i.statement_pk)")
            params += [organization_id, *wider, filters[kind]]
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
            for pk, data, stored in run_sql("".join(sql), tuple(params))]


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
