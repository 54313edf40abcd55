"""Surveys in a real browser: after a session, a learner answers the satisfaction survey from
their dashboard; the trainer sees "not enough answers" until the minimum is reached, then the
results; HR downloads the one-page results PDF (read back with pdftotext).
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.accounts.models import Role
from lms.assessments.surveys import load_templates, visible_surveys
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.courses.sessions.services import half_days, record_attendance, register, schedule_session
from lms.courses.surveys import queries, services
from lms.extensions import db
from lms.xapi.models import Statement
from tests.support import statements_by_verb

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser journey password"


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_satisfaction_survey_after_a_session_and_the_results_pdf(
        app, live_server: str, page: Page, browser: Browser, create_org, create_user,
        tmp_path: Path) -> None:
    load_catalogue()
    load_templates()
    org = create_org(slug="enquete", name="Agence Enquête")
    trainer = create_user(Role.TRAINER, org=org, name="Claire Formatrice", password=PASSWORD)
    hr = create_user(Role.HR, org=org, name="Henri RH", password=PASSWORD)
    nina = create_user(Role.LEARNER, org=org, name="Nina Apprenante", password=PASSWORD)
    omar = create_user(Role.LEARNER, org=org, name="Omar Apprenant", password=PASSWORD)
    nina.named_in_results = True
    program = copy_from_catalogue(organization=org, slug="sensibilisation-reseaux-sociaux")
    cohort = create_cohort(program=program, name="Vague enquête")
    module = program.modules[0]
    end = utcnow() - timedelta(hours=1)
    session = schedule_session(cohort=cohort, module=module, starts_at=end - timedelta(hours=3),
                               ends_at=end, place="Salle Saône")
    for learner in (nina, omar):
        enrollment = enrol(cohort=cohort, membership=learner.memberships[0])
        register(session=session, enrollment=enrollment)
        day, half = half_days(session)[0]
        record_attendance(session=session, enrollment=enrollment, day=day, half=half,
                          status="present", recorded_by=trainer)
    satisfaction = next(s for s in visible_surveys(org.id)
                        if s.key == "satisfaction")
    services.add_rule(program=program, survey_id=satisfaction.id, trigger="after_session")
    db.session.commit()
    services.run_rules()  # the periodic work: invitations, then their e-mails
    db.session.commit()
    saved = app.config["SURVEY_MIN_ANSWERS"]
    app.config["SURVEY_MIN_ANSWERS"] = 2
    try:
        _journey(page, browser, live_server, tmp_path, org, trainer, hr, nina, omar,
                 satisfaction, cohort)
    finally:
        app.config["SURVEY_MIN_ANSWERS"] = saved


def _journey(page, browser, live_server, tmp_path, org, trainer, hr, nina, omar, satisfaction,
             cohort) -> None:
    # Nina answers from her dashboard, at phone width.
    page.set_viewport_size({"width": 390, "height": 860})
    _log_in(page, nina.email)
    expect(page.get_by_role("heading", name="A survey waits for your answer")).to_be_visible()
    page.get_by_role("link", name="Your view of the session").click()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Some answers are missing")
    for key in ("useful", "confident", "recommend"):
        page.locator(f"#item-{key}").get_by_label("Strongly agree").check()
    page.locator("#item-pace").get_by_label("about right").check()
    page.locator("#item-best").get_by_label("the sample posts").check()
    page.get_by_label("One thing to keep, one thing to change?").fill(
        "Garder les exemples concrets.")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Thank you: your answers are recorded.")).to_be_visible()
    expect(page.get_by_role("heading", name="A survey waits for your answer")).to_have_count(0)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Statement).where(
        Statement.object_activity_id.like("%/xapi/activities/survey/%"))) == 1

    # The trainer: one answer is below the minimum of two.
    staff = browser.new_context(base_url=live_server)
    trainer_page = staff.new_page()
    _log_in(trainer_page, trainer.email)
    results = f"/o/{org.slug}/surveys/{satisfaction.id}/results?cohort={cohort.id}"
    trainer_page.goto(results)
    expect(trainer_page.get_by_text(
        "Not enough answers to show results without identifying people.")).to_be_visible()
    # Omar answers (through the API's service); the results appear.
    invitation = queries.open_invitations(omar.memberships[0])[0]
    services.answer(invitation=invitation, raw={
        "useful": "4", "confident": "3", "pace": "fast", "best": ["practice"],
        "recommend": "4"})
    db.session.commit()
    trainer_page.reload()
    expect(trainer_page.get_by_text("Average: 4.5 out of 5").first).to_be_visible()
    expect(trainer_page.get_by_text("Garder les exemples concrets.")).to_be_visible()
    staff.close()

    # HR downloads the one-page PDF of the cohort's results.
    office = browser.new_context(base_url=live_server, accept_downloads=True)
    hr_page = office.new_page()
    _log_in(hr_page, hr.email)
    hr_page.goto(f"/o/{org.slug}/results?cohort={cohort.id}")
    expect(hr_page.get_by_role("heading", name="Our results: Vague enquête")).to_be_visible()
    with hr_page.expect_download() as download:
        hr_page.get_by_role("link", name="Download the PDF").click()
    pdf = tmp_path / "resultats.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "Our results: Vague enquête" in text
    assert "Nina Apprenante" in text and "Omar Apprenant" not in text
    assert text.count("\f") == 1
    office.close()
    # Each step is in the LRS: the answers, then HR's download of the sheet.
    db.session.expire_all()
    [downloaded] = statements_by_verb(f"{live_server}/xapi/verbs/downloaded")
    assert downloaded["actor"]["account"]["name"] == str(hr.id)
    assert downloaded["object"]["id"].endswith(f"/xapi/activities/results/cohort-{cohort.id}")
