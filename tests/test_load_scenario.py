"""The kill scenario of ``bench/load_test.py`` at a tiny size: two real ``relais serve``
processes on 127.0.0.1 sharing the test database (SQLite file or PostgreSQL) and a Redis
broker, clients posting statement batches and signed webhook batches to both, one server's
process group SIGKILLed half-way. What the clients saw acknowledged is stored exactly once.

It needs Redis at ``RELAIS_TEST_REDIS_HEALTH_URL`` (the broker the servers share; no job is
sent to it): without it the test skips, except under CI where it fails.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.advocacy.models import AdvocacyEvent
from lms.extensions import db
from lms.xapi.models import Statement
from tests.support import REDIS_HEALTH_URL, need, redis_up

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load_test(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``bench/load_test.py``, imported as the bench scripts import each other."""
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("load_test")


def stored(column, organization_id: int, ids: list[str]) -> dict[str, int]:
    rows = db.session.execute(
        select(column, func.count()).where(column.class_.organization_id == organization_id,
                                           column.in_(ids)).group_by(column))
    return {key: count for key, count in rows}


def test_acknowledged_statements_and_events_survive_a_killed_server_exactly_once(
        app: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch):
    need(redis_up(REDIS_HEALTH_URL), f"Redis is not running at {REDIS_HEALTH_URL}")
    bench = load_test(monkeypatch)
    plan = bench.seed_people(slug="kill", learners=5)
    env = bench.server_env(database_url, app.instance_path, REDIS_HEALTH_URL, serve_workers=1)

    verdict = bench.kill_run(env, plan, seconds=4, clients=3, batch=5, database=database_url)

    tally = verdict.tally
    assert verdict.exactly_once, verdict.lines
    assert tally.refusals == []
    # The killed server was really in use: both servers answered before the kill, and after it
    # the clients found its port closed.
    assert tally.refused > 0
    db.session.rollback()
    org = plan["organization_id"]
    for column, kind in ((Statement.statement_id, "statements"),
                         (AdvocacyEvent.external_id, "events")):
        acked, unacked = tally.acked[kind], tally.unacked[kind]
        assert acked
        assert stored(column, org, acked) == dict.fromkeys(acked, 1)
        assert set(stored(column, org, unacked).values()) <= {1}
