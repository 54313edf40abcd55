"""The blended journey in a real browser, end to end: a trainer builds a cohort from the
six-week path, takes attendance, reviews an exercise and holds a coaching follow-up; a learner
reads lessons and passes a quiz; both dashboards show the progress; and every step is an xAPI
statement in the store."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.coaching.models import FollowUp
from lms.core.models import utcnow
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.programs.models import Program
from lms.courses.programs.services import load_catalogue
from lms.courses.sessions.models import TrainingSession
from lms.courses.sessions.services import local_zone
from lms.extensions import db
from lms.xapi.models import Statement

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser journey password"
PATH = "parcours-ambassadeurs-6-semaines"
ADL = "http://adlnet.gov/expapi/verbs/"


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agence Relais")


def _bar(page: Page, label: str) -> int:
    return int(page.get_by_label(label, exact=True).get_attribute("value") or "0")


def _statements(org_id: int) -> list[dict]:
    db.session.expire_all()
    return [json.loads(data) for data in db.session.scalars(
        select(Statement.data).where(Statement.organization_id == org_id,
                                     Statement.voided.is_(False)).order_by(Statement.pk))]


def test_a_cohort_from_the_catalogue_to_both_dashboards(live_server: str, page: Page,
                                                        browser: Browser, create_org,
                                                        create_user) -> None:
    load_catalogue()
    db.session.commit()
    org = create_org(slug="agence-relais", name="Agence Relais")
    trainer = create_user(Role.TRAINER, org=org, name="Claire Formatrice", password=PASSWORD)
    nina = create_user(Role.LEARNER, org=org, name="Nina Apprenante", password=PASSWORD)
    omar = create_user(Role.LEARNER, org=org, name="Omar Apprenant", password=PASSWORD)
    zone = local_zone()
    today = utcnow().astimezone(zone).date()

    # --- the trainer builds the cohort -----------------------------------------------------
    _log_in(page, trainer.email)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Training").click()  # the menu entry opens on the programs
    page.get_by_role("button", name="Use this program Six-week ambassador path").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Six-week ambassador path (copy)")
    program = db.session.scalar(select(Program).where(Program.organization_id == org.id))
    page.get_by_role("navigation", name="Training").get_by_role("link", name="Cohorts").click()
    page.get_by_label("Name").fill("Pilote Lyon")
    page.get_by_label("Starts on").fill((today - timedelta(days=7)).isoformat())
    page.get_by_label("Ends on").fill((today + timedelta(days=35)).isoformat())
    page.get_by_role("button", name="Open the cohort").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pilote Lyon")
    page.get_by_label("Learners not enrolled yet").select_option(
        label=["Nina Apprenante (" + nina.email + ")", "Omar Apprenant (" + omar.email + ")"])
    page.get_by_role("button", name="Enrol", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("2 learners enrolled.")
    cohort = db.session.scalar(select(Cohort).where(Cohort.organization_id == org.id))
    nina_enrollment = db.session.scalar(select(Enrollment).where(
        Enrollment.cohort_id == cohort.id, Enrollment.membership_id == nina.memberships[0].id))

    # A launch workshop held yesterday morning; Nina gets a seat and is marked present.
    yesterday = today - timedelta(days=1)
    page.locator("#s-module").select_option(label="Kick-off workshop")
    page.locator("#s-day").fill(yesterday.isoformat())
    page.locator("#s-start").fill("09:00")
    page.locator("#s-end").fill("12:00")
    page.locator("#s-place").fill("Salle Confluence, Lyon")
    page.get_by_role("button", name="Schedule").click()
    page.get_by_label("Register a learner").select_option(label="Nina Apprenante")
    page.get_by_role("button", name="Register", exact=True).click()
    page.get_by_role("link", name="Sign-in sheet", exact=True).click()
    page.locator(f'input[name^="mark-{nina_enrollment.id}-"][value="present"]').check()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_role("status")).to_contain_text("Attendance saved (1 change).")

    # --- the learner reads, takes the quiz and hands in an exercise --------------------------
    context = browser.new_context(base_url=live_server)
    try:
        learner = context.new_page()
        _log_in(learner, nina.email)
        title = "Six-week ambassador path (copy)"
        assert _bar(learner, f"Progress in {title}") == 10  # the workshop: one module of ten
        expect(learner.get_by_text("1 of 10 required modules completed")).to_be_visible()
        learner.get_by_role("link", name="A profile people want to connect with").click()
        expect(learner.get_by_role("heading", level=1)).to_have_text(
            "Headline and photo, your handshake")
        learner.get_by_role("button", name="Mark as read and continue").click()
        learner.get_by_role("button", name="Mark as read and continue").click()
        profil = next(m for m in program.modules if m.key == "profil")
        quiz = profil.quizzes[0]
        expect(learner.get_by_role("heading", level=1)).to_have_text(quiz.title["en"])
        for question in quiz.questions:
            for option in question.options:
                if option.get("correct"):
                    learner.locator(f'input[name="q-{question.key}"][value="{option["key"]}"]'
                                    ).check()
        learner.get_by_role("button", name="Submit my answers").click()
        expect(learner.get_by_role("heading", name="Passed: 100 %")).to_be_visible()
        learner.get_by_role("link", name="Dashboard").click()
        assert _bar(learner, f"Progress in {title}") == 20
        learner.get_by_role("link", name="Practice: update your profile").first.click()
        learner.get_by_label("Link to the post").fill(
            "https://www.linkedin.com/in/nina-apprenante")
        learner.get_by_label("Reflection").fill(
            "J'ai réécrit mon titre et mon résumé pour nos clients.")
        learner.get_by_role("button", name="Hand in").click()
        expect(learner.get_by_role("status")).to_be_visible()

        # --- the trainer reviews it and holds a coaching follow-up ---------------------------
        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_role("heading", name="Submissions to review (1)")).to_be_visible()
        page.get_by_role("link", name="Nina Apprenante — Practice: update your profile").click()
        for radio in page.locator('fieldset input[type="radio"][value="met"]').all():
            radio.check()
        page.get_by_label("Comment for the learner").fill("Très bon titre, bravo.")
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_role("status")).to_be_visible()
        page.goto(f"/o/agence-relais/coaching/learners/{nina_enrollment.id}")
        earlier = utcnow().astimezone(zone) - timedelta(hours=1)
        suivi = next(m for m in program.modules if m.key == "suivi-1")
        page.locator(f"#day-{suivi.id}").fill(earlier.date().isoformat())
        page.locator(f"#time-{suivi.id}").fill(earlier.strftime("%H:%M"))
        page.locator(f"#place-{suivi.id}").fill("Bureau 12")
        page.locator(f'form:has(#day-{suivi.id})').get_by_role(
            "button", name="Schedule", exact=True).click()
        followup = db.session.scalar(select(FollowUp).where(
            FollowUp.enrollment_id == nina_enrollment.id))
        page.goto(f"/o/agence-relais/coaching/followups/{followup.id}")
        page.get_by_label("Notes (the learner reads them)").first.fill(
            "Titre revu ; prochain objectif : un post par semaine.")
        page.get_by_role("button", name="Record as held").click()
        expect(page.get_by_role("status")).to_be_visible()

        # --- both dashboards show the progress ------------------------------------------------
        learner.get_by_role("link", name="Dashboard").click()
        mine = _bar(learner, f"Progress in {title}")
        assert mine >= 30  # workshop, profile, exercise (and the follow-up)
        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_role("heading", name="My cohorts")).to_be_visible()
        cohort_bar = _bar(page, "Progress of Pilote Lyon")
        assert cohort_bar == round(mine / 2)  # Omar has not started
        expect(page.get_by_text("Every session that has started has its attendance.")
               ).to_be_visible()
        # On a phone both dashboards fit the screen (tables become cards, no sideways scroll).
        for who in (page, learner):
            who.set_viewport_size({"width": 390, "height": 844})
            who.reload()
            assert who.evaluate("document.documentElement.scrollWidth") <= 390
            expect(who.get_by_role("progressbar").first).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 800})
    finally:
        context.close()

    # --- every step is a statement in the LRS ---------------------------------------------
    statements = _statements(org.id)
    base = live_server.rstrip("/") + "/xapi/activities/"
    seen = {(s["verb"]["id"], s["object"].get("id")) for s in statements
            if (s.get("context") or {}).get("registration") == nina_enrollment.id
            or s["actor"].get("account", {}).get("name") == str(nina.id)}
    session = db.session.scalar(select(TrainingSession).where(
        TrainingSession.cohort_id == cohort.id))
    exercise = next(m for m in program.modules if m.key == "exercice-profil")
    expected = [
        (ADL + "registered", f"{base}program/{program.id}"),
        (ADL + "attended", f"{base}session/{session.id}"),
        *((ADL + "experienced", f"{base}lesson/{lesson.id}") for lesson in profil.lessons),
        (ADL + "passed", f"{base}quiz/{quiz.id}"),
        (ADL + "completed", f"{base}module/{profil.id}"),
        (ADL + "completed", f"{base}module/{exercise.id}"),
    ]
    for pair in expected:
        assert pair in seen, pair
    verbs = {s["verb"]["id"] for s in statements}
    assert ADL + "answered" in verbs
    assert "http://id.tincanapi.com/verb/reviewed" in verbs  # the trainer's review
    assert "http://activitystrea.ms/schema/1.0/submit" in verbs  # the hand-in
    assert any(s["verb"]["id"] == ADL + "attended" and "/coaching/" in s["object"]["id"]
               for s in statements)  # the follow-up held
    # The statement viewer shows them to the trainer too.
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("link", name="Imports and records").click()
    page.get_by_role("navigation", name="Imports and records").get_by_role(
        "link", name="Learning records (xAPI)").click()
    expect(page.get_by_role("cell", name="Nina Apprenante").first).to_be_visible()
