"""Two requests storing the same statement ids at the same time, over real HTTP.

xAPI keeps 409 for different content under one id: the same statements sent twice at once
(a client retrying on a timeout, two tabs of a package) must both be accepted, stored once and
projected once. The requests are made to meet where the race is: on PostgreSQL both check the
store before either inserts (the insert then finds the other's rows and checks again); on the
monthly partitions, where the check claims the ids, both claim at once and the first commits
only once the other waits for its claim (which then finds the ids taken and checks again); on
SQLite both reach the check together, and its write lock makes one wait for the other.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.extensions import db
from lms.xapi import partitions, projections, record
from lms.xapi.models import Statement, StatementIndex
from lms.xapi.services import create_lrs_credentials
from tests.support import hashed, index_keys_of, serving

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def statement(sid: str, learner: int, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "actor": {"objectType": "Agent", "mbox": f"mailto:l{learner}@example.com"},
            "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
            "object": {"id": "https://content.example.com/course",
                       "definition": {"name": {"en-US": "Course"}}},
            "timestamp": "2026-11-23T10:00:00.000Z", **extra}


class Race:
    """Makes two requests meet inside record(): after their check on PostgreSQL, before it
    (where SQLite takes its lock) on SQLite; on the monthly partitions before it, the one
    whose check claimed ids going on once the other waits for them. Counts the checks."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.barrier = threading.Barrier(2, timeout=60)
        self.checks = 0
        self.met: set[int] = set()
        self.lock = threading.Lock()
        postgres = db.engine.dialect.name == "postgresql"
        claims = postgres and partitions.partitioned()
        check, lock_store = record._not_stored_yet, record._lock_store

        def meet() -> None:
            me = threading.get_ident()
            if me not in self.met:  # each request meets the other once
                self.met.add(me)
                self.barrier.wait()

        def checking(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.checks += 1
            first = threading.get_ident() not in self.met
            if claims:
                meet()
            result = check(*args, **kwargs)
            if claims and first and result is not None and result[3]:
                wait_for_claim()
            elif postgres and not claims:
                meet()
            return result

        def wait_for_claim() -> None:
            # Until the other request's claim waits for this transaction's.
            with db.engine.connect() as connection:
                for _ in range(600):
                    if connection.exec_driver_sql(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database()").scalar():
                        return
                    time.sleep(0.1)
            raise AssertionError("the other request never waited for these ids")

        def locking() -> None:
            if not postgres:
                meet()
            lock_store()

        monkeypatch.setattr(record, "_not_stored_yet", checking)
        monkeypatch.setattr(record, "_lock_store", locking)


@pytest.fixture()
def base_and_auth(app: Flask, create_org: Callable[..., Any]) -> Iterator[tuple[str, str]]:
    org = create_org()
    credential, secret = create_lrs_credentials(organization=org)
    db.session.commit()
    token = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    with serving(app) as base:
        yield base, f"Basic {token}"


def post_together(base: str, auth: str, bodies: list[Any]) -> list[tuple[int, Any]]:
    """POST each body from its own thread and connection, at once; (status, JSON) each."""
    url = urlsplit(base)
    results: list[tuple[int, Any]] = [(0, None)] * len(bodies)

    def post(i: int) -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        conn.request("POST", "/xapi/statements", body=json.dumps(bodies[i]),
                     headers={"Authorization": auth, "X-Experience-API-Version": "1.0.3",
                              "Content-Type": "application/json"})
        response = conn.getresponse()
        results[i] = (response.status, json.loads(response.read() or b"null"))
        conn.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture()
def projected() -> Iterator[list[str]]:
    """The ids passed to projection handlers."""
    seen: list[str] = []

    def handler(statement: dict[str, Any], *, organization_id: int, voided: bool) -> None:
        seen.append(statement["id"])

    projections.register(handler)
    yield seen
    projections.unregister(handler)


def test_the_same_statements_posted_twice_at_once_are_both_accepted(
        base_and_auth: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
        projected: list[str]) -> None:
    base, auth = base_and_auth
    ids = [str(uuid.uuid4()) for _ in range(5)]
    batch = [statement(sid, i) for i, sid in enumerate(ids)]
    race = Race(monkeypatch)
    results = post_together(base, auth, [batch, batch])
    assert results == [(200, ids), (200, ids)]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 5
    # Stored, indexed and projected once.
    assert sorted(projected) == sorted(ids)
    pks = db.session.scalars(select(Statement.pk)).all()
    expected = {pk: hashed(record.index_rows(record.loads(data)))
                for pk, data in db.session.execute(select(Statement.pk, Statement.data))}
    assert db.session.scalar(select(func.count()).select_from(StatementIndex).where(
        StatementIndex.statement_pk.in_(pks))) == sum(len(keys) for keys in expected.values())
    assert {pk: index_keys_of(pk) for pk in pks} == expected
    # PostgreSQL: the later insert found the other's rows and checked again (3 checks);
    # SQLite: the later request waited for the lock, then found them stored (2 checks).
    assert race.checks == (3 if db.engine.dialect.name == "postgresql" else 2)


def test_one_id_with_different_content_at_once_gets_one_409(
        base_and_auth: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
        projected: list[str]) -> None:
    base, auth = base_and_auth
    sid = str(uuid.uuid4())
    Race(monkeypatch)
    results = post_together(base, auth, [
        [statement(sid, 1)], [statement(sid, 1, result={"success": False})]])
    assert sorted(status for status, _body in results) == [200, 409]
    conflict = next(body for status, body in results if status == 409)
    assert "different content" in conflict["error"]["message"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 1
    assert projected == [sid]


def test_overlapping_batches_at_once_store_each_statement_once(
        base_and_auth: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
        projected: list[str]) -> None:
    base, auth = base_and_auth
    ids = [str(uuid.uuid4()) for _ in range(4)]
    first = [statement(sid, i) for i, sid in enumerate(ids[:3])]
    second = [statement(sid, i + 1) for i, sid in enumerate(ids[1:])]
    Race(monkeypatch)
    results = post_together(base, auth, [first, second])
    assert results == [(200, ids[:3]), (200, ids[1:])]
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Statement.statement_id))) == sorted(ids)
    assert sorted(projected) == sorted(ids)
