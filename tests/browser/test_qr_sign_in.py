"""QR sign-in in a real browser: the trainer puts the code on the screen; a learner's phone
(another browser, not logged in) opens the address the code holds, logs in, confirms, and the
trainer's sign-in sheet shows them present, signed in by QR code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.courses.sessions.models import QR, Attendance
from lms.courses.sessions.services import register, schedule_session
from lms.extensions import db

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser journey password"


def _log_in(page: Page, email: str) -> None:
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_learner_signs_in_by_scanning_the_trainers_code(live_server: str, page: Page,
                                                          browser: Browser, create_org,
                                                          create_user) -> None:
    load_catalogue()
    org = create_org(slug="qr-agence", name="Agence QR")
    trainer = create_user(Role.TRAINER, org=org, name="Claire Formatrice", password=PASSWORD)
    nina = create_user(Role.LEARNER, org=org, name="Nina Apprenante", password=PASSWORD)
    program = copy_from_catalogue(organization=org,
                                  slug="sensibilisation-reseaux-sociaux")
    cohort = create_cohort(program=program, name="Vague 1")
    enrollment = enrol(cohort=cohort, membership=nina.memberships[0])
    now = utcnow()
    session = schedule_session(cohort=cohort, module=program.modules[0],
                               starts_at=now - timedelta(minutes=5),
                               ends_at=now + timedelta(hours=3), place="Salle Rhône")
    register(session=session, enrollment=enrollment)
    db.session.commit()

    page.goto("/login")
    _log_in(page, trainer.email)
    page.goto(f"/o/qr-agence/sessions/{session.id}")
    page.get_by_role("link", name="Show the sign-in QR code").click()
    expect(page.get_by_role("img", name="Sign-in QR code")).to_be_visible()
    expect(page.get_by_text("0 of 1 signed in")).to_be_visible()
    scan = page.locator("a[href*='/sign-in/']").get_attribute("href")
    assert scan is not None

    phone = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 800})
    mobile = phone.new_page()
    mobile.goto(scan.replace("http://relais.test", ""))  # BASE_URL of the tests
    expect(mobile).to_have_url(re.compile(r"/login\?next="))
    _log_in(mobile, nina.email)
    expect(mobile.get_by_role("heading", name="Sign-in")).to_be_visible()
    mobile.get_by_role("button", name="I am here: sign me in").click()
    expect(mobile.get_by_text(re.compile(r"You are signed in at \d\d:\d\d"))).to_be_visible()
    phone.close()

    page.reload()
    expect(page.get_by_text("1 of 1 signed in")).to_be_visible()
    page.get_by_role("link", name="Sign-in sheet").click()
    expect(page.get_by_text(re.compile(r"Signed in by QR code at \d\d:\d\d"))).to_be_visible()
    db.session.expire_all()
    mark = db.session.scalar(select(Attendance))
    assert (mark.status, mark.source) == ("present", QR)
