"""The learner's dashboard: the questionnaire card leads until the first skill map is in, then
goes; exercises say "due today" and "overdue" in words; an exercise whose automatic
verification window has closed says so there and on its page."""

from __future__ import annotations

from datetime import timedelta

from lms.assessments import queries as skill_queries
from lms.assessments import services as skills
from lms.assessments.demo import answers_for
from lms.core.models import utcnow
from lms.courses.exercises.queries import settings_of
from lms.extensions import db


def _page(client) -> str:
    response = client.get("/o/acme/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_questionnaire_card_comes_first_then_goes(enrolled, client, login):
    w = enrolled
    skills.load_builtin_content()
    db.session.commit()
    login(w.learners[0])
    page = _page(client)
    assert "Start here: your skill map" in page
    assert page.index("Start here: your skill map") < page.index("My programs")
    questionnaire = skill_queries.builtin_questionnaires()[0]
    attempt, _ = skills.start_attempt(membership=w.member(w.learners[0]),
                                      questionnaire=questionnaire)
    answers_for(attempt, {"C1": 2}, set())
    skills.submit_attempt(attempt=attempt)
    db.session.commit()
    assert "Start here" not in _page(client)


def _exercise_settings(module, **settings):
    module.exercise = {**settings_of(module), **settings}


def test_due_today_overdue_and_a_closed_verification_window(enrolled, client, login):
    w = enrolled
    today = utcnow().date()
    w.cohort.starts_on = today - timedelta(days=5)
    for e in w.enrollments:
        e.enrolled_at = utcnow() - timedelta(days=12)
    profile, other = w.module("exercice-profil"), next(
        m for m in w.cohort.program.modules if m.kind == "exercise"
        and m.key != "exercice-profil")
    _exercise_settings(profile, due_days=5, verification={
        "network": "linkedin", "kinds": ["post"], "count": 2, "own_comment": True,
        "within_days": 3})
    _exercise_settings(other, due_days=2)
    db.session.commit()
    login(w.learners[0])
    page = _page(client)
    due = page[page.index('class="plain due-list"'):]
    profile_line = due[due.index(f"/exercises/{profile.id}"):]
    profile_line = profile_line[:profile_line.index("</li>")]
    other_line = due[due.index(f"/exercises/{other.id}"):]
    other_line = other_line[:other_line.index("</li>")]
    # Words beside the colour, and the date in the reader's format.
    assert "due today" in profile_line and "overdue" not in profile_line
    assert "overdue" in other_line
    closed_on = (today - timedelta(days=2)).strftime("%b %-d, %Y")
    assert ("Automatic verification from your activity closed on " + closed_on) in profile_line
    # The exercise page says it too, instead of only "due on".
    e = w.enrollments[0]
    html = client.get(f"/o/acme/training/{e.id}/exercises/{profile.id}").get_data(as_text=True)
    assert "Automatic verification from your activity closed on " + closed_on in html
    assert "due today" in html
