"""Migrations build, from an empty database, exactly the schema the models describe.

Runs on SQLite and, with ``RELAIS_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from lms import create_app
from lms.extensions import db

# The tables of migrations 0001 (accounts) and 0002 (LRS credentials).
FOUNDATION_TABLES = {"organizations", "users", "memberships", "invitations", "api_tokens",
                     "login_failures", "xapi_credentials"}


def _render_item(type_: str, obj: Any, autogen_context: Any) -> Any:
    return False


# PostgreSQL's statement store is partitioned by month (migration 0040), which the models
# (SQLite's plain tables) do not describe: the partitions themselves, the id table that keeps
# ids unique in place of the unique constraint, and the outbox's foreign key as PostgreSQL
# clones it onto each partition.
_PARTITION = re.compile(r"^xapi_(statements|statement_index)_(y\d{4}m\d{2}|default)$")


def _include_name(name: str | None, type_: str, _parents: Any) -> bool:
    return not (type_ == "table" and name is not None and (
        _PARTITION.match(name) or name == "xapi_statement_ids"))


def _partitioning(diff: Any) -> bool:
    kind, *rest = diff
    if kind == "remove_fk":
        return any(_PARTITION.match(fk.column.table.name) for fk in rest[0].elements)
    return kind == "add_constraint" and rest[0].table.name == "xapi_statements" and \
        [c.name for c in rest[0].columns] == ["organization_id", "statement_id"]


def schema_differences(connection: Any) -> list[Any]:
    """What autogenerate would change to make the database match the models (flattened)."""
    postgres = connection.dialect.name == "postgresql"
    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "compare_server_default": False,
        "render_as_batch": True, "render_item": _render_item,
        **({"include_name": _include_name} if postgres else {})})
    diffs: list[Any] = []
    for diff in compare_metadata(context, db.metadata):
        # Column changes come grouped in a list; everything else is one tuple.
        diffs.extend(diff if isinstance(diff, list) else [diff])
    return [d for d in diffs if not (postgres and _partitioning(d))]


def _table_of(diff: Any) -> str:
    kind, *rest = diff
    if kind in {"add_table", "remove_table"}:
        return str(rest[0].name)
    if kind in {"add_index", "remove_index"}:
        return str(rest[0].table.name)
    if kind in {"add_constraint", "remove_constraint", "add_fk", "remove_fk"}:
        return str(rest[0].table.name)
    if kind in {"add_column", "remove_column"}:
        return str(rest[1])
    if kind.startswith("modify_"):
        return str(rest[1])
    return "?"


def _describe(diffs: list[Any]) -> str:
    by_table: dict[str, list[str]] = defaultdict(list)
    for diff in diffs:
        by_table[_table_of(diff)].append(repr(diff)[:300])
    return "\n".join(f"{table}:\n  " + "\n  ".join(lines)
                     for table, lines in sorted(by_table.items()))


def test_the_test_database_was_migrated_from_empty_to_head(app):
    # conftest drops everything and runs the migrations once per session.
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head


def test_all_models_match_the_migrations():
    with db.engine.connect() as conn:
        diffs = schema_differences(conn)
    assert not diffs, "the migrations do not build what the models describe:\n" + _describe(diffs)


def _alembic_config() -> Any:
    return current_app.extensions["migrate"].migrate.get_config(
        current_app.extensions["migrate"].directory)


@pytest.fixture()
def empty_database(database_url: str, tmp_path: Any) -> Iterator[str]:
    """A database URL with nothing in it: a new SQLite file, or a new PostgreSQL schema."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"migration_test_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()



def _app_on(database_url: str, instance: Any) -> Any:
    """An app on ``database_url`` (its instance folder in ``instance``), the environment's
    instance path restored afterwards."""
    previous = os.environ.get("RELAIS_INSTANCE_PATH")
    os.environ["RELAIS_INSTANCE_PATH"] = str(instance)
    try:
        return create_app({"TESTING": True, "SECRET_KEY": "x",
                           "SQLALCHEMY_DATABASE_URI": database_url})
    finally:
        if previous is not None:
            os.environ["RELAIS_INSTANCE_PATH"] = previous

@pytest.mark.slow
def test_migrations_upgrade_from_empty_downgrade_and_upgrade_again(empty_database, tmp_path):
    other = _app_on(empty_database, tmp_path)
    directory = other.extensions["migrate"].directory
    with other.app_context():
        try:
            upgrade(directory=directory)
            tables = set(inspect(db.engine).get_table_names())
            assert FOUNDATION_TABLES <= tables
            downgrade(directory=directory, revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade(directory=directory)
            assert set(inspect(db.engine).get_table_names()) == tables
            with db.engine.connect() as conn:
                diffs = [d for d in schema_differences(conn)
                         if _table_of(d) in FOUNDATION_TABLES]
            assert not diffs, _describe(diffs)
        finally:
            db.session.remove()
            db.engine.dispose()


def _rows(conn: Any, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params).all())


def _at_head_as_the_models(directory: str) -> None:
    """Upgrade to head, and check the schema is then the models'."""
    upgrade(directory=directory)
    with db.engine.connect() as conn:
        assert not schema_differences(conn)


@pytest.mark.slow
def test_the_monthly_partitions_take_the_rows_stored_and_give_them_back(empty_database,
                                                                         tmp_path):
    """Migration 0040 moves a store with rows into monthly partitions (PostgreSQL; SQLite's
    tables stay as they are) and its downgrade moves them back, keys, index rows, outbox
    entries and retention's cursor following.
    """
    from datetime import UTC, datetime, timedelta

    other = _app_on(empty_database, tmp_path)
    directory = other.extensions["migrate"].directory
    now = datetime.now(UTC).replace(microsecond=0)
    ages = [400, 40, 0]  # days ago, stored in this order: a year before, a month, now
    with other.app_context():
        try:
            upgrade(directory=directory, revision="0039_running_figures")
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO organizations (id, slug, name, created_at, "
                                  "require_second_factor) VALUES (1, 'o', 'O', :t, false)"),
                             {"t": now})
                for age in ages:
                    stored = now - timedelta(days=age)
                    conn.execute(text(
                        "INSERT INTO xapi_statements (organization_id, statement_id, verb_id, "
                        "object_type, timestamp, stored, voided, data) VALUES (1, :sid, 'v', "
                        "'Activity', :t, :t, false, '{}')"), {"sid": str(uuid.uuid4()),
                                                              "t": stored})
                before = _rows(conn, "SELECT pk, statement_id FROM xapi_statements ORDER BY pk")
                for pk, _sid in before:
                    for kind in ("v", "a"):
                        conn.execute(text("INSERT INTO xapi_statement_index VALUES "
                                          "(1, :k, 'key', :pk)"), {"k": kind, "pk": pk})
                conn.execute(text(
                    "INSERT INTO xapi_outbox (organization_id, statement_pk, status, attempts, "
                    "next_attempt_at, created_at) VALUES (1, :pk, 'pending', 0, :t, :t)"),
                    {"pk": before[1][0], "t": now})
                conn.execute(text("INSERT INTO privacy_retention (organization_id, "
                                  "statements_done_pk, updated_at) VALUES (1, :pk, :t)"),
                             {"pk": before[1][0], "t": now})
            upgrade(directory=directory, revision="0040_statement_months")
            with db.engine.begin() as conn:
                after = _rows(conn, "SELECT pk, statement_id, stored FROM xapi_statements "
                                    "ORDER BY pk")
                assert [sid for _pk, sid, _s in after] == [sid for _pk, sid in before]
                index = _rows(conn, "SELECT statement_pk FROM xapi_statement_index "
                                    "ORDER BY statement_pk, kind")
                assert index == [(pk,) for pk, _sid, _s in after for _kind in "av"]
                assert _rows(conn, "SELECT statement_pk FROM xapi_outbox") == [(after[1][0],)]
                assert _rows(conn, "SELECT statements_done_pk FROM privacy_retention") == [
                    (after[1][0],)]
                if conn.dialect.name == "postgresql":
                    for (old, _sid), (pk, _sid2, stored) in zip(before, after, strict=True):
                        stored = stored.astimezone(UTC)
                        assert pk >> 40 == stored.year * 12 + stored.month - 1
                        assert pk & ((1 << 40) - 1) == old
                    parts = _rows(conn, "SELECT DISTINCT tableoid::regclass::text "
                                        "FROM xapi_statements")
                    assert len(parts) == len({(s.year, s.month) for _p, _i, s in after})
                    assert ("xapi_statements_default",) in _rows(
                        conn, "SELECT c.relname FROM pg_inherits i JOIN pg_class c "
                              "ON c.oid = i.inhrelid "
                              "WHERE i.inhparent = 'xapi_statements'::regclass")
                    assert _rows(conn, "SELECT statement_id::text, pk FROM xapi_statement_ids "
                                       "ORDER BY pk") == [(sid, pk) for pk, sid, _s in after]
                else:
                    assert [(pk, sid) for pk, sid, _s in after] == before
            downgrade(directory=directory, revision="0039_running_figures")
            with db.engine.begin() as conn:
                assert _rows(conn, "SELECT pk, statement_id FROM xapi_statements "
                                   "ORDER BY pk") == before
                assert _rows(conn, "SELECT statement_pk FROM xapi_statement_index "
                                   "ORDER BY statement_pk, kind") == [
                    (pk,) for pk, _sid in before for _kind in "av"]
                assert _rows(conn, "SELECT statement_pk FROM xapi_outbox") == [(before[1][0],)]
                assert _rows(conn, "SELECT statements_done_pk FROM privacy_retention") == [
                    (before[1][0],)]
            _at_head_as_the_models(directory)
        finally:
            db.session.remove()
            db.engine.dispose()


_NO_ORGANIZATION_KEY = ("xapi_statements", "xapi_activities", "advocacy_events",
                        "advocacy_daily_figures")


def _organization_keys(conn: Any) -> set[str]:
    """The tables of migration 0042 that have a foreign key to the organizations."""
    inspector = inspect(conn)
    return {table for table in _NO_ORGANIZATION_KEY
            if any(fk["referred_table"] == "organizations"
                   for fk in inspector.get_foreign_keys(table))}


def _kept_rows(conn: Any) -> list[list[Any]]:
    return [_rows(conn, "SELECT pk, organization_id, statement_id FROM xapi_statements"),
            _rows(conn, "SELECT id, organization_id, statement_pk FROM xapi_outbox"),
            _rows(conn, "SELECT id, organization_id, activity_id FROM xapi_activities"),
            _rows(conn, "SELECT id, organization_id, idem_key FROM advocacy_events"),
            _rows(conn, "SELECT organization_id, user_id, events FROM advocacy_daily_figures")]


@pytest.mark.slow
def test_the_organization_keys_go_and_come_back_with_the_rows(empty_database, tmp_path):
    """Migration 0042 drops the organization's foreign key of the tables an import writes row
    by row (SQLite makes them again) and keeps every row, outbox entries of the statements
    included; its downgrade deletes the rows of organizations that are gone and puts the keys
    back.
    """
    from datetime import UTC, datetime

    other = _app_on(empty_database, tmp_path)
    directory = other.extensions["migrate"].directory
    now = datetime.now(UTC).replace(microsecond=0)
    with other.app_context():
        try:
            upgrade(directory=directory, revision="0041_membership_team")
            with db.engine.begin() as conn:
                assert _organization_keys(conn) == set(_NO_ORGANIZATION_KEY)
                conn.execute(text("INSERT INTO organizations (id, slug, name, created_at, "
                                  "require_second_factor) VALUES (1, 'o', 'O', :t, false)"),
                             {"t": now})
                conn.execute(text("INSERT INTO users (id, email, display_name, active, "
                                  "created_at, named_in_results) VALUES (1, 'a@example.com', "
                                  "'A', true, :t, false)"), {"t": now})
                _insert_rows(conn, organization_id=1, now=now, n=1)
                before = _kept_rows(conn)
            upgrade(directory=directory, revision="0042_orgnofk")
            with db.engine.begin() as conn:
                assert _organization_keys(conn) == set()
                assert _kept_rows(conn) == before
                # Rows of an organization that does not exist now go in (nothing checks)...
                _insert_rows(conn, organization_id=99, now=now, n=2, outbox=False)
            downgrade(directory=directory, revision="0041_membership_team")
            with db.engine.begin() as conn:
                # ... and the downgrade deletes them before the keys come back.
                assert _kept_rows(conn) == before
                assert _organization_keys(conn) == set(_NO_ORGANIZATION_KEY)
            upgrade(directory=directory)
            with db.engine.connect() as conn:
                assert _kept_rows(conn) == before
                assert not schema_differences(conn)
        finally:
            db.session.remove()
            db.engine.dispose()


def _insert_rows(conn: Any, *, organization_id: int, now: Any, n: int,
                 outbox: bool = True) -> None:
    """A statement (with an outbox entry unless ``outbox`` is false: the outbox keeps its
    foreign key), an activity, an advocacy event and a daily figure of the organization
    (``n`` makes the keys unique)."""
    params = {"o": organization_id, "t": now, "n": n, "sid": str(uuid.uuid4())}
    conn.execute(text(
        "INSERT INTO xapi_statements (organization_id, statement_id, verb_id, object_type, "
        "timestamp, stored, voided, data) VALUES (:o, :sid, 'v', 'Activity', :t, :t, false, "
        "'{}')"), params)
    pk = conn.execute(text("SELECT max(pk) FROM xapi_statements")).scalar()
    if conn.dialect.name == "postgresql" and inspect(conn).has_table("xapi_statement_ids"):
        conn.execute(text("INSERT INTO xapi_statement_ids VALUES (:o, :sid, :pk)"),
                     {**params, "pk": pk})
    if outbox:
        conn.execute(text(
            "INSERT INTO xapi_outbox (organization_id, statement_pk, status, attempts, "
            "next_attempt_at, created_at) VALUES (:o, :pk, 'pending', 0, :t, :t)"),
            {**params, "pk": pk})
    conn.execute(text("INSERT INTO xapi_activities (organization_id, activity_id, definition, "
                      "updated_at) VALUES (:o, 'http://a.example/' || :n, '{}', :t)"), params)
    conn.execute(text(
        "INSERT INTO advocacy_events (organization_id, user_id, network, kind, occurred_at, "
        "source, idem_key, impressions, clicks, reactions, comments, reshares, signups, leads, "
        "hires, with_own_comment, created_at, updated_at) VALUES (:o, 1, 'linkedin', 'share', "
        ":t, 'csv', 'k' || :n, 0, 0, 0, 0, 0, 0, 0, 0, false, :t, :t)"), params)
    conn.execute(text(
        "INSERT INTO advocacy_daily_figures VALUES (:o, 1, :d, 'linkedin', 'share', 0, 0, 1, "
        "0, 0, 0, 0, 0, 0, 0, 0, 0)"), {**params, "d": now.date()})


def _index_partitions(conn: Any) -> list[Any]:
    return _rows(conn, "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                       "JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = 'xapi_statement_index'::regclass ORDER BY 1")


@pytest.mark.slow
def test_the_index_keys_become_hashes_and_come_back(empty_database, tmp_path):
    """Migration 0044 rewrites the filter index's (kind, key) rows as their hashes (every row
    still found by index_key of its kind and key; PostgreSQL keeps the monthly partitions and
    the DEFAULT one); its downgrade computes the text rows again from the statements' JSON,
    a StatementRef's with its target's."""
    import json
    from datetime import UTC, datetime

    from lms.xapi.record import index_rows
    from tests.support import hashed

    other = _app_on(empty_database, tmp_path)
    directory = other.extensions["migrate"].directory
    now = datetime.now(UTC).replace(microsecond=0)
    authority = {"objectType": "Agent",
                 "account": {"homePage": "https://relais.invalid", "name": "relais:1"}}
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    statements = [
        {"id": first, "actor": {"mbox": "mailto:ana@example.com"},
         "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
         "object": {"id": "https://x.example/module/1"},
         "context": {"registration": str(uuid.uuid4()),
                     "contextActivities": {"parent": [{"id": "https://x.example/program"}]}},
         "authority": authority},
        {"id": second, "actor": {"account": {"homePage": "https://x.example", "name": "bo"}},
         "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
         "object": {"objectType": "StatementRef", "id": first}, "authority": authority},
    ]
    with other.app_context():
        try:
            upgrade(directory=directory, revision="0043_team_weeks")
            expected: dict[str, set[tuple[str, str]]] = {}
            with db.engine.begin() as conn:
                postgres = conn.dialect.name == "postgresql"
                conn.execute(text("INSERT INTO organizations (id, slug, name, created_at, "
                                  "require_second_factor) VALUES (1, 'o', 'O', :t, false)"),
                             {"t": now})
                for st in statements:
                    target = st["object"]["id"] if "objectType" in st["object"] else None
                    conn.execute(text(
                        "INSERT INTO xapi_statements (organization_id, statement_id, verb_id, "
                        "object_type, object_statement_id, timestamp, stored, voided, data) "
                        "VALUES (1, :sid, 'v', 'Activity', :target, :t, :t, false, :data)"),
                        {"sid": st["id"], "target": target, "t": now,
                         "data": json.dumps(st)})
                    pk = conn.execute(text("SELECT max(pk) FROM xapi_statements")).scalar()
                    if postgres:
                        conn.execute(text("INSERT INTO xapi_statement_ids VALUES "
                                          "(1, :sid, :pk)"), {"sid": st["id"], "pk": pk})
                    rows = index_rows(st) | (expected[first] if target else set())
                    expected[st["id"]] = rows
                    for kind, key in rows:
                        conn.execute(text("INSERT INTO xapi_statement_index VALUES "
                                          "(1, :k, :key, :pk)"), {"k": kind, "key": key,
                                                                   "pk": pk})
                pks = dict(_rows(conn, "SELECT statement_id, pk FROM xapi_statements"))
                parts = _index_partitions(conn) if postgres else []
            upgrade(directory=directory, revision="0044_hashed_index_keys")
            with db.engine.begin() as conn:
                for sid, rows in expected.items():
                    assert {h for (h,) in _rows(
                        conn, "SELECT key_hash FROM xapi_statement_index "
                              "WHERE organization_id = 1 AND statement_pk = :pk",
                        pk=pks[sid])} == hashed(rows)
                columns = {c["name"] for c in inspect(conn).get_columns("xapi_statement_index")}
                assert columns == {"organization_id", "key_hash", "statement_pk"}
                if postgres:
                    assert _index_partitions(conn) == parts
                    assert ("xapi_statement_index_default", "DEFAULT") in parts
            downgrade(directory=directory, revision="0043_team_weeks")
            with db.engine.begin() as conn:
                for sid, rows in expected.items():
                    assert set(_rows(conn, "SELECT kind, key FROM xapi_statement_index "
                                           "WHERE statement_pk = :pk", pk=pks[sid])) == rows
                if postgres:
                    assert _index_partitions(conn) == parts
            _at_head_as_the_models(directory)
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.slow
def test_the_name_keys_are_filled_for_everyone_and_go_back(empty_database, tmp_path):
    """Migration 0045 gives each person present their folded name; its downgrade drops it."""
    from datetime import UTC, datetime

    other = _app_on(empty_database, tmp_path)
    directory = other.extensions["migrate"].directory
    now = datetime.now(UTC).replace(microsecond=0)
    names = {1: "Émilie ZOLA", 2: "Hélène Çelik", 3: "lucas martin"}
    with other.app_context():
        try:
            upgrade(directory=directory, revision="0044_hashed_index_keys")
            with db.engine.begin() as conn:
                for id_, name in names.items():
                    conn.execute(text(
                        "INSERT INTO users (id, email, display_name, active, created_at, "
                        "named_in_results) VALUES (:id, :email, :name, true, :t, false)"),
                        {"id": id_, "email": f"p{id_}@example.com", "name": name, "t": now})
            upgrade(directory=directory, revision="0045_user_name_key")
            with db.engine.connect() as conn:
                assert dict(_rows(conn, "SELECT id, name_key FROM users")) == {
                    1: "emilie zola", 2: "helene celik", 3: "lucas martin"}
            downgrade(directory=directory, revision="0044_hashed_index_keys")
            with db.engine.connect() as conn:
                assert "name_key" not in {c["name"] for c in inspect(conn).get_columns("users")}
                assert dict(_rows(conn, "SELECT id, display_name FROM users")) == names
        finally:
            db.session.remove()
            db.engine.dispose()
