"""Services: catalogue copy, cohorts, enrolment (one, team, CSV), sessions with waiting list,
attendance per half-day, and the statements they record."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from lms.core.errors import Conflict, ValidationFailed
from lms.courses.cohorts.models import ACTIVE, WITHDRAWN, Enrollment
from lms.courses.cohorts.services import enrol, enrol_csv, enrol_team, withdraw
from lms.courses.programs.models import Program
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.courses.sessions.models import REGISTERED, WAITLISTED, SessionRegistration
from lms.courses.sessions.services import (
    half_days,
    record_attendance,
    register,
    schedule_session,
    set_capacity,
)
from lms.extensions import db
from tests.support import statements_by_verb

from .conftest import at


def statements(verb: str) -> list[dict]:
    return statements_by_verb(f"http://adlnet.gov/expapi/verbs/{verb}")


def test_catalogue_loads_idempotently_and_copies_into_an_organization(world):
    catalogue = db.session.scalars(select(Program).where(Program.organization_id.is_(None)))
    assert sorted(p.slug for p in catalogue) == [
        "formation-ambassadeurs-1-jour", "parcours-ambassadeurs-6-semaines",
        "sensibilisation-reseaux-sociaux"]
    assert "0 added, 0 updated, 3 unchanged" in load_catalogue()
    kinds = [m.kind for m in world.program.modules]
    assert kinds.count("elearning") == 4 and kinds.count("exercise") == 3
    assert kinds.count("coaching") == 2 and kinds[0] == "workshop"
    assert world.program.organization_id == world.org.id
    assert world.program.source_slug == "parcours-ambassadeurs-6-semaines"
    # A second copy gets its own slug, the first is untouched.
    again = copy_from_catalogue(organization=world.org, slug=world.program.slug)
    assert again.slug == "parcours-ambassadeurs-6-semaines-2"


def test_enrol_records_registered_with_the_enrolment_as_registration(world):
    enrollment = enrol(cohort=world.cohort, membership=world.member(world.learners[0]))
    db.session.commit()
    (st,) = statements("registered")
    assert st["context"]["registration"] == enrollment.id
    assert st["actor"]["account"]["name"] == str(world.learners[0].id)
    with pytest.raises(Conflict):
        enrol(cohort=world.cohort, membership=world.member(world.learners[0]))
    with pytest.raises(ValidationFailed):
        enrol(cohort=world.cohort, membership=world.member(world.trainer))


def test_enrol_a_team(world, create_user):
    create_user("learner", org=world.org, team="Marketing")
    enrolled = enrol_team(cohort=world.cohort, team="Sales")
    assert len(enrolled) == 4
    # Running it again adds nobody.
    assert enrol_team(cohort=world.cohort, team="Sales") == []


def test_csv_enrolment_is_all_or_nothing_with_line_numbers(world, create_user):
    outsider = create_user("learner")  # another organization
    a, b = world.learners[0].email, world.learners[1].email
    text = (f"email,name\n{a},A\n\n{outsider.email},X\n{world.trainer.email},T\n,none\n"
            f"{a},again\n{b},B\n")
    with pytest.raises(ValidationFailed) as exc:
        enrol_csv(cohort=world.cohort, text=text)
    report = exc.value.fields["file"].splitlines()
    assert report == [f"line 4: {outsider.email} is not a member of the organization",
                      f"line 5: {world.trainer.email} is not a learner",
                      "line 6: no e-mail address", f"line 7: {a} appears twice"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 0
    assert statements("registered") == []
    done = enrol_csv(cohort=world.cohort, text=f"Email\n{a.upper()}\n{b}\n")
    assert len(done) == 2


def test_withdraw_frees_the_seat_and_promotes_the_waiting_list(enrolled):
    w = enrolled
    session = schedule_session(cohort=w.cohort, module=w.module("lancement"),
                               starts_at=at(28, 8), ends_at=at(28, 11),
                               place="Lyon, salle Rhône", capacity=2)
    regs = [register(session=session, enrollment=e) for e in w.enrollments]
    assert [r.status for r in regs] == [REGISTERED, REGISTERED, WAITLISTED, WAITLISTED]
    withdraw(enrollment=w.enrollments[0])
    db.session.commit()
    assert w.enrollments[0].status == WITHDRAWN
    statuses = {r.enrollment_id: r.status for r in db.session.scalars(
        select(SessionRegistration).where(SessionRegistration.session_id == session.id))}
    assert w.enrollments[0].id not in statuses
    assert statuses[w.enrollments[2].id] == REGISTERED  # first on the list
    assert statuses[w.enrollments[3].id] == WAITLISTED
    # A waitlisted learner who leaves promotes nobody; a bigger room promotes in order.
    promoted = set_capacity(session=session, capacity=3)
    assert [r.enrollment_id for r in promoted] == [w.enrollments[3].id]
    with pytest.raises(ValidationFailed):
        set_capacity(session=session, capacity=1)
    # Re-enrolling the withdrawn learner reactivates the same enrolment (same registration).
    again = enrol(cohort=w.cohort, membership=w.enrollments[0].membership)
    assert again.id == w.enrollments[0].id and again.status == ACTIVE


def test_schedule_session_validates(enrolled):
    w = enrolled
    with pytest.raises(ValidationFailed) as exc:
        schedule_session(cohort=w.cohort, module=w.module("profil"),
                         starts_at=at(2, 10), ends_at=at(2, 9))
    assert set(exc.value.fields) == {"module", "ends_at", "place"}


def test_half_days_and_attendance_drive_the_workshop_progress(enrolled):
    w = enrolled
    # 9:00–17:00 Paris time on two days = four half-days.
    session = schedule_session(cohort=w.cohort, module=w.module("lancement"),
                               starts_at=at(1, 8), ends_at=at(2, 16),
                               virtual_link="https://meet.example/relais")
    assert half_days(session) == [(date(2026, 12, 1), "am"), (date(2026, 12, 1), "pm"),
                                           (date(2026, 12, 2), "am"), (date(2026, 12, 2), "pm")]
    e = w.enrollments[0]
    with pytest.raises(ValidationFailed):  # no seat yet
        record_attendance(session=session, enrollment=e, day=date(2026, 12, 1),
                          half="am", status="present", recorded_by=w.trainer)
    register(session=session, enrollment=e)
    mark = record_attendance(session=session, enrollment=e, day=date(2026, 12, 1),
                             half="am", status="present", recorded_by=w.trainer)
    db.session.commit()
    assert mark.signed_at is not None and mark.recorded_by_id == w.trainer.id
    (st,) = statements("attended")
    assert st["context"]["registration"] == e.id
    progress = {p.module.key: p.state for p in e.progress}
    assert progress["lancement"] == "completed"
    # Same mark again: nothing new. Corrected to absent: the statement is voided, progress back.
    record_attendance(session=session, enrollment=e, day=date(2026, 12, 1), half="am",
                      status="present", recorded_by=w.trainer)
    assert len(statements("attended")) == 1
    record_attendance(session=session, enrollment=e, day=date(2026, 12, 1), half="am",
                      status="absent", recorded_by=w.trainer)
    db.session.commit()
    assert {p.module.key: p.state for p in e.progress}["lancement"] == "not_started"
    with pytest.raises(ValidationFailed):  # not one of the session's half-days
        record_attendance(session=session, enrollment=e, day=date(2026, 12, 3),
                          half="am", status="present", recorded_by=w.trainer)
