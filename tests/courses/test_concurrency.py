"""Concurrent registrations never give more seats than the capacity (threads, one session
each, as several app processes would)."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from lms.courses.cohorts.models import Enrollment
from lms.courses.sessions import services as session_services
from lms.courses.sessions.models import SessionRegistration, TrainingSession
from lms.courses.sessions.services import schedule_session
from lms.extensions import db

from .conftest import at


def test_the_last_seats_go_to_exactly_capacity_learners(app, enrolled):
    w = enrolled
    session = schedule_session(cohort=w.cohort, module=w.module("lancement"),
                               starts_at=at(28, 8), ends_at=at(28, 11),
                               place="Lyon", capacity=2)
    db.session.commit()
    session_id, enrollment_ids = session.id, [e.id for e in w.enrollments]
    start = threading.Barrier(len(enrollment_ids))
    errors: list[BaseException] = []

    def register(enrollment_id: str) -> None:
        with app.app_context():
            try:
                start.wait()
                for _attempt in range(20):
                    try:
                        session_services.register(
                            session=db.session.get(TrainingSession, session_id),
                            enrollment=db.session.get(Enrollment, enrollment_id))
                        db.session.commit()
                        return
                    except OperationalError:  # SQLite: the database was busy; try again
                        db.session.rollback()
            except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(e,)) for e in enrollment_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    statuses = sorted(r.status for r in db.session.scalars(select(SessionRegistration)))
    assert statuses == ["registered", "registered", "waitlisted", "waitlisted"]
