"""The dashboards through HTTP: a learner's programs, next steps and appointments; a trainer's
cohorts, the attendance, reviews and follow-ups waiting for them, and who is falling behind."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from lms.accounts.models import Role
from lms.coaching import services as coaching
from lms.core.models import utcnow
from lms.courses.cohorts.models import Cohort
from lms.courses.cohorts.services import create_cohort
from lms.courses.elearning.services import submit_quiz, view_lesson
from lms.courses.exercises.queries import due_for
from lms.courses.exercises.services import submit_evidence
from lms.courses.sessions.services import (
    half_days,
    local_zone,
    record_attendance,
    register,
    schedule_session,
)
from lms.extensions import db
from lms.reports import queries


def _page(client, slug: str = "acme") -> str:
    response = client.get(f"/o/{slug}/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _bar(page: str, label: str) -> int:
    match = re.search(r'<progress max="100" value="(\d+)" aria-label="' + re.escape(label), page)
    assert match, label
    return int(match.group(1))


def _starts_now(w, days_ago: int = 20, days_left: int = 20) -> None:
    """Move the cohort's dates around today (the fixture's cohort starts in December)."""
    today = utcnow().date()
    w.cohort.starts_on = today - timedelta(days=days_ago)
    w.cohort.ends_on = today + timedelta(days=days_left)
    db.session.commit()


def test_learner_sees_programs_progress_and_next_steps(enrolled, client, login):
    w = enrolled
    e = w.enrollments[0]
    login(w.learners[0])
    page = _page(client)
    title = "Six-week ambassador path (copy)"
    assert _bar(page, f"Progress in {title}") == 0
    assert "0 of 10 required modules completed" in page
    profil = w.module("profil")
    # Next steps: the modules without prerequisites, in order, each linked to where it starts.
    assert f'href="/o/acme/training/{e.id}#module-{w.module("lancement").id}"' in page
    assert f'href="/o/acme/training/{e.id}/lessons/{profil.lessons[0].id}"' in page
    assert "Exercises to hand in" in page
    # Reading both lessons and passing the quiz completes "profil": the bar moves, and the
    # next steps now lead to its exercise.
    for lesson in profil.lessons:
        view_lesson(enrollment=e, lesson=lesson)
    quiz = profil.quizzes[0]
    submit_quiz(enrollment=e, quiz=quiz, answers={
        q.key: [o["key"] for o in q.options if o.get("correct")] for q in quiz.questions})
    db.session.commit()
    page = _page(client)
    assert _bar(page, f"Progress in {title}") == 10  # one of ten required modules
    assert "1 of 10 required modules completed" in page
    exercise = w.module("exercice-profil")
    assert f'href="/o/acme/training/{e.id}/exercises/{exercise.id}"' in page


def test_learner_sees_due_exercises_next_session_and_followup(enrolled, client, login):
    w = enrolled
    e = w.enrollments[0]
    now = utcnow()
    session = schedule_session(
        cohort=w.cohort, module=w.module("lancement"), starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=3), place="Salle Jean Jaurès",
        virtual_link="https://visio.example.com/lancement")
    registration = register(session=session, enrollment=e)
    coach = w.member(w.trainer)
    coaching.schedule(enrollment=e, module=w.module("suivi-1"), coach=coach,
                      scheduled_at=now + timedelta(days=10), duration_minutes=45,
                      video_link="https://visio.example.com/suivi")
    db.session.commit()
    login(w.learners[0])
    page = _page(client)
    assert "Salle Jean Jaurès" in page and "https://visio.example.com/lancement" in page
    assert f"/sessions/{session.id}/registrations/{registration.id}/calendar.ics" in page
    assert "You have a seat." in page
    assert "Next coaching follow-up" in page and "with Tess Trainer" in page
    assert "https://visio.example.com/suivi" in page and "45 min" in page
    assert "/o/acme/coaching/followups/" in page and "/calendar.ics" in page
    due = due_for(w.member(w.learners[0]))
    assert due
    for item in due:
        assert f"/training/{e.id}/exercises/{item.module.id}" in page
    # The calendar link works for them.
    ics = client.get(f"/o/acme/sessions/{session.id}/registrations/{registration.id}"
                     "/calendar.ics")
    assert ics.status_code == 200 and b"BEGIN:VEVENT" in ics.data
    # Another learner of the cohort has no seat: the session is offered to register.
    client.post("/logout")
    login(w.learners[1])
    page = _page(client)
    assert "You are not registered yet." in page and "No follow-up scheduled." in page


def test_learner_without_programs_sees_empty_states(world, client, login):
    login(world.learners[0])
    page = _page(client)
    assert "You are not enrolled in any program yet." in page
    assert "No session planned for you." in page
    assert "No exercise waiting for you." in page
    assert "<table" not in page  # no staff tables for learners


def test_trainer_dashboard_lists_the_work_waiting(enrolled, client, login, create_user):
    w = enrolled
    _starts_now(w)
    now = utcnow()
    first, second = w.enrollments[:2]
    # Yesterday's morning session (one half-day whatever the hour of the run), with two
    # seats and one mark.
    morning = datetime.combine(now.astimezone(local_zone()).date() - timedelta(days=1),
                               time(9), tzinfo=local_zone())
    session = schedule_session(
        cohort=w.cohort, module=w.module("lancement"), starts_at=morning,
        ends_at=morning + timedelta(hours=2), place="Salle A")
    for e in (first, second):
        register(session=session, enrollment=e)
    day, half = half_days(session)[0]
    record_attendance(session=session, enrollment=first, day=day, half=half,
                      status="present", recorded_by=w.trainer)
    # A hand-in to review and an overdue follow-up.
    module = w.module("exercice-profil")
    submission = submit_evidence(
        enrollment=second, module=module, post_url="https://www.linkedin.com/in/learner-1",
        reflection="J'ai réécrit mon titre.")
    coach = w.member(w.trainer)
    followup = coaching.schedule(enrollment=first, module=w.module("suivi-1"), coach=coach,
                                 scheduled_at=now + timedelta(days=1), place="Bureau 12")
    followup.scheduled_at = now - timedelta(days=2)
    db.session.commit()
    login(w.trainer)
    page = _page(client)
    assert "My cohorts" in page and "Pilot" in page
    assert f'href="/o/acme/sessions/{session.id}/attendance"' in page
    assert "1 mark missing" in page
    assert f'href="/o/acme/exercises/submissions/{submission.id}"' in page
    assert "Learner 1" in page
    assert "Follow-ups due" in page and "overdue" in page
    assert f'href="/o/acme/coaching/followups/{followup.id}"' in page
    # Everyone is at 0 % twenty days into a forty-day cohort: 50 % expected, all behind.
    assert "Learners falling behind" in page and "(4)" in page
    assert "50 % expected by now" in page
    assert "more than 15 points below" in page  # the rule is said on the page
    # Once the sheet is complete, the session leaves the list.
    record_attendance(session=session, enrollment=second, day=day, half=half,
                      status="absent", recorded_by=w.trainer)
    db.session.commit()
    page = _page(client)
    assert f"/sessions/{session.id}/attendance" not in page
    assert "Every session that has started has its attendance." in page


def test_falling_behind_rule(enrolled):
    w = enrolled
    _starts_now(w, days_ago=30, days_left=10)  # 75 % of the dates elapsed
    e = w.enrollments[0]
    profil = w.module("profil")
    for lesson in profil.lessons:
        view_lesson(enrollment=e, lesson=lesson)
    db.session.commit()
    overview = queries.cohorts_overview(w.org.id, today=utcnow().date())
    (summary,) = overview.cohorts
    assert summary.learners == 4 and summary.expected == 75 and summary.behind == 4
    flagged = {b.enrollment.id: b for b in overview.behind}
    assert flagged[e.id].pace.expected == 75 and flagged[e.id].pace.idle_days is None
    # Enrolled long ago with no activity at all: idle since enrolment.
    other = w.enrollments[1]
    other.enrolled_at = utcnow() - timedelta(days=20)
    db.session.commit()
    overview = queries.cohorts_overview(w.org.id, today=utcnow().date())
    assert {b.enrollment.id: b for b in overview.behind}[other.id].pace.idle_days == 20
    # A cohort that has not started yet flags nobody.
    w.cohort.starts_on = utcnow().date() + timedelta(days=1)
    w.cohort.ends_on = utcnow().date() + timedelta(days=40)
    db.session.commit()
    overview = queries.cohorts_overview(w.org.id, today=utcnow().date())
    assert overview.behind_total == 0 and overview.cohorts[0].behind == 0


def test_trainers_see_their_own_cohorts_hr_reads_admins_see_all(enrolled, client, login,
                                                                 create_user):
    w = enrolled
    other_trainer = create_user(Role.TRAINER, org=w.org, name="Otto Other")
    hr = create_user(Role.HR, org=w.org, name="Hélène RH")
    admin = create_user(Role.ADMIN, org=w.org, name="Ada Admin")
    create_cohort(program=w.program, name="Vague 2", trainers=[w.member(other_trainer)])
    db.session.commit()
    login(other_trainer)
    page = _page(client)
    assert "Vague 2" in page and "Pilot" not in page
    client.post("/logout")
    login(hr)
    page = _page(client)
    assert "Vague 2" in page and "Pilot" in page
    assert "Attendance to take" not in page and "Submissions to review" not in page
    assert f'href="/o/acme/cohorts/{w.cohort.id}"' not in page  # HR has no cohort pages
    client.post("/logout")
    login(admin)
    page = _page(client)
    assert "Vague 2" in page and "Pilot" in page and "Attendance to take" in page
    assert f'href="/o/acme/cohorts/{w.cohort.id}"' in page


def test_dashboard_in_french(enrolled, client, login):
    w = enrolled
    w.learners[0].locale = "fr"
    w.trainer.locale = "fr"
    db.session.commit()
    login(w.learners[0])
    page = _page(client)
    assert "Mes parcours" in page and "Prochaines étapes" in page
    assert "Parcours ambassadeurs en six semaines" in page
    client.post("/logout")
    login(w.trainer)
    page = _page(client)
    assert "Mes promotions" in page and "Apprenants en retard" in page


def test_cohort_progress_is_the_mean_of_learners(enrolled, client, login):
    w = enrolled
    e = w.enrollments[0]
    for lesson in w.module("profil").lessons:
        view_lesson(enrollment=e, lesson=lesson)
    db.session.commit()
    standing = queries.standings([e])[e.id]
    assert standing.required == 10 and standing.done == 0
    # Two of three steps (two lessons of two, no quiz yet) of one module of ten.
    assert standing.percent == round(66 / 10)
    cohort = db.session.get(Cohort, w.cohort.id)
    overview = queries.cohorts_overview(w.org.id, trainer=w.member(w.trainer))
    assert overview.cohorts[0].cohort is cohort
    assert overview.cohorts[0].percent == round(standing.percent / 4)
