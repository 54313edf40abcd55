"""The statements' filter index has no foreign key: an organization's deletion takes its index
rows along with its statements, and other organizations keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from lms.extensions import db
from lms.xapi.models import Statement, StatementIndex
from lms.xapi.record import record


def _statement(n: int) -> dict[str, Any]:
    return {"actor": {"mbox": f"mailto:person{n}@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": f"http://relais.test/activities/module/{n}"}}


def _counts(organization_id: int) -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Statement).where(
                Statement.organization_id == organization_id)) or 0,
            db.session.scalar(select(func.count()).select_from(StatementIndex).where(
                StatementIndex.organization_id == organization_id)) or 0)


def test_deleting_an_organization_deletes_its_index_rows(
        create_org: Callable[..., Any]) -> None:
    gone, kept = create_org(), create_org()
    record([_statement(n) for n in range(3)], organization_id=gone.id)
    record([_statement(n) for n in range(2)], organization_id=kept.id)
    db.session.commit()
    gone_id = gone.id
    assert _counts(gone_id)[0] == 3 and _counts(gone_id)[1] > 0
    before = _counts(kept.id)
    db.session.delete(gone)
    db.session.commit()
    assert _counts(gone_id) == (0, 0)
    assert _counts(kept.id) == before
