"""The demo's coaching: a follow-up held with notes and action items, one scheduled, one
overdue, in the pilot cohort."""

from __future__ import annotations

from sqlalchemy import select

from lms.coaching import queries
from lms.coaching.models import FollowUp
from lms.extensions import db
from tests.support import load_demo_once


def test_demo_has_held_scheduled_and_overdue_follow_ups():
    load_demo_once()
    followups = list(db.session.scalars(select(FollowUp)))
    statuses = sorted(f.status for f in followups)
    assert statuses.count("held") == 1 and statuses.count("scheduled") >= 2
    held = next(f for f in followups if f.status == "held")
    assert held.notes and len(held.action_items) == 3 and held.statement_id
    assert any(a.status == "done" for a in held.action_items)
    assert all(f.enrollment.cohort.pilot for f in followups)
    due = queries.due_followups(held.organization_id)
    assert any(d.overdue for d in due) and any(not d.overdue for d in due)
