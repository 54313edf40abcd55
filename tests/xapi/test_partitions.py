"""The statement store's monthly partitions on PostgreSQL (migration 0040, lms.xapi.partitions):
keys carry their month, GETs read the months in page order, months are made ahead and dropped
whole. SQLite keeps its plain tables (the first test); the others need PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from lms.core.database import run_sql
from lms.core.models import utcnow
from lms.extensions import db
from lms.privacy import retention
from lms.privacy.models import RetentionSettings
from lms.xapi import partitions
from tests.xapi import test_statements_resource as resource
from tests.xapi.test_statements_resource import COMPLETED, Lrs, statement

# The Statements resource's fixtures: an LRS client of a new organization.
lrs, make_lrs = resource.lrs, resource.make_lrs

def _pg() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_sqlite_keeps_a_plain_store(lrs: Lrs) -> None:
    if _pg():
        assert partitions.partitioned()
        return
    assert not partitions.partitioned()
    assert partitions.create_months() == []
    assert lrs.post(statement()).status_code == 200


def _need_pg() -> None:
    if not _pg():
        pytest.skip("the store is partitioned on PostgreSQL only")


def _month_of(moment: datetime) -> int:
    return partitions.month_code(moment)


def _age(statement_id: str, months: int) -> int:
    """Move a stored statement ``months`` back in time (stored and key), as if it had been
    stored then; its new key."""
    row = run_sql("SELECT pk, stored FROM xapi_statements WHERE statement_id = ?",
                  (statement_id,)).one()
    stored = row.stored - timedelta(days=31 * months)
    partitions.create_month(_month_of(stored))
    new_pk = partitions.key_floor(_month_of(stored)) + (row.pk & partitions.LOW_BITS)
    data = run_sql("SELECT data FROM xapi_statements WHERE pk = ?", (row.pk,)).scalar()
    stamp = stored.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{stored.microsecond // 1000:03d}Z"
    st = json.loads(data)
    st["stored"] = stamp
    run_sql("UPDATE xapi_statements SET pk = ?, stored = ?, data = ? WHERE pk = ?",
            (new_pk, stored, json.dumps(st), row.pk))
    run_sql("UPDATE xapi_statement_index SET statement_pk = ? WHERE statement_pk = ?",
            (new_pk, row.pk))
    run_sql("UPDATE xapi_statement_ids SET pk = ? WHERE pk = ?", (new_pk, row.pk))
    db.session.commit()
    return int(new_pk)


def _store(lrs: Lrs, ages: list[int], **extra: Any) -> list[str]:
    """One statement per entry, stored that many months ago; ids newest first (``ages``
    newest first: stored oldest first, so a month's statements keep the list's order)."""
    ids = []
    for months in reversed(ages):
        sid = str(uuid.uuid4())
        assert lrs.put(statement(**extra), sid).status_code == 204
        if months:
            _age(sid, months)
        ids.append(sid)
    return ids[::-1]


def test_a_key_carries_the_month_of_stored(lrs: Lrs) -> None:
    _need_pg()
    sid = str(uuid.uuid4())
    assert lrs.put(statement(), sid).status_code == 204
    row = run_sql("SELECT pk, stored, tableoid::regclass::text AS part FROM xapi_statements "
                  "WHERE statement_id = ?", (sid,)).one()
    month = _month_of(row.stored.astimezone(UTC))
    assert partitions.month_of_key(row.pk) == month
    assert row.part == f"xapi_statements_{partitions.month_name(month)}"
    assert run_sql("SELECT pk FROM xapi_statement_ids WHERE statement_id = ?",
                   (sid,)).scalar() == row.pk
    # The same id again: accepted when equivalent, refused otherwise, in any month.
    _age(sid, 5)
    assert lrs.put(statement(), sid).status_code == 204
    assert lrs.put(statement(verb="http://adlnet.gov/expapi/verbs/attempted"),
                   sid).status_code == 409
    assert lrs.get(statementId=sid).get_json()["id"] == sid


def _every_page(lrs: Lrs, response: Any) -> list[str]:
    """The ids of a GET's statements, following its ``more`` links to the end."""
    seen: list[str] = []
    while True:
        body = response.get_json()
        seen += [st["id"] for st in body["statements"]]
        if not body["more"]:
            return seen
        response = lrs.client.get(body["more"], headers=lrs.headers)


def test_pages_cross_months_in_order_both_ways(lrs: Lrs) -> None:
    _need_pg()
    # Newest first: this month, 1, 1, 3, 7 and 14 months ago.
    ids = _store(lrs, [0, 1, 1, 3, 7, 14])
    assert lrs.ids() == ids
    assert lrs.ids(ascending="true") == ids[::-1]
    assert _every_page(lrs, lrs.get(limit=2, agent={"mbox": "mailto:ana@example.com"})) == ids
    assert _every_page(lrs, lrs.get(limit=4, ascending="true", verb=COMPLETED)) == ids[::-1]
    # since / until narrow the months read, and still filter on stored.
    since = (utcnow() - timedelta(days=31 * 5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (utcnow() - timedelta(days=31 * 2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert lrs.ids(since=since) == ids[:4]
    assert lrs.ids(until=until) == ids[3:]
    assert lrs.ids(since=since, until=until) == ids[3:4]


def test_a_filtered_page_with_a_time_window_and_a_voided_statement_pages_in_order(
        lrs: Lrs) -> None:
    _need_pg()
    # Newest first: this month, 1, 1, 3, 7 and 14 months ago; the second one voided.
    ids = _store(lrs, [0, 1, 1, 3, 7, 14])
    voiding = statement(verb="http://adlnet.gov/expapi/verbs/voided",
                        object={"objectType": "StatementRef", "id": ids[1]})
    assert lrs.post(voiding).status_code == 200
    since = (utcnow() - timedelta(days=31 * 10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (utcnow() - timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    kept = [ids[2], ids[3], ids[4]]  # in the window, not voided
    for filters in ({"agent": {"mbox": "mailto:ana@example.com"}},
                    {"activity": "http://relais.test/modules/1"},
                    {"agent": {"mbox": "mailto:ana@example.com"}, "verb": COMPLETED}):
        # One statement a page: each page's cursor, times and filters go together.
        assert _every_page(lrs, lrs.get(limit=1, since=since, until=until,
                                        **filters)) == kept
        assert _every_page(lrs, lrs.get(limit=2, since=since, until=until, ascending="true",
                                        **filters)) == kept[::-1]
        # Without the window: every page together is the one big page, newest first.
        whole = lrs.ids(**filters)
        assert _every_page(lrs, lrs.get(limit=2, **filters)) == whole
        assert ids[1] not in whole and whole[-5:] == [ids[0], *ids[2:]]


def test_voiding_reaches_a_statement_of_an_older_month(lrs: Lrs) -> None:
    _need_pg()
    [old] = _store(lrs, [9])
    voiding = statement(verb="http://adlnet.gov/expapi/verbs/voided",
                        object={"objectType": "StatementRef", "id": old})
    assert lrs.post(voiding).status_code == 200
    assert lrs.get(statementId=old).status_code == 404
    assert lrs.get(voidedStatementId=old).get_json()["id"] == old
    assert old not in lrs.ids()


def test_a_month_made_late_takes_its_rows_from_the_default_partition(lrs: Lrs) -> None:
    _need_pg()
    [sid] = _store(lrs, [0])
    month = _month_of(utcnow()) - 60  # surely not made
    pk = run_sql("SELECT pk FROM xapi_statements WHERE statement_id = ?", (sid,)).scalar()
    moved = partitions.key_floor(month) + (pk & partitions.LOW_BITS)
    run_sql("UPDATE xapi_statements SET pk = ? WHERE pk = ?", (moved, pk))
    run_sql("UPDATE xapi_statement_index SET statement_pk = ? WHERE statement_pk = ?",
            (moved, pk))
    run_sql("UPDATE xapi_statement_ids SET pk = ? WHERE pk = ?", (moved, pk))
    assert run_sql("SELECT count(*) FROM xapi_statements_default").scalar() == 1
    assert lrs.ids() == [sid]  # found in the DEFAULT partition meanwhile
    assert partitions.create_month(month)
    assert not partitions.create_month(month)
    name = partitions.month_name(month)
    assert run_sql("SELECT count(*) FROM xapi_statements_default").scalar() == 0
    assert run_sql(f"SELECT count(*) FROM xapi_statements_{name}").scalar() == 1
    assert run_sql(f"SELECT count(*) FROM xapi_statement_index_{name}").scalar() > 1
    db.session.commit()
    assert lrs.ids() == [sid]
    partitions.drop_month(month)
    db.session.commit()


def test_months_are_made_ahead_by_the_periodic_task_and_the_command(runner: Any) -> None:
    from lms.jobs.periodic import PERIODIC

    assert PERIODIC["xapi.statement_months"].func is partitions.create_months
    result = runner.invoke(args=["statement-months", "--ahead", "3"])
    assert result.exit_code == 0, result.output
    if not _pg():
        assert "not partitioned" in result.output
        return
    now = _month_of(utcnow())
    assert {now, now + 1, now + 2, now + 3} <= set(partitions.months())
    assert f"{(now + 3) // 12:04d}-{(now + 3) % 12 + 1:02d}" in result.output


def test_retention_drops_a_month_only_when_every_statement_in_it_may_go(
        lrs: Lrs, make_lrs: Callable[..., Lrs], app: Any) -> None:
    _need_pg()
    other = make_lrs()
    [ours] = _store(lrs, [30])
    [theirs] = _store(other, [30])
    month = _month_of(utcnow()) - 30
    while month not in partitions.months():  # 31-day months: find where they went
        month -= 1
    keys = partitions.month_summary(month)[0]
    assert len(keys) == 2
    app.config["RETENTION_DROP_STATEMENT_MONTHS"] = 0
    assert retention.drop_statement_months() == []  # not asked
    app.config["RETENTION_DROP_STATEMENT_MONTHS"] = 24
    assert retention.drop_statement_months() == []  # nobody pseudonymised them yet
    orgs = list(keys)
    db.session.add(RetentionSettings(organization_id=orgs[0], statements_done_pk=keys[orgs[0]]))
    db.session.commit()
    assert retention.drop_statement_months() == []  # one organization's still wait
    db.session.add(RetentionSettings(organization_id=orgs[1], statements_done_pk=keys[orgs[1]]))
    run_sql("INSERT INTO xapi_outbox (organization_id, statement_pk, status, attempts, "
            "next_attempt_at, created_at) VALUES (?, ?, 'pending', 0, now(), now())",
            (orgs[0], keys[orgs[0]]))
    db.session.commit()
    assert retention.drop_statement_months() == []  # one waits to be forwarded
    run_sql("UPDATE xapi_outbox SET status = 'delivered'")
    db.session.commit()
    assert retention.drop_statement_months() == [month]
    assert month not in partitions.months()
    assert lrs.get(statementId=ours).status_code == 404
    assert other.get(statementId=theirs).status_code == 404
    assert run_sql("SELECT count(*) FROM xapi_outbox").scalar() == 0
    assert db.session.scalar(select(text("count(*)")).select_from(
        text("xapi_statement_ids"))) == 0
