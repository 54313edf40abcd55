"""Deleting an organization deletes every row of it, in every table that has an
``organization_id``: through the foreign key's cascade, or, for the tables an import writes
row by row and that have no foreign key (migrations 0036 and 0042: statements, their index
and ids, activities, advocacy events and daily figures), through the listeners on the
organization's delete. Another organization keeps all of its rows. On PostgreSQL the
statements sit in several monthly partitions and the DEFAULT one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, func, select, text, update

from lms.accounts.models import Organization
from lms.advocacy import csvimport
from lms.core.models import utcnow
from lms.extensions import db
from lms.xapi import partitions
from lms.xapi.forwarding_models import OutboxEntry
from lms.xapi.models import Statement
from lms.xapi.record import record
from tests.advocacy.helpers import consent

# The tables without a foreign key to the organization: the test shows each had rows.
WITHOUT_FOREIGN_KEY = ("xapi_statements", "xapi_statement_index", "xapi_activities",
                       "advocacy_events", "advocacy_daily_figures")


def _organization_tables() -> list[Table]:
    return [table for table in db.metadata.sorted_tables if "organization_id" in table.c]


def _counts(organization_id: int) -> dict[str, int]:
    counts = {table.name: db.session.scalar(select(func.count()).select_from(table).where(
        table.c.organization_id == organization_id)) or 0 for table in _organization_tables()}
    if db.engine.dialect.name == "postgresql":
        counts["xapi_statement_ids"] = db.session.execute(text(
            "SELECT count(*) FROM xapi_statement_ids WHERE organization_id = :o"),
            {"o": organization_id}).scalar() or 0
    return counts


def _fill(org: Organization, create_user: Callable[..., Any], prefix: str) -> None:
    """An advocacy import (events, daily figures, statements, index rows, activities), an
    LRS statement with an activity definition and an outbox entry."""
    people = [create_user(org=org, email=f"{prefix}{n}@example.com") for n in range(2)]
    consent(org, *people)
    rows = "".join(f"{prefix}{n % 2}@example.com;linkedin;share;https://example.com/{prefix}/{n};"
                   f"0{n + 1}/11/2026;{100 + n};{n};2\n" for n in range(6))
    csvimport.import_activity(organization=org, data=(
        "email;network;kind;url;date;impressions;clicks;reactions\n" + rows).encode())
    record([{"actor": {"mbox": f"mailto:{prefix}@example.com"},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
             "object": {"id": f"https://example.com/{prefix}/module",
                        "definition": {"name": {"fr": "Module"}}}}],
           organization_id=org.id)
    db.session.flush()
    pk = db.session.scalar(select(Statement.pk).where(Statement.organization_id == org.id)
                           .order_by(Statement.pk.desc()).limit(1))
    db.session.add(OutboxEntry(organization_id=org.id, statement_pk=pk))
    db.session.commit()


def _spread_over_partitions(organization_id: int) -> set[str]:
    """Move two of the organization's statements (and their index rows and ids) to an older
    month with a partition and to one without (the DEFAULT partition); the partitions its
    statements are in.
    """
    now = partitions.month_code(utcnow())
    pks = db.session.scalars(select(Statement.pk).where(
        Statement.organization_id == organization_id).order_by(Statement.pk).limit(2)).all()
    partitions.create_month(now - 3)
    for pk, month in zip(pks, (now - 3, now - 30), strict=True):
        new = partitions.key_floor(month) + (pk & partitions.LOW_BITS)
        db.session.execute(update(Statement).where(Statement.pk == pk).values(pk=new))
        for sql in ("UPDATE xapi_statement_index SET statement_pk = :new WHERE statement_pk = :pk",
                    "UPDATE xapi_statement_ids SET pk = :new WHERE pk = :pk"):
            db.session.execute(text(sql), {"new": new, "pk": pk})
    db.session.commit()
    return set(db.session.execute(text(
        "SELECT DISTINCT tableoid::regclass::text FROM xapi_statements "
        "WHERE organization_id = :o"), {"o": organization_id}).scalars())


def test_deleting_an_organization_leaves_none_of_its_rows(
        create_org: Callable[..., Any], create_user: Callable[..., Any]) -> None:
    gone, kept = create_org(), create_org()
    _fill(gone, create_user, "gone")
    _fill(kept, create_user, "kept")
    gone_id, kept_id = gone.id, kept.id
    if db.engine.dialect.name == "postgresql":
        spread = _spread_over_partitions(gone_id)
        assert "xapi_statements_default" in spread and len(spread) >= 3
    before = _counts(gone_id)
    for name in (*WITHOUT_FOREIGN_KEY, "xapi_outbox"):
        assert before[name] > 0, name
    if db.engine.dialect.name == "postgresql":
        assert before["xapi_statement_ids"] > 0
    kept_before = _counts(kept_id)

    db.session.delete(gone)
    db.session.commit()

    left = {name: count for name, count in _counts(gone_id).items() if count}
    assert left == {}
    assert _counts(kept_id) == kept_before
