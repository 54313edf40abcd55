"""Taking the questionnaire through the pages: one screen per step, save and resume, submit
once, immutable afterwards, every answer and the result recorded as xAPI statements."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.assessments import services
from lms.assessments.models import Attempt
from lms.core.errors import Conflict
from lms.extensions import db
from lms.xapi.models import Statement

ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


@pytest.fixture()
def learner(create_user, questionnaire):
    return create_user(Role.LEARNER, job_family="sales", team="Ventes")


def _slug(user):
    return user.memberships[0].organization.slug


def _start(client, user, questionnaire):
    response = client.post(f"/o/{_slug(user)}/skills/start/{questionnaire.id}")
    assert response.status_code == 302
    match = re.search(r"/skills/attempts/(\d+)$", response.headers["Location"])
    return int(match.group(1))


def _screen_keys(html):
    return list(dict.fromkeys(re.findall(r'name="q-([\w-]+)"', html)))


def _answer_screen(client, user, attempt_id, strong=True):
    """Answer the current screen as a strong (or weak) learner; returns the keys answered."""
    url = f"/o/{_slug(user)}/skills/attempts/{attempt_id}"
    html = client.get(url).get_data(as_text=True)
    keys = _screen_keys(html)
    attempt = db.session.get(Attempt, attempt_id)
    db.session.refresh(attempt)
    questions = {x.key: x for x in attempt.questionnaire.questions}
    form = {}
    for key in keys:
        x = questions[key]
        if x.type == "can_do":
            form[f"q-{key}"] = "alone" if strong else "with_help"
        elif x.type == "frequency":
            form[f"q-{key}"] = "weekly"
        else:
            keyed = [o["key"] for o in x.options if o["correct"] == strong][:1 if not strong else 9]
            form[f"q-{key}"] = keyed if x.type == "multiple_choice" else keyed[0]
    response = client.post(url, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return keys


def test_one_screen_per_step_with_a_progress_bar(client, login, learner, questionnaire):
    login(learner)
    attempt_id = _start(client, learner, questionnaire)
    page = client.get(f"/o/{_slug(learner)}/skills/attempts/{attempt_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Competency 1 of 8" in html
    assert '<progress id="progress" max="100" value="0">' in html
    # The first step asks level 3 of C1: its can-do statement and its situation.
    assert _screen_keys(html) == ["c1-l3-can", "c1-l3-sjt"]
    _answer_screen(client, learner, attempt_id)
    html = client.get(f"/o/{_slug(learner)}/skills/attempts/{attempt_id}").get_data(as_text=True)
    assert _screen_keys(html) == ["c1-l4-can", "c1-l4-sjt"]  # validated: one level up


def test_a_screen_with_a_missing_answer_is_refused_and_nothing_saved(client, login, learner,
                                                                     questionnaire):
    login(learner)
    attempt_id = _start(client, learner, questionnaire)
    response = client.post(f"/o/{_slug(learner)}/skills/attempts/{attempt_id}",
                           data={"q-c1-l3-can": "alone"})
    assert response.status_code == 422
    assert "Please answer every question on this screen." in response.get_data(as_text=True)
    assert db.session.get(Attempt, attempt_id).answers == {}
    response = client.post(f"/o/{_slug(learner)}/skills/attempts/{attempt_id}",
                           data={"q-c1-l3-can": "sometimes", "q-c1-l3-sjt": "a"})
    assert response.status_code == 422


def test_save_and_resume_keeps_one_draft(app, client, login, learner, questionnaire):
    login(learner)
    attempt_id = _start(client, learner, questionnaire)
    _answer_screen(client, learner, attempt_id)
    # Later, in a new session: the same draft resumes at the next screen.
    other = app.test_client()
    other.post("/login", data={"email": learner.email, "password": "correct horse battery"})
    assert "Resume where I stopped" in other.get(f"/o/{_slug(learner)}/skills/").get_data(
        as_text=True)
    assert _start(other, learner, questionnaire) == attempt_id
    html = other.get(f"/o/{_slug(learner)}/skills/attempts/{attempt_id}").get_data(as_text=True)
    assert _screen_keys(html) == ["c1-l4-can", "c1-l4-sjt"]
    assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == 1


def test_submit_once_then_the_attempt_is_frozen(client, login, learner, questionnaire):
    login(learner)
    slug = _slug(learner)
    attempt_id = _start(client, learner, questionnaire)
    # Submitting early is refused.
    client.post(f"/o/{slug}/skills/attempts/{attempt_id}/submit")
    assert db.session.get(Attempt, attempt_id).status == "draft"
    for _ in range(40):
        html = client.get(f"/o/{slug}/skills/attempts/{attempt_id}").get_data(as_text=True)
        if "Submit and see my results" in html:
            break
        _answer_screen(client, learner, attempt_id)
    else:
        pytest.fail("the questionnaire never offered to submit")
    response = client.post(f"/o/{slug}/skills/attempts/{attempt_id}/submit")
    assert response.headers["Location"].endswith(f"/skills/attempts/{attempt_id}/results")
    attempt = db.session.get(Attempt, attempt_id)
    db.session.refresh(attempt)
    assert attempt.status == "submitted"
    # Always "alone" and always right: every ladder climbs to 5.
    assert attempt.levels == {f"C{i}": 5 for i in range(1, 9)}
    frozen = (dict(attempt.answers), attempt.submitted_at)
    # A second submit, or an answer after submitting, changes nothing.
    client.post(f"/o/{slug}/skills/attempts/{attempt_id}/submit")
    assert client.post(f"/o/{slug}/skills/attempts/{attempt_id}",
                       data={"q-c1-l3-can": "never"}).status_code == 302
    db.session.refresh(attempt)
    assert (attempt.answers, attempt.submitted_at) == frozen
    with pytest.raises(Conflict):
        services.answer(attempt=attempt, answers={"c1-l3-can": "never"})
    with pytest.raises(Conflict):
        services.submit_attempt(attempt=attempt)


def test_every_answer_and_the_result_are_xapi_statements(client, login, learner,
                                                         questionnaire, answer_as):
    login(learner)
    slug = _slug(learner)
    attempt_id = _start(client, learner, questionnaire)
    keys = _answer_screen(client, learner, attempt_id, strong=False)
    org_id = learner.memberships[0].organization_id
    rows = db.session.scalars(select(Statement).where(
        Statement.organization_id == org_id, Statement.verb_id == ANSWERED)).all()
    assert len(rows) == len(keys) == 2
    by_object = {json.loads(r.data)["object"]["id"]: json.loads(r.data) for r in rows}
    sjt = by_object["http://relais.test/xapi/activities/questionnaire/social-media-skills"
                    "/question/c1-l3-sjt"]
    assert sjt["result"]["success"] is False
    assert sjt["actor"]["account"] == {"homePage": "http://relais.test",
                                       "name": str(learner.id)}
    attempt = db.session.get(Attempt, attempt_id)
    assert sjt["context"]["extensions"][
        "http://relais.test/xapi/extensions/attempt"] == attempt.uuid
    can = by_object["http://relais.test/xapi/activities/questionnaire/social-media-skills"
                    "/question/c1-l3-can"]
    assert can["result"]["response"] == "with_help" and "success" not in can["result"]

    answer_as(attempt, {"C1": 2, "C2": 4})
    db.session.commit()
    client.post(f"/o/{slug}/skills/attempts/{attempt_id}/submit")
    done = db.session.scalars(select(Statement).where(
        Statement.organization_id == org_id, Statement.verb_id == COMPLETED)).all()
    assert len(done) == 1
    result = json.loads(done[0].data)["result"]
    levels = result["extensions"]["http://relais.test/xapi/extensions/competency-levels"]
    assert levels["C1"] == 2 and levels["C2"] == 4  # C1 failed level 3, passed level 2
    assert result["completion"] is True
    # One "answered" statement per answer given, no more.
    attempt = db.session.get(Attempt, attempt_id)
    db.session.refresh(attempt)
    assert db.session.scalar(select(db.func.count()).select_from(Statement).where(
        Statement.verb_id == ANSWERED)) == len(attempt.answers)


def test_someone_elses_attempt_is_404(client, login, create_user, learner, questionnaire):
    login(learner)
    attempt_id = _start(client, learner, questionnaire)
    org = learner.memberships[0].organization
    colleague = create_user(Role.LEARNER, org=org)
    client.post("/logout")
    login(colleague)
    assert client.get(f"/o/{org.slug}/skills/attempts/{attempt_id}").status_code == 404
    assert client.post(f"/o/{org.slug}/skills/attempts/{attempt_id}/submit").status_code == 404
    assert client.get(f"/o/{org.slug}/skills/attempts/{attempt_id}/results").status_code == 404


def test_two_starts_at_once_open_one_draft(monkeypatch, learner, questionnaire):
    from lms.assessments import queries

    member = learner.memberships[0]
    first, created = services.start_attempt(membership=member, questionnaire=questionnaire)
    db.session.commit()
    assert created
    # The second request looked before the first one committed: it saw no draft.
    real = queries.draft_attempt
    calls = []

    def racing(membership_id, questionnaire_id):
        calls.append(1)
        return None if len(calls) == 1 else real(membership_id, questionnaire_id)

    monkeypatch.setattr(queries, "draft_attempt", racing)
    second, created = services.start_attempt(membership=member, questionnaire=questionnaire)
    db.session.commit()
    assert (second.id, created) == (first.id, False)
    assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == 1


def test_a_draft_changed_meanwhile_is_a_conflict_not_a_lost_answer(learner, questionnaire):
    attempt, _ = services.start_attempt(membership=learner.memberships[0],
                                        questionnaire=questionnaire)
    db.session.commit()
    # Another request saves this draft first (its version moves on).
    with db.engine.begin() as conn:
        conn.execute(db.text("UPDATE skill_attempts SET version = version + 1, "
                             "answers = :a WHERE id = :id"),
                     {"a": '{"c1-l3-can": "never", "c1-l3-sjt": "a"}', "id": attempt.id})
    with pytest.raises(Conflict):
        services.answer(attempt=attempt, answers={"c1-l3-can": "alone", "c1-l3-sjt": "b"},
                        record_statements=False)
    db.session.rollback()
    db.session.refresh(attempt)
    assert attempt.answers == {"c1-l3-can": "never", "c1-l3-sjt": "a"}
    # After submitting, its draft key is released: a retake opens a new draft.
    from lms.assessments.demo import answers_for

    answers_for(attempt, {}, set())
    services.submit_attempt(attempt=attempt, record_statements=False)
    db.session.commit()
    assert attempt.draft_key is None
    again, created = services.start_attempt(membership=learner.memberships[0],
                                            questionnaire=questionnaire)
    assert created and again.id != attempt.id
