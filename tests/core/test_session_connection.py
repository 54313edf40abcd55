"""The driver queries of the hot paths (``driver_sql``) run in the session's transaction,
whichever transaction that is now: the connection they keep for a transaction is never used
for the next one, nor for a transaction that failed and must be rolled back."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, PendingRollbackError

from lms.accounts.models import Organization
from lms.core.database import driver_sql
from lms.extensions import db


def _slugs() -> list[str]:
    return [row.slug for row in driver_sql("SELECT slug FROM organizations ORDER BY slug").rows]


def _add(slug: str) -> None:
    driver_sql("INSERT INTO organizations (slug, name, created_at) VALUES (?, ?, ?)",
               (slug, slug.title(), "2026-12-07 08:00:00.000000"))


def test_driver_writes_follow_the_sessions_commits_and_rollbacks() -> None:
    _add("rolled-back")
    assert _slugs() == ["rolled-back"]
    db.session.rollback()
    assert _slugs() == []
    _add("kept")
    db.session.commit()
    _add("after-commit")
    db.session.rollback()
    assert _slugs() == ["kept"]


def test_a_failed_transaction_refuses_driver_queries_until_rolled_back() -> None:
    db.session.add(Organization(slug="taken", name="Taken"))
    db.session.commit()
    assert _slugs() == ["taken"]  # the connection of this transaction, kept
    db.session.add(Organization(slug="taken", name="Again"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    with pytest.raises(PendingRollbackError):
        _slugs()
    db.session.rollback()
    assert _slugs() == ["taken"]
