"""Surveys: rules on programs send them, learners answer on their dashboard, results appear
per cohort and program only from the minimum number of answers, and each answer is a
statement without the answers of an anonymous survey.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lms.assessments.models import Survey
from lms.assessments.surveys import ContentError, load_templates, parse_survey
from lms.core.errors import Conflict, ValidationFailed
from lms.core.models import utcnow
from lms.courses.cohorts.models import COMPLETED, ModuleProgress
from lms.courses.sessions.services import half_days, record_attendance, register, schedule_session
from lms.courses.surveys import queries, services
from lms.courses.surveys.models import SurveyInvitation, SurveyResponse
from lms.extensions import db
from lms.xapi.models import Statement
from tests.courses.conftest import World
from tests.support import load_demo_once

ANSWERS = {"useful": "5", "confident": "4", "pace": "right", "best": ["examples", "peers"],
           "recommend": "5", "comment": "=HYPERLINK(\"x\") plus d'exemples"}


def template(key: str) -> Survey:
    load_templates()
    survey = db.session.scalar(select(Survey).where(Survey.key == key,
                                                    Survey.organization_id.is_(None)))
    assert survey is not None
    return survey


def attended_session(w: World, *, days_ago: int = 1) -> Any:
    """A workshop session that ended ``days_ago`` days ago, every learner present."""
    end = utcnow() - timedelta(days=days_ago)
    session = schedule_session(cohort=w.cohort, module=w.module("lancement"),
                               starts_at=end - timedelta(hours=3), ends_at=end, place="Salle A",
                               trainer=w.member(w.trainer))
    for enrollment in w.enrollments:
        register(session=session, enrollment=enrollment)
        day, half = half_days(session)[0]
        record_attendance(session=session, enrollment=enrollment, day=day, half=half,
                          status="present", recorded_by=w.trainer)
    db.session.commit()
    return session


@pytest.fixture()
def surveyed(enrolled: World) -> World:
    services.add_rule(program=enrolled.program, survey_id=template("satisfaction").id,
                      trigger="after_session")
    attended_session(enrolled)
    services.apply_rules()
    db.session.commit()
    return enrolled


def invitation_of(w: World, user: Any) -> SurveyInvitation:
    return queries.open_invitations(w.member(user))[0]


def test_the_templates_load_in_french_and_english():
    for key, kind in (("satisfaction", "satisfaction"), ("followup", "followup"),
                      ("readiness", "readiness")):
        survey = template(key)
        assert survey.kind == kind and survey.anonymous
        assert set(survey.title) == {"fr", "en"}
        assert all(set(item["text"]) == {"fr", "en"} for item in survey.items)


def test_a_survey_file_with_mistakes_is_refused_with_its_lines():
    with pytest.raises(ContentError) as caught:
        parse_survey("key: s\npurpose: mood\ntitle: {fr: T}\nitems:\n"
                     "  - {key: a, type: single, text: {fr: Q}}\n", "s.yaml")
    message = str(caught.value)
    assert "line 2: purpose must be one of" in message
    assert "line 5: a single item needs options" in message


def test_a_session_attended_sends_the_survey_once(surveyed):
    w = surveyed
    invitations = db.session.scalars(select(SurveyInvitation)).all()
    assert len(invitations) == 4
    assert {i.membership_id for i in invitations} == {w.member(u).id for u in w.learners}
    # The periodic work runs again: nobody is asked twice for the same session.
    assert services.apply_rules() == []


def test_an_absent_learner_is_not_asked(enrolled):
    w = enrolled
    services.add_rule(program=w.program, survey_id=template("satisfaction").id,
                      trigger="after_session")
    end = utcnow() - timedelta(hours=2)
    session = schedule_session(cohort=w.cohort, module=w.module("lancement"),
                               starts_at=end - timedelta(hours=2), ends_at=end, place="Salle B")
    register(session=session, enrollment=w.enrollments[0])
    register(session=session, enrollment=w.enrollments[1])
    day, half = half_days(session)[0]
    record_attendance(session=session, enrollment=w.enrollments[0], day=day, half=half,
                      status="present", recorded_by=w.trainer)
    record_attendance(session=session, enrollment=w.enrollments[1], day=day, half=half,
                      status="absent", recorded_by=w.trainer)
    assert [i.membership_id for i in services.apply_rules()] == [w.member(w.learners[0]).id]


def test_follow_up_weeks_after_the_module_and_readiness_before_the_start(enrolled):
    w = enrolled
    module = w.module("lancement")
    services.add_rule(program=w.program, survey_id=template("followup").id,
                      trigger="after_module", module_id=module.id, days=42)
    services.add_rule(program=w.program, survey_id=template("readiness").id,
                      trigger="before_start")
    progress = ModuleProgress(enrollment_id=w.enrollments[0].id, module_id=module.id,
                              state=COMPLETED, updated_at=utcnow() - timedelta(days=43))
    db.session.add(progress)
    db.session.flush()
    created = services.apply_rules()
    kinds = sorted((i.survey.kind, i.membership_id) for i in created)
    # Everyone before the cohort starts; only the learner who finished six weeks ago after it.
    assert [k for k, _m in kinds].count("readiness") == 4
    assert [(k, m) for k, m in kinds if k == "followup"] == [
        ("followup", w.member(w.learners[0]).id)]


def test_a_rule_needs_valid_values(enrolled):
    with pytest.raises(ValidationFailed) as caught:
        services.add_rule(program=enrolled.program, survey_id=None, trigger="someday",
                          days=-1)
    assert set(caught.value.fields) == {"survey_id", "trigger", "days"}
    with pytest.raises(ValidationFailed) as caught:
        services.add_rule(program=enrolled.program, survey_id=template("followup").id,
                          trigger="after_module")
    assert set(caught.value.fields) == {"module_id"}


def test_answers_are_checked_kept_anonymous_and_recorded_without_their_text(surveyed):
    w = surveyed
    invitation = invitation_of(w, w.learners[0])
    with pytest.raises(ValidationFailed) as caught:
        services.answer(invitation=invitation, raw={**ANSWERS, "useful": "9", "pace": None})
    assert set(caught.value.fields) == {"useful", "pace"}
    db.session.rollback()
    invitation = invitation_of(w, w.learners[0])
    services.answer(invitation=invitation, raw=ANSWERS)
    db.session.commit()
    response = db.session.scalars(select(SurveyResponse)).one()
    assert response.membership_id is None
    assert response.answers["best"] == ["examples", "peers"] and response.answers["useful"] == 5
    statement = db.session.scalars(select(Statement).where(
        Statement.verb_id == "http://adlnet.gov/expapi/verbs/answered",
        Statement.object_activity_id.like("%/xapi/activities/survey/%"))).one()
    data = json.loads(statement.data)
    assert data["result"] == {"completion": True}
    assert "plus d'exemples" not in statement.data and "examples" not in statement.data
    with pytest.raises(Conflict):
        services.answer(invitation=invitation, raw=ANSWERS)


def answer_all(w: World, count: int) -> None:
    for user in w.learners[:count]:
        services.answer(invitation=invitation_of(w, user), raw=ANSWERS)
    db.session.commit()


def test_results_only_from_the_minimum_number_of_answers(app, surveyed):
    w = surveyed
    answer_all(w, 3)
    survey = template("satisfaction")
    below = queries.results(survey, organization_id=w.org.id, cohort_id=w.cohort.id)
    assert below.answers == 3 and not below.shown and below.items == []
    app.config["SURVEY_MIN_ANSWERS"] = 3
    shown = queries.results(survey, organization_id=w.org.id, program_id=w.program.id)
    assert shown.shown
    useful = next(r for r in shown.items if r.item["key"] == "useful")
    assert useful.mean == 5 and dict((v, n) for v, _l, n in useful.counts)["5"] == 3


def test_learner_answers_from_the_dashboard(client, login, surveyed):
    w = surveyed
    login(w.learners[0])
    page = client.get(f"/o/{w.org.slug}/").get_data(as_text=True)
    invitation = invitation_of(w, w.learners[0])
    assert f"/surveys/answer/{invitation.id}" in page
    url = f"/o/{w.org.slug}/surveys/answer/{invitation.id}"
    missing = client.post(url, data={"q-useful": "5", "q-comment": "Très utile"})
    assert missing.status_code == 422
    body = missing.get_data(as_text=True)
    assert 'id="q-pace-error"' in body and "Très utile" in body  # the typed text is kept
    done = client.post(url, data={f"q-{k}": v for k, v in ANSWERS.items()})
    assert done.status_code == 302
    assert f"/surveys/answer/{invitation.id}" not in client.get(
        f"/o/{w.org.slug}/").get_data(as_text=True)
    # Somebody else's invitation is not found.
    other = invitation_of(w, w.learners[1])
    assert client.get(f"/o/{w.org.slug}/surveys/answer/{other.id}").status_code == 404


def test_trainer_sees_results_and_downloads_the_csv(app, client, login, surveyed):
    w = surveyed
    answer_all(w, 4)
    survey = template("satisfaction")
    login(w.trainer)
    url = f"/o/{w.org.slug}/surveys/{survey.id}/results?cohort={w.cohort.id}"
    page = client.get(url).get_data(as_text=True)
    assert "not enough answers to show results without identifying people" in page.lower()
    app.config["SURVEY_MIN_ANSWERS"] = 4
    page = client.get(url).get_data(as_text=True)
    assert "plus d&#39;exemples" in page
    csv = client.get(f"/o/{w.org.slug}/surveys/{survey.id}/results.csv?cohort={w.cohort.id}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert "'=HYPERLINK" in text  # formula-safe
    overview = client.get(f"/o/{w.org.slug}/surveys").get_data(as_text=True)
    assert "Pilot" in overview


def test_trainer_adds_and_deletes_a_rule_from_the_program_page(client, login, enrolled):
    w = enrolled
    survey = template("followup")
    login(w.trainer)
    url = f"/o/{w.org.slug}/programs/{w.program.id}/surveys"
    refused = client.post(url, data={"survey_id": str(survey.id), "trigger": "after_module",
                                     "days": "42"})
    assert refused.status_code == 422
    assert 'id="module_id-error"' in refused.get_data(as_text=True)
    module = w.module("lancement")
    assert client.post(url, data={"survey_id": str(survey.id), "trigger": "after_module",
                                  "module_id": str(module.id), "days": "42"}).status_code == 302
    rule = queries.rules(w.program)[0]
    assert rule.days == 42 and rule.module_id == module.id
    assert client.post(f"{url}/{rule.id}/delete").status_code == 302
    assert queries.rules(w.program) == []


def test_another_organization_sees_none_of_the_answers(app, client, login, create_org,
                                                        create_user, surveyed):
    w = surveyed
    answer_all(w, 4)
    app.config["SURVEY_MIN_ANSWERS"] = 1
    other = create_org(slug="elsewhere")
    hr = create_user("hr", org=other)
    login(hr)
    survey = template("satisfaction")
    # The template is shared; the answers are not.
    page = client.get(f"/o/{other.slug}/surveys/{survey.id}/results").get_data(as_text=True)
    assert "0 answers" in page and "plus d&#39;exemples" not in page
    assert client.get(f"/o/{other.slug}/surveys/{survey.id}/results?cohort={w.cohort.id}"
                      ).status_code == 404
    invitation = invitation_of(w, w.learners[0]) if queries.open_invitations(
        w.member(w.learners[0])) else db.session.scalars(select(SurveyInvitation)).first()
    assert client.get(f"/o/{other.slug}/surveys/answer/{invitation.id}").status_code == 404
    assert client.get(f"/o/{w.org.slug}/surveys").status_code == 404


def test_the_demo_has_answered_surveys_a_readiness_survey_and_two_people_named():
    from lms.accounts.models import User

    load_demo_once()
    satisfaction, readiness = template("satisfaction"), template("readiness")
    pilot = db.session.scalars(select(SurveyResponse).where(
        SurveyResponse.survey_id == satisfaction.id)).all()
    shown = queries.results(satisfaction, organization_id=pilot[0].organization_id,
                            cohort_id=pilot[0].cohort_id)
    assert shown.answers == 5 and shown.shown
    waiting = queries.results(readiness, organization_id=pilot[0].organization_id)
    assert waiting.answers == 2 and not waiting.shown
    assert sorted(db.session.scalars(select(User.display_name).where(
        User.named_in_results.is_(True)))) == ["Camille Martin", "Hugo Bernard"]


def test_the_personal_data_export_lists_the_invitations_but_no_anonymous_answer(surveyed):
    from lms.privacy.export import collect

    w = surveyed
    services.answer(invitation=invitation_of(w, w.learners[0]), raw=ANSWERS)
    db.session.commit()
    data, _files, _lines = collect(w.learners[0], w.org)
    (invitation,) = data["enrollments"]["survey_invitations"]
    assert invitation["answered_at"] and data["enrollments"]["survey_answers"] == []
