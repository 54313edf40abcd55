"""The learner's timeline: progress and advocacy activity together, paged, by period, with
consent respected."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.accounts.models import Role
from lms.advocacy import services, timeline
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.elearning.services import view_lesson
from lms.courses.programs.services import add_module, create_blank_program
from lms.courses.sessions.services import half_days, record_attendance, register, schedule_session
from lms.extensions import db
from tests.advocacy.helpers import consent


@pytest.fixture()
def world(create_org, create_user):
    org = create_org(slug="lumiere")
    trainer = create_user(Role.TRAINER, org=org)
    hr = create_user(Role.HR, org=org)
    learner = create_user(Role.LEARNER, org=org, name="Camille")
    other = create_user(Role.LEARNER, org=org, name="Hugo")
    program = create_blank_program(organization=org, title="Parcours", language="fr")
    workshop = add_module(program=program, kind="workshop", title="Atelier")
    cohort = create_cohort(program=program, name="Pilote")
    enrollment = enrol(cohort=cohort, membership=learner.memberships[0])
    now = utcnow()
    session = schedule_session(cohort=cohort, module=workshop,
                               starts_at=now - timedelta(days=3, hours=2),
                               ends_at=now - timedelta(days=3), place="Lyon")
    register(session=session, enrollment=enrollment)
    day, half = half_days(session)[0]
    record_attendance(session=session, enrollment=enrollment, day=day, half=half,
                      status="present", recorded_by=trainer)
    # Reading the program's only lesson completes its e-learning module.
    lesson = program.modules[0].lessons[0]
    view_lesson(enrollment=enrollment, lesson=lesson)
    db.session.commit()
    consent(org, learner)
    for days in (1, 2, 40):
        services.record_event(organization=org, user=learner, source="manual", data={
            "network": "linkedin", "kind": "share", "occurred_at": now - timedelta(days=days),
            "url": f"https://www.example.com/post/{days}", "clicks": days})
    db.session.commit()
    return {"org": org, "trainer": trainer, "hr": hr, "learner": learner, "other": other,
            "membership": learner.memberships[0], "cohort_id": cohort.id}


def _kinds(page):
    return [e.kind for e in page.entries]


def test_progress_and_activity_on_one_timeline_newest_first(world):
    page = timeline.learner_timeline(world["org"].id, world["membership"])
    assert page.with_activity
    # Both modules done (the workshop attended, the lesson read): the program is completed.
    assert page.counts == {"enrolled": 1, "attendance": 1, "module_completed": 2,
                           "program_completed": 1, "activity": 3}
    assert page.total == 8
    ats = [e.at for e in page.entries]
    assert ats == sorted(ats, reverse=True)
    assert _kinds(page)[-1] == "activity" and page.entries[-1].data["clicks"] == 40
    assert {e.data["status"] for e in page.entries if e.kind == "attendance"} == {"present"}


def test_paged_and_filtered_by_period(world):
    org, membership = world["org"], world["membership"]
    first = timeline.learner_timeline(org.id, membership, per_page=3)
    second = timeline.learner_timeline(org.id, membership, per_page=3, page=2)
    third = timeline.learner_timeline(org.id, membership, per_page=3, page=3)
    assert (first.pages, len(first.entries), len(second.entries), len(third.entries)) == (
        3, 3, 3, 2)
    seen = [(e.kind, e.at) for p in (first, second, third) for e in p.entries]
    assert len(set(seen)) == 8
    old = timeline.learner_timeline(org.id, membership,
                                    until=utcnow() - timedelta(days=30))
    assert _kinds(old) == ["activity"]
    recent = timeline.learner_timeline(org.id, membership,
                                       since=utcnow() - timedelta(days=30))
    assert recent.counts["activity"] == 2


def test_activity_hidden_without_consent(world, client, login):
    org, learner = world["org"], world["learner"]
    services.revoke_consent(organization=org, user=learner)
    db.session.commit()
    page = timeline.learner_timeline(org.id, world["membership"])
    assert not page.with_activity and "activity" not in page.counts
    login(world["hr"])
    html = client.get(f"/o/{org.slug}/learners/{world['membership'].id}/timeline"
                      ).get_data(as_text=True)
    assert "has not agreed" in html and "example.com/post/1" not in html


def test_pages_for_the_learner_and_for_trainers(world, client, login, api_token):
    org, membership = world["org"], world["membership"]
    login(world["learner"])
    own = client.get(f"/o/{org.slug}/timeline")
    assert own.status_code == 200
    html = own.get_data(as_text=True)
    assert "My timeline" in html and "example.com/post/1" in html and "Atelier" in html
    # A learner cannot open someone else's timeline.
    assert client.get(f"/o/{org.slug}/learners/{membership.id}/timeline").status_code == 403
    client.post("/logout")
    login(world["trainer"])
    page = client.get(f"/o/{org.slug}/learners/{membership.id}/timeline?per_page=2&since="
                      + (utcnow() - timedelta(days=30)).date().isoformat())
    assert page.status_code == 200 and "Camille" in page.get_data(as_text=True)
    assert "example.com/post/40" not in page.get_data(as_text=True)
    # The cohort page links each learner to their timeline.
    cohort_id = world["cohort_id"]
    cohort_page = client.get(f"/o/{org.slug}/cohorts/{cohort_id}").get_data(as_text=True)
    assert f"/o/{org.slug}/learners/{membership.id}/timeline" in cohort_page
    hr_member = world["hr"].memberships[0]
    assert client.get(f"/o/{org.slug}/learners/{hr_member.id}/timeline").status_code == 404
    # The API: the learner's own, and a trainer's view; another learner gets 404.
    body = client.get(f"/api/v1/orgs/{org.slug}/members/{membership.id}/timeline?per_page=2",
                      headers=api_token(world["trainer"])).get_json()
    assert (body["total"], len(body["items"]), body["with_activity"]) == (8, 2, True)
    assert client.get(f"/api/v1/orgs/{org.slug}/members/{membership.id}/timeline",
                      headers=api_token(world["other"])).status_code == 404
    assert client.get(f"/api/v1/orgs/{org.slug}/members/{membership.id}/timeline"
                      "?since=yesterday", headers=api_token(world["learner"])).status_code == 400


def test_empty_timeline(create_org, create_user, client, login):
    org = create_org()
    learner = create_user(Role.LEARNER, org=org)
    login(learner)
    html = client.get(f"/o/{org.slug}/timeline").get_data(as_text=True)
    assert "Nothing on the timeline" in html
