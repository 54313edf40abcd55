"""Reads of the statement store: one statement, filtered pages, activities, attachments.

Every filtered read walks one index in key order (``xapi_statement_index`` primary key:
organization, kind, key, statement pk), joins the other filters by primary key and stops at the
page size, so its cost depends on the page, not on the size of the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import aliased

from lms.extensions import db
from lms.xapi.models import Activity, Statement, StatementAttachment, StatementIndex

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


def find_statements(organization_id: int, *, filters: dict[str, str],
                    since: datetime | None = None, until: datetime | None = None,
                    ascending: bool = False, after_pk: int | None = None,
                    limit: int = 100) -> list[Row[Any]]:
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
    rows: dict[int, Row[Any]] = {}
    for driver_kind in WIDER.get(kinds[0], (kinds[0],)):
        for row in _page(organization_id, driver_kind, kinds[1:], filters, since, until,
                         ascending, after_pk, limit):
            rows[row.pk] = row
    ordered = sorted(rows.values(), key=lambda row: row.pk, reverse=not ascending)
    return ordered[:limit]


def _page(organization_id: int, driver_kind: str | None, others: list[str],
          filters: dict[str, str], since: datetime | None, until: datetime | None,
          ascending: bool, after_pk: int | None, limit: int) -> list[Row[Any]]:
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
        for kind in others:
            other = aliased(StatementIndex)
            query = query.where(select(other.statement_pk).where(
                other.organization_id == organization_id,
                other.kind.in_(WIDER.get(kind, (kind,))), other.key == filters[kind],
                other.statement_pk == driver.statement_pk).exists())
    else:
        order_col = Statement.pk
        query = select(Statement.pk, Statement.data, Statement.stored).where(
            Statement.organization_id == organization_id)
    query = query.where(Statement.voided.is_(False))
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
