"""Migrations build, from an empty database, exactly the schema the models describe.

Runs on SQLite and, with ``RELAIS_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import os
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


def schema_differences(connection: Any) -> list[Any]:
    """What autogenerate would change to make the database match the models (flattened)."""
    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "compare_server_default": False,
        "render_as_batch": True, "render_item": _render_item})
    diffs: list[Any] = []
    for diff in compare_metadata(context, db.metadata):
        # Column changes come grouped in a list; everything else is one tuple.
        diffs.extend(diff if isinstance(diff, list) else [diff])
    return diffs


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


@pytest.mark.slow
def test_migrations_upgrade_from_empty_downgrade_and_upgrade_again(empty_database, tmp_path):
    previous = os.environ.get("RELAIS_INSTANCE_PATH")
    os.environ["RELAIS_INSTANCE_PATH"] = str(tmp_path)
    try:
        other = create_app({"TESTING": True, "SECRET_KEY": "x",
                            "SQLALCHEMY_DATABASE_URI": empty_database})
    finally:
        if previous is not None:
            os.environ["RELAIS_INSTANCE_PATH"] = previous
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
