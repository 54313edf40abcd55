"""Two coaches recording at once (threads, one session each, as several app processes would):
a follow-up is held once, with one statement; two follow-ups held together still complete the
module."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from lms.coaching import services
from lms.coaching.models import FollowUp
from lms.core.errors import Conflict
from lms.core.models import utcnow
from lms.courses.cohorts.queries import progress_by_module
from lms.extensions import db
from lms.xapi.models import Statement

ATTENDED = "http://adlnet.gov/expapi/verbs/attended"


def _race(app, jobs: list[Callable[[], None]]) -> tuple[int, int, list[BaseException]]:
    """Run the jobs at once, each in its own session; (committed, conflicts, other errors)."""
    start = threading.Barrier(len(jobs))
    done, conflicts, errors = [], [], []

    def run(job: Callable[[], None]) -> None:
        with app.app_context():
            try:
                start.wait()
                for _attempt in range(30):
                    try:
                        job()
                        db.session.commit()
                        done.append(1)
                        return
                    except OperationalError:  # SQLite: the database was busy; try again
                        db.session.rollback()
                    except Conflict:
                        db.session.rollback()
                        conflicts.append(1)
                        return
            except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return len(done), len(conflicts), errors


def _hold(followup_id: int) -> Callable[[], None]:
    return lambda: services.record_held(followup=db.session.get(FollowUp, followup_id),
                                        notes="n")


def _schedule(w, hours: int) -> int:
    f = services.schedule(enrollment=w.enrollments[0], module=w.module("suivi-1"),
                          coach=w.member(w.trainer),
                          scheduled_at=utcnow() - timedelta(hours=hours), place="Salle")
    db.session.commit()
    return f.id


def test_a_follow_up_recorded_by_two_coaches_at_once_is_held_once(app, enrolled):
    followup_id = _schedule(enrolled, 1)
    done, conflicts, errors = _race(app, [_hold(followup_id)] * 3)
    assert not errors, errors
    assert (done, conflicts) == (1, 2)
    assert db.session.scalar(select(func.count()).select_from(Statement).where(
        Statement.verb_id == ATTENDED)) == 1


def test_the_last_two_follow_ups_held_at_once_complete_the_module(app, enrolled):
    w = enrolled
    services.set_plan(module=w.module("suivi-1"), followups=2, spacing_days=7,
                      duration_minutes=30)
    db.session.commit()
    first, second = _schedule(w, 2), _schedule(w, 1)
    done, conflicts, errors = _race(app, [_hold(first), _hold(second)])
    assert not errors, errors
    assert (done, conflicts) == (2, 0)
    progress = progress_by_module(w.enrollments[0].id)
    assert progress[w.module("suivi-1").id].state == "completed"
