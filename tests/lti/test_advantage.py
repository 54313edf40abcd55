"""LTI Advantage against the real platform: deep linking verified by the platform, scores in its
grade book when the learner completes the module (however it is completed), rosters into
cohorts; and the organization's registrations kept apart."""

from __future__ import annotations

import requests
from sqlalchemy import func, select, update

from lms.accounts.models import Role, User
from lms.core.models import utcnow
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.statements import iri
from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.lti import services
from lms.lti.models import LtiContext
from lms.xapi.record import record
from tests.lti.conftest import follow, launch, run_jobs
from tests.lti.platform import INSTRUCTOR, LEARNER
from tests.support import membership


def _complete_in_relais(world, browser: requests.Session, page: requests.Response) -> None:
    """Read both lessons and pass the quiz through the pages, as the learner does."""
    for _lesson in world.module.lessons:
        page = browser.post(page.url, timeout=30)
        assert page.status_code == 200, page.text[:300]
    quiz = world.module.quizzes[0]
    assert page.url.endswith(f"/quizzes/{quiz.id}")
    answers = {f"q-{q.key}": [o["key"] for o in q.options if o.get("correct")]
               for q in quiz.questions}
    result = browser.post(page.url, data=answers, timeout=30)
    assert result.status_code == 200


def test_the_platform_receives_the_score_when_the_learner_completes_the_module(world):
    browser = requests.Session()
    page = launch(world, "lea-sub", browser=browser)
    _complete_in_relais(world, browser, page)
    # Posting is a job, not part of the learner's request.
    assert world.platform.scores("link-1") == []
    assert run_jobs() == 1
    [score] = world.platform.scores("link-1")
    assert score["userId"] == "lea-sub"
    assert score["scoreGiven"] == 100 and score["scoreMaximum"] == 100
    assert score["activityProgress"] == "Completed"
    assert score["gradingProgress"] == "FullyGraded"
    assert world.platform.token_errors == []


def test_a_completion_from_outside_relais_counts_too(world):
    """An external xAPI package's "completed" completes the module: the score goes back too."""
    launch(world, "lea-sub")
    db.session.rollback()
    record([{"actor": {"mbox": "mailto:lea@acme-lti.example", "objectType": "Agent"},
             "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
             "object": {"id": iri("module", world.module.id), "objectType": "Activity"},
             "result": {"completion": True, "score": {"scaled": 0.9}}}],
           organization_id=world.org.id)
    db.session.commit()
    assert run_jobs() == 1
    [score] = world.platform.scores("link-1")
    assert score["activityProgress"] == "Completed" and score["userId"] == "lea-sub"


def test_a_score_is_retried_while_the_platform_is_down(world):
    browser = requests.Session()
    _complete_in_relais(world, browser, launch(world, "lea-sub", browser=browser))
    world.platform.failing_scores = 1
    run_jobs()
    job = db.session.scalar(select(Job).where(Job.kind == "lti.score"))
    assert job.state == JobState.QUEUED and job.run_after is not None  # retried later
    assert world.platform.scores("link-1") == []
    db.session.execute(update(Job).where(Job.id == job.id).values(run_after=utcnow()))
    assert run_jobs() == 1
    assert len(world.platform.scores("link-1")) == 1
    db.session.refresh(job)
    assert job.state == JobState.SUCCEEDED and job.attempts == 2


def test_an_instructor_picks_a_module_by_deep_linking_and_the_platform_verifies_it(world):
    browser = requests.Session()
    db.session.commit()
    picker = follow(browser, browser.get(f"{world.platform.issuer}/deep",
                                         params={"user": "ian-sub"}, timeout=30))
    assert picker.status_code == 200 and "/lti/deep-link/" in picker.url
    module = next(m for m in world.program.modules if m.key == "veille-et-ecriture")
    assert f'value="module:{module.id}"' in picker.text
    back = follow(browser, browser.post(picker.url, data={"choice": f"module:{module.id}"},
                                        timeout=30))
    assert back.status_code == 200, (back.text[:300], world.platform.deep_link_errors)
    assert back.url == f"{world.platform.issuer}/deep-link-return"
    assert world.platform.deep_link_errors == []
    link = world.platform.links["link-2"]
    assert link["custom"] == {"relais_module": str(module.id)} and link["lineitem"]
    # The teacher's link works: a learner launched from it lands in the chosen module.
    page = launch(world, "lea-sub", link="link-2")
    assert page.status_code == 200
    assert page.url.endswith(f"/lessons/{module.lessons[0].id}")
    # The picker is used up.
    assert browser.get(picker.url, timeout=30).status_code == 404


def test_a_learner_cannot_deep_link(world):
    db.session.commit()
    browser = requests.Session()
    page = follow(browser, browser.get(f"{world.platform.issuer}/deep",
                                       params={"user": "lea-sub"}, timeout=30))
    assert page.status_code == 403 and 'data-code="forbidden"' in page.text


def test_the_course_roster_becomes_a_cohort(world, client, login, create_user):
    admin = create_user(Role.ADMIN, org=world.org)
    world.platform.add_user("max-sub", "max@acme-lti.example", "Max", LEARNER)
    world.platform.add_user("noe-sub", "noe@acme-lti.example", "Noé", LEARNER)
    world.platform.add_user("ana-sub", "ana@acme-lti.example", "Ana", INSTRUCTOR)
    world.platform.add_user("x-sub", None, "Sans adresse", LEARNER)
    world.platform.users["noe-sub"]["status"] = "Inactive"
    assert launch(world, "ian-sub").status_code == 200  # the course is known from a launch
    db.session.rollback()
    context = db.session.scalar(select(LtiContext))
    login(admin)
    page = client.get(f"/o/acme-lti/settings/lti/{world.registration.id}")
    assert "Réseaux sociaux 101" in page.get_data(as_text=True)
    response = client.post(
        f"/o/acme-lti/settings/lti/{world.registration.id}/contexts/{context.id}/roster")
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    assert run_jobs() == 1
    job = db.session.scalar(select(Job).where(Job.kind == "lti.roster"))
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["learners"] == 2 and job.result["trainers"] == 2
    assert job.result["skipped"] == 2  # the inactive member and the one without e-mail
    cohort = db.session.get(Cohort, job.result["cohort_id"])
    enrolled = {e.membership.user.email for e in cohort.enrollments}
    assert enrolled == {"lea@acme-lti.example", "max@acme-lti.example"}
    ana = db.session.scalar(select(User).where(User.email == "ana@acme-lti.example"))
    assert membership(ana, world.org).role == Role.TRAINER
    # Idempotent: importing again adds nobody twice; Léa's own launch finds her enrolment.
    client.post(f"/o/acme-lti/settings/lti/{world.registration.id}/contexts/{context.id}/roster")
    run_jobs()
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 2
    page = launch(world, "lea-sub")
    assert page.status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 2


def test_registrations_are_kept_apart_between_organizations(world, client, login, create_org,
                                                            create_user):
    other = create_org(slug="globex")
    admin = create_user(Role.ADMIN, org=other)
    login(admin)
    # Another organization's registration page is not found.
    assert client.get(f"/o/globex/settings/lti/{world.registration.id}").status_code == 404
    assert client.get(f"/o/acme-lti/settings/lti/{world.registration.id}").status_code == 404
    # Nor may it register the same issuer and client id.
    response = client.post("/o/globex/settings/lti", data={
        "name": "Copie", "issuer": world.platform.issuer, "client_id": world.platform.client_id,
        "deployment_ids": "deploy-1", "auth_login_url": f"{world.platform.issuer}/auth",
        "auth_token_url": f"{world.platform.issuer}/token",
        "jwks_url": f"{world.platform.issuer}/jwks"})
    assert response.status_code == 422
    assert "already registered" in response.get_data(as_text=True)
    # A platform of Globex cannot open Acme's modules, whatever its link says.
    services.save_platform(
        organization=other, name="Moodle Globex", issuer=world.platform.issuer,
        client_id="globex-tool", deployment_ids="deploy-1",
        auth_login_url=f"{world.platform.issuer}/auth",
        auth_token_url=f"{world.platform.issuer}/token",
        jwks_url=f"{world.platform.issuer}/jwks")
    db.session.commit()
    world.platform.client_id = "globex-tool"
    try:
        page = launch(world, "lea-sub")
    finally:
        world.platform.client_id = "relais-tool"
    assert page.status_code == 404 and 'data-code="unknown_target"' in page.text
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "lea@acme-lti.example")) is None


def test_the_registration_form_shows_errors_next_to_the_fields(world, client, login,
                                                              create_user):
    login(create_user(Role.ADMIN, org=world.org))
    response = client.post("/o/acme-lti/settings/lti", data={
        "name": "Canvas", "issuer": "ftp://canvas.example", "client_id": "c-1",
        "deployment_ids": "", "auth_login_url": "https://canvas.example/auth",
        "auth_token_url": "https://canvas.example/token", "jwks_url": "not a url"},
        headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="issuer-error"' in html and 'id="jwks_url-error"' in html
    assert 'id="deployment_ids-error"' in html
    assert 'value="ftp://canvas.example"' in html  # what was typed stays
    # The tool's addresses to copy into the platform are on the page.
    assert f"{world.relais}/lti/jwks" in html and f"{world.relais}/lti/login" in html


def test_a_registration_is_saved_from_the_page(world, client, login, create_user):
    login(create_user(Role.ADMIN, org=world.org))
    response = client.post("/o/acme-lti/settings/lti", data={
        "name": "Canvas", "issuer": "https://canvas.instructure.com", "client_id": "1000000042",
        "deployment_ids": "12:abc\n13:def", "auth_login_url": "https://sso.canvaslms.com/auth",
        "auth_token_url": "https://sso.canvaslms.com/token",
        "jwks_url": "https://sso.canvaslms.com/jwks"})
    assert response.status_code == 302
    saved = services.find_platform("https://canvas.instructure.com", "1000000042")
    assert saved.deployment_ids == ["12:abc", "13:def"] and saved.organization_id == world.org.id
