"""A read replica (RELAIS_READ_REPLICA_URL): the HR dashboards and their exports read from it,
read-only; every other page, and every write, stays on the primary. Shown on the skill map
(a dashboard wearing ``reads_from_replica``) with a real second connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lms.accounts.models import Role
from lms.core.replica import REPLICA
from lms.extensions import db
from tests.conftest import TEST_PASSWORD_HASH_METHOD

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def org(create_org, content):
    return create_org(slug="lumiere")


def _replica_app(other_app: Any, app: Any, replica_url: str) -> Any:
    return other_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                     READ_REPLICA_URL=replica_url, WTF_CSRF_ENABLED=False,
                     PASSWORD_HASH_METHOD=TEST_PASSWORD_HASH_METHOD)


@contextmanager
def _queries(engine: Engine) -> Iterator[list[str]]:
    """The SQL run on ``engine`` inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _client(replica_app: Any, hr: Any) -> Any:
    client = replica_app.test_client()
    response = client.post("/login", data={"email": hr.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_dashboards_read_from_the_replica_and_other_pages_from_the_primary(
        app, other_app, org, create_user, api_token):
    hr = create_user(Role.HR, org=org, password=PASSWORD, name="Hélène")
    create_user(Role.LEARNER, org=org, name="Ana")
    # The replica here is the same database through a second, read-only connection: a write
    # sent there would fail (PostgreSQL default_transaction_read_only, SQLite mode=ro).
    replica_app = _replica_app(other_app, app, app.config["SQLALCHEMY_DATABASE_URI"])
    client = _client(replica_app, hr)
    with replica_app.app_context():
        replica, primary = db.engines[REPLICA], db.engines[None]
    assert replica is not primary

    with _queries(replica) as on_replica, _queries(primary) as on_primary:
        page = client.get("/o/lumiere/skills/map")
    assert page.status_code == 200
    assert "<li>Ana</li>" in page.get_data(as_text=True)
    assert on_replica, "the skill map read nothing from the replica"
    assert all(sql.lstrip().upper().startswith(("SELECT", "WITH")) for sql in on_replica)
    # Before the view: the login session and the signed-in person, from the primary.
    assert on_primary

    # The CSV's rows are read while it is sent, after the view returned: from the replica too.
    with _queries(replica) as on_replica, _queries(primary) as on_primary:
        csv_export = client.get("/o/lumiere/skills/map.csv")
        assert csv_export.status_code == 200 and "Ana" in csv_export.get_data(as_text=True)
    rows_query = "ORDER BY users.name_key, users.id"
    assert any(rows_query in sql for sql in on_replica), "the CSV's rows came from elsewhere"
    assert not any(rows_query in sql for sql in on_primary)
    assert all(sql.lstrip().upper().startswith(("SELECT", "WITH")) for sql in on_replica)

    # The API's skill map, as its page.
    with _queries(replica) as on_replica:
        api_map = client.get("/api/v1/orgs/lumiere/skill-map", headers=api_token(hr))
    assert api_map.status_code == 200
    assert [i["name"] for i in api_map.get_json()["items"]] == ["Ana"]
    assert on_replica

    # A page that is not a dashboard, and a write, never touch the replica.
    with _queries(replica) as on_replica:
        assert client.get("/", follow_redirects=True).status_code == 200
        assert client.post("/logout").status_code in (302, 303)
    assert on_replica == []


def test_a_lagging_replica_shows_its_own_copy_on_dashboards_only(
        app, other_app, org, create_user, tmp_path, api_token):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("copying a PostgreSQL database needs every other session off it; the "
                    "routing itself is shown on PostgreSQL by the test above")
    hr = create_user(Role.HR, org=org, password=PASSWORD)
    create_user(Role.LEARNER, org=org, name="Ana")
    # The replica: a copy of the database taken now, as a replica that stopped replaying.
    copy = tmp_path / "replica.db"
    db.session.commit()
    source, target = sqlite3.connect(db.engine.url.database), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    create_user(Role.LEARNER, org=org, name="Bastien")
    replica_app = _replica_app(other_app, app, f"sqlite:///{copy}")
    client = _client(replica_app, hr)

    html = client.get("/o/lumiere/skills/map").get_data(as_text=True)
    assert "<li>Ana</li>" in html and "<li>Bastien</li>" not in html
    # The CSV export's streamed rows and the API come from the copy too.
    csv_export = client.get("/o/lumiere/skills/map.csv").get_data(as_text=True)
    assert "Ana" in csv_export and "Bastien" not in csv_export
    # (The token is newer than the copy: the API's credentials are read from the primary.)
    names = [i["name"] for i in client.get("/api/v1/orgs/lumiere/skill-map",
                                           headers=api_token(hr)).get_json()["items"]]
    assert "Ana" in names and "Bastien" not in names

    # Without the setting the same page reads the primary, which has both.
    primary_app = other_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                            WTF_CSRF_ENABLED=False)
    html = _client(primary_app, hr).get("/o/lumiere/skills/map").get_data(as_text=True)
    assert "<li>Ana</li>" in html and "<li>Bastien</li>" in html
