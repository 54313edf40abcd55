"""The demo step: the six-week path runs with a pilot cohort, through the services."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from lms.courses.cohorts.models import Cohort, Enrollment, ModuleProgress
from lms.courses.elearning.models import QuizAttempt
from lms.courses.sessions.models import Attendance
from lms.extensions import db
from lms.xapi.models import Statement
from tests.support import load_demo_once

ADL = "http://adlnet.gov/expapi/verbs/"


def count(verb: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Statement).where(
        Statement.verb_id == ADL + verb)) or 0


def test_demo_runs_the_six_week_path_with_a_pilot_cohort():
    load_demo_once()
    # The pilot cohort (the certificates step adds a refresher cohort for recertification).
    (cohort,) = db.session.scalars(select(Cohort).where(Cohort.pilot.is_(True)))
    assert cohort.pilot and cohort.program.source_slug == "parcours-ambassadeurs-6-semaines"
    enrollments = list(db.session.scalars(select(Enrollment).where(
        Enrollment.cohort_id == cohort.id)))
    assert len(enrollments) == 8
    assert count("registered") == db.session.scalar(select(func.count()).select_from(Enrollment))
    # Kick-off attendance: six present (statements), one excused, one absent.
    statuses = sorted(a.status for a in db.session.scalars(select(Attendance)))
    assert statuses == ["absent", "excused"] + ["present"] * 6
    sessions = [json.loads(d)["object"]["id"] for d in db.session.scalars(
        select(Statement.data).where(Statement.verb_id == ADL + "attended"))]
    # (Coaching follow-ups held are "attended" too: count the sessions' only.)
    assert sum("/session/" in i for i in sessions) == 6
    assert count("experienced") > 0 and count("passed") >= 6 and count("failed") == 1
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) >= 7
    # Progress is projected from those statements.
    states = [p.state for p in db.session.scalars(select(ModuleProgress))]
    assert states.count("completed") >= 6 + 6  # kick-off for six, and the quizzes passed
    assert "failed" in states and "in_progress" in states
    # Every statement about the path carries the enrolment as its registration.
    registrations = {e.id for e in enrollments}
    for data in db.session.scalars(select(Statement.data).where(
            Statement.verb_id.in_([ADL + "attended", ADL + "passed"]))):
        assert json.loads(data)["context"]["registration"] in registrations
