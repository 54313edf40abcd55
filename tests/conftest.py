"""Shared fixtures: one migrated database per test session, emptied after every test.

SQLite by default; PostgreSQL when ``RELAIS_TEST_DATABASE_URL`` is set (CI sets it).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, request_started
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, Table, delete, event, exists, literal, select, text, union_all

from lms import create_app
from lms.accounts import services as accounts
from lms.accounts.models import Organization, Role, User
from lms.extensions import db
from tests.support import (  # noqa: F401  (re-exported)
    ON_POSTGRESQL,
    PASSWORD,
    csrf_token,
    membership,
    sqlite_run_only,
)

TEST_PASSWORD_HASH_METHOD = "scrypt:1024:8:1"


def _database_url(tmp_dir: str) -> str:
    url = os.environ.get("RELAIS_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir}/test.db"
    return _test_database(url, os.environ.get("PYTEST_XDIST_WORKER"))


def _test_database(url: str, worker: str | None) -> str:
    """The PostgreSQL database this test process uses: ``url``'s, or with parallel workers one
    of each worker's own beside it (``test_gw0``…), created if missing: each migrates and
    empties its own, as a single run does with ``url``'s.

    Its commits do not wait for the disk (``synchronous_commit = off``, for every connection
    to it, servers the tests start included): a test database need not survive a crash of
    the machine, and the suite commits tens of thousands of times (0.3 ms each otherwise).
    """
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    base = make_url(url)
    name = f"{base.database}_{worker}" if worker else base.database
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                               {"name": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
            except DBAPIError:  # a database the tests' user does not own: slower, as correct
                pass
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


# What Chromium does with the pages (scripts, forms, focus, layout, accessibility) does not
# depend on the database: CI's PostgreSQL run leaves the browser tests to the SQLite run and
# checks the pages' database work without a browser (the other tests, and
# tests/test_pages_answer.py for every page the crawl visits).
_IN_THE_BROWSER = sqlite_run_only(
    "what the browser does with the pages (every page the crawl visits is requested on "
    "PostgreSQL by tests/test_pages_answer.py)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In the PostgreSQL run, the browser tests skip (above)."""
    if not ON_POSTGRESQL:
        return
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(_IN_THE_BROWSER)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(str(tmp_path_factory.mktemp("db")))


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    os.environ["RELAIS_INSTANCE_PATH"] = str(instance)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "http://relais.test",
        # scrypt at 1/32 of the production cost: thousands of tests create and log in people,
        # and at full cost hashing alone took most of the suite's time. Production's method is
        # checked in tests/accounts/test_passwords.py.
        "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH_METHOD,
        # Every test's requests come from one address: limits no test reaches (the rate-limit
        # tests set small ones, tests/security/test_rate_limits.py).
        **{f"RATELIMIT_{surface}": "1000000 per minute"
           for surface in ("API", "LRS", "WEBHOOK", "ANONYMOUS")},
    })
    with app.app_context():
        reset_schema()
        from lms.cli import upgrade_database

        upgrade_database()
    request_started.connect(_fresh_g, app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _fresh_g(sender: Flask, **_extra: Any) -> None:
    """Give each test request an empty ``g``, as each real request has.

    Tests hold one app context that the test client's requests reuse, so without this the
    logged-in user (Flask-Login), the locale (Flask-Babel) and the current organization cached
    in ``g`` by one request would leak into the next, even from another client.
    """
    for name in list(vars(g)):
        delattr(g, name)


def reset_schema() -> None:
    """Drop everything in the test database, so migrations start from empty."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    """Each test runs in an app context and leaves the database empty and the settings as it
    found them behind it (a test may change ``app.config`` without restoring it)."""
    settings = dict(app.config)
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Every table is emptied, so foreign-key triggers have nothing to check; left
                # on, each deleted statement's cascade scans the statement index's dead rows,
                # which makes emptying a large import quadratic.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in _tables_with_rows(conn):
                conn.execute(delete(table))
            if conn.dialect.name == "postgresql":
                # The statement ids of the partitioned store (migration 0040): a table the
                # models do not describe.
                conn.execute(text("DELETE FROM xapi_statement_ids"))
    app.config.clear()
    app.config.update(settings)


_PROBES: dict[str, tuple[list[Table], str]] = {}


def _tables_with_rows(conn: Connection) -> list[Table]:
    """The tables that hold rows, children before parents: one query finds them, so emptying
    the database after a test costs a round trip per table the test wrote to, not per table.
    The query is written once per database kind: building and compiling its ~100 parts took
    ~50 ms, after every test of the suite."""
    if conn.dialect.name not in _PROBES:
        tables = list(reversed(db.metadata.sorted_tables))
        probe = union_all(*(select(literal(i)).where(exists().select_from(table))
                            for i, table in enumerate(tables)))
        _PROBES[conn.dialect.name] = (
            tables, str(probe.compile(conn, compile_kwargs={"literal_binds": True})))
    tables, sql = _PROBES[conn.dialect.name]
    written = set(conn.exec_driver_sql(sql).scalars())
    return [table for i, table in enumerate(tables) if i in written]


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


_seq = itertools.count(1)


@pytest.fixture()
def create_org() -> Callable[..., Organization]:
    """Return a factory: ``create_org(slug=None, name=None)``."""

    def factory(slug: str | None = None, name: str | None = None) -> Organization:
        n = next(_seq)
        org = accounts.create_organization(slug=slug or f"org-{n}", name=name or f"Org {n}")
        db.session.commit()
        return org

    return factory


@pytest.fixture()
def create_user(create_org: Callable[..., Organization]) -> Callable[..., User]:
    """Return a factory: ``create_user(role="learner", org=None, email=None, password=PASSWORD)``.

    Without ``org`` the user gets a new organization; ``org=False`` gives no membership.
    """

    def factory(role: str | Role = Role.LEARNER, org: Organization | None | bool = None,
                email: str | None = None, password: str | None = PASSWORD,
                name: str | None = None, **member: Any) -> User:
        n = next(_seq)
        user = accounts.create_user(email=email or f"user{n}@example.com",
                                    display_name=name or f"User {n}", password=password)
        if org is not False:
            organization = org if isinstance(org, Organization) else create_org()
            accounts.add_member(organization=organization, user=user, role=role, **member)
        db.session.commit()
        return user

    return factory


@pytest.fixture()
def login(client: FlaskClient) -> Callable[..., Any]:
    """Return ``login(user_or_email, password=PASSWORD)`` that logs the test client in."""

    def do_login(user: User | str, password: str = PASSWORD) -> Any:
        email = user if isinstance(user, str) else user.email
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do_login


@pytest.fixture()
def api_token() -> Callable[[User], dict[str, str]]:
    """Return ``api_token(user)`` giving the Authorization header of a new token."""

    def make(user: User) -> dict[str, str]:
        _token, raw = accounts.issue_api_token(user=user, name="test")
        db.session.commit()
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture()
def count_queries(app: Flask) -> Callable[[], AbstractContextManager[list[str]]]:
    """Return ``count_queries()``, a context manager listing the SQL statements run inside it.

    As Indico's fixture of the same name: pins how many queries a page costs, so a page that
    starts running one query per row fails its test instead of slowing down unnoticed.
    """

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


@pytest.fixture()
def other_app(tmp_path: Path) -> Any:
    """Build a separate app with extra settings (restoring the instance path afterwards)."""
    apps = []
    saved = os.environ.get("RELAIS_INSTANCE_PATH")

    def make(**config: Any) -> Flask:
        os.environ["RELAIS_INSTANCE_PATH"] = str(tmp_path / f"instance{len(apps)}")
        app = create_app({"TESTING": True, "SECRET_KEY": "x", **config})
        apps.append(app)
        return app

    yield make
    if saved is not None:
        os.environ["RELAIS_INSTANCE_PATH"] = saved
    for app in apps:
        with app.app_context():
            db.session.remove()
            # Every engine (a read replica's too): a pooled connection left open would be
            # closed by the garbage collector in some later test, which then fails on its
            # ResourceWarning.
            for engine in db.engines.values():
                engine.dispose()
