"""Helpers shared by tests in every folder: ``from tests.support import csrf_token``.

(Each test folder may have its own conftest.py, so ``from conftest import …`` would pick the
wrong one; import from here instead.)
"""

from __future__ import annotations

import json
import os
import re
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Table, insert, select, text, update
from werkzeug.serving import make_server

from lms.accounts.models import Membership, Organization, User
from lms.extensions import db
from lms.xapi.models import Statement

PASSWORD = "correct horse battery"

# The Redis databases the job tests own (the first is emptied by them): settings, so two test
# runs can share one Redis server by pointing these at other databases.
REDIS_WORKERS_URL = os.environ.get("RELAIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
REDIS_HEALTH_URL = os.environ.get("RELAIS_TEST_REDIS_HEALTH_URL", "redis://127.0.0.1:6379/6")

# Whether this run's test database is PostgreSQL (CI runs the suite on SQLite, then on it).
ON_POSTGRESQL = bool(os.environ.get("RELAIS_TEST_DATABASE_URL"))


def sqlite_run_only(reason: str) -> pytest.MarkDecorator:
    """Mark a test whose outcome cannot depend on the test database (it reads the code, opens
    a SQLite file of its own, or checks the text or layout of HTML the other tests render on
    both) to run in the SQLite run only: on PostgreSQL it would do the same work again.

    :param reason: what it checks that does not depend on the database (shown with the skip).
    """
    return pytest.mark.skipif(ON_POSTGRESQL, reason=f"the same on either database: {reason}")


def in_ci() -> bool:
    """Whether ``CI`` is set: then a missing tool fails a test instead of skipping it."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def need(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false, or fail under CI."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI is set: required)")
    pytest.skip(reason)


def redis_up(url: str) -> bool:
    """Whether a Redis server answers at ``url``."""
    try:
        import redis
    except ImportError:
        return False
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@dataclass
class _DemoRows:
    """The rows the demo wrote, copied (see :func:`load_demo_once`)."""

    tables: list[tuple[Table, list[dict[str, Any]]]]
    statement_ids: list[tuple[Any, ...]]
    sequences: list[tuple[str, int]]


# Per database, BASE_URL and day: statements name people by an account on the instance's
# address (a browser test sets it to its live server's), and the demo dates its story from
# the day it is built (some folders' tests set the clock to a day of their own).
_DEMO_COPIES: dict[tuple[str, str, date], _DemoRows] = {}


def load_demo_once() -> None:
    """Load the built-in content and the demo organization into the (empty) test database, as
    ``load_builtin_content(); load_demo(); db.session.commit()`` does.

    The first call in a test process for a database, ``BASE_URL`` and day (the clock's) runs
    them; later calls write back the rows that first load left, a copy (~8,000 rows) about
    ten times faster than building the demo again (5–8 s on SQLite, 8–20 s on PostgreSQL,
    for each of some twenty-five tests). The ids and times are those of the first load.
    """
    from flask import current_app

    from lms.content import load_builtin_content
    from lms.core.models import utcnow
    from lms.demo import load_demo

    key = (db.engine.url.render_as_string(hide_password=False),
           str(current_app.config.get("BASE_URL")), utcnow().date())
    copy = _DEMO_COPIES.get(key)
    if copy is None:
        load_builtin_content()
        load_demo()
        db.session.commit()
        with db.engine.connect() as conn:
            tables = [(table, [dict(row) for row in conn.execute(select(table)).mappings()])
                      for table in db.metadata.sorted_tables]
            _DEMO_COPIES[key] = _DemoRows(
                tables=[(t, rows) for t, rows in tables if rows],
                statement_ids=[tuple(row) for row in conn.execute(
                    text("SELECT * FROM xapi_statement_ids"))]
                if _statement_id_table(conn) else [],
                sequences=[tuple(row) for row in conn.execute(text(
                    "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"
                    " WHERE last_value IS NOT NULL"))]
                if conn.dialect.name == "postgresql" else [])
        return
    db.session.remove()
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # The rows were consistent when copied: no foreign key to check again.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))
        for table, rows in copy.tables:
            conn.execute(insert(table), rows)
        if copy.statement_ids:
            width = len(copy.statement_ids[0])
            conn.exec_driver_sql(
                f"INSERT INTO xapi_statement_ids VALUES ({', '.join(['%s'] * width)})",
                copy.statement_ids)
        # A test that rebuilds the schema (tests/test_migrations.py) starts the sequences
        # again: move each back past the ids written here, never below where it stands.
        if copy.sequences:
            names, values = zip(*copy.sequences, strict=True)
            conn.execute(text(
                "SELECT setval(CAST(s.name AS regclass), s.value)"
                " FROM unnest(CAST(:names AS text[]), CAST(:values AS bigint[])) AS s(name, value)"
                " JOIN pg_sequences p ON p.schemaname || '.' || p.sequencename = s.name"
                " WHERE coalesce(p.last_value, 0) < s.value"),
                {"names": list(names), "values": list(values)})


def _statement_id_table(conn: Any) -> bool:
    """Whether the partitioned store's id table (PostgreSQL, migration 0040) is there."""
    return conn.dialect.name == "postgresql" and bool(conn.scalar(text(
        "SELECT to_regclass('xapi_statement_ids') IS NOT NULL")))


def membership(user: User, org: Organization) -> Membership:
    """The membership of ``user`` in ``org``."""
    return next(m for m in user.memberships if m.organization_id == org.id)


def csrf_token(html: str) -> str:
    """Extract the CSRF token from a rendered form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@contextmanager
def serving(wsgi_app: Any, name: str = "test-server") -> Iterator[str]:
    """Serve ``wsgi_app`` on 127.0.0.1 (a free port) from a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greets, accepts one or more messages, keeps them."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.messages.append(data)  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # MAIL FROM, RCPT TO, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")


@contextmanager
def smtp_listener() -> Iterator[Any]:
    """A real SMTP server on 127.0.0.1 (a free port) from a thread; its ``messages`` list holds
    the raw bytes of every message received.
    """
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def statements_by_verb(verb_iri: str) -> list[dict[str, Any]]:
    """The stored statements with this verb, oldest first, as JSON."""
    rows = db.session.scalars(select(Statement.data).where(Statement.verb_id == verb_iri)
                              .order_by(Statement.pk))
    return [json.loads(row) for row in rows]


def set_stored(statement_ids: list[str], when: datetime) -> None:
    """Make these statements stored at ``when`` (a test's history). On PostgreSQL's monthly
    partitions (lms.xapi.partitions) a statement's key carries the month of ``stored``: the
    key moves with it, its index rows and id with it (not an outbox entry: none may exist).
    """
    from lms.core.database import run_sql
    from lms.xapi import partitions

    moving = partitions.partitioned()
    for statement_id in statement_ids:
        pk = db.session.scalar(select(Statement.pk).where(
            Statement.statement_id == statement_id))
        new_pk = pk
        if moving:
            month = partitions.month_code(when.astimezone(UTC))
            partitions.create_month(month)
            new_pk = partitions.key_floor(month) + (pk & partitions.LOW_BITS)
            run_sql("UPDATE xapi_statement_index SET statement_pk = ? WHERE statement_pk = ?",
                    (new_pk, pk))
            run_sql("UPDATE xapi_statement_ids SET pk = ? WHERE pk = ?", (new_pk, pk))
        db.session.execute(update(Statement).where(Statement.pk == pk).values(
            pk=new_pk, stored=when))


@contextmanager
def registered_job(kind: str, handler: Any) -> Iterator[None]:
    """Jobs of ``kind`` (made up by a test) run ``handler`` inside the block."""
    from lms.jobs import registry

    registry.register_job(kind, handler)
    try:
        yield
    finally:
        registry.HANDLERS.pop(kind)


def run_member_import(organization: Organization, created_by: User, data: bytes
                      ) -> tuple[Any, dict[str, Membership]]:
    """Import the members CSV ``data`` as ``created_by`` to its end (it must succeed): the job
    read again, and the organization's memberships by e-mail afterwards."""
    from lms.jobs import members_import
    from lms.jobs.runner import run_job

    job = members_import.start_import(organization=organization, created_by=created_by,
                                      data=data)
    db.session.commit()
    assert run_job(job.id) == "succeeded"
    db.session.expire_all()
    members = {m.user.email: m for m in db.session.scalars(
        select(Membership).where(Membership.organization_id == organization.id))}
    return db.session.get(type(job), job.id), members


def hashed(rows: Any) -> set[int]:
    """Index rows (kind, key) as the filter index stores them: their hashes."""
    from lms.xapi.index_keys import index_key

    return {index_key(kind, key) for kind, key in rows}


def agent_rows(keys: Any) -> list[int]:
    """The index keys (hashes) of agent keys, as actor or object and as other agent."""
    return sorted(hashed((kind, key) for key in keys for kind in ("a", "A")))


def index_keys_of(statement_pk: int) -> set[int]:
    """The filter index rows (hashes) of a stored statement."""
    from lms.xapi.models import StatementIndex

    return set(db.session.scalars(select(StatementIndex.key_hash).where(
        StatementIndex.statement_pk == statement_pk)))
