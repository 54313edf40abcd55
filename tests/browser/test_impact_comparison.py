"""Proof of impact in a real browser: HR opens the pilot's impact, reads an estimate with its
interval against colleagues not yet trained, compares coached and not coached, sets values and
costs and downloads the ROI page (read back with pdftotext)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest

from lms.accounts.models import Role
from lms.advocacy import services
from lms.coaching.models import HELD, FollowUp
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import add_module, create_blank_program
from lms.courses.sessions.services import schedule_session
from lms.extensions import db

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser journey password"


def test_hr_reads_the_estimate_compares_coaching_and_downloads_the_roi(
        live_server: str, page: Page, create_org, create_user, tmp_path) -> None:
    org = create_org(slug="preuve", name="Preuve Co")
    hr = create_user(Role.HR, org=org, name="Hélène RH", password=PASSWORD)
    now = utcnow()
    kickoff = now - timedelta(weeks=6)
    program = create_blank_program(organization=org, title="Parcours", language="en")
    workshop = add_module(program=program, kind="workshop", title="Kick-off")
    coaching = add_module(program=program, kind="coaching", title="Follow-up")
    pilot = create_cohort(program=program, name="Pilot group", pilot=True)
    schedule_session(cohort=pilot, module=workshop, starts_at=kickoff,
                     ends_at=kickoff + timedelta(hours=7), place="Lyon")
    trained = [create_user(Role.LEARNER, org=org, name=f"Trained {i}") for i in range(10)]
    others = [create_user(Role.LEARNER, org=org, name=f"Colleague {i}") for i in range(6)]
    for i, user in enumerate(trained):
        enrollment = enrol(cohort=pilot, membership=user.memberships[0])
        if i < 5:
            db.session.add(FollowUp(organization_id=org.id, enrollment_id=enrollment.id,
                                    module_id=coaching.id, duration_minutes=60, status=HELD,
                                    scheduled_at=kickoff + timedelta(days=7)))
    db.session.commit()
    events = []
    for i, user in enumerate(trained + others):
        services.give_consent(organization=org, user=user)
        after = (6 + i % 3 if i < 5 else 3 + i % 2) if user in trained else 1 + i % 2
        for n in range(after):
            events.append(services.normalize_event({
                "network": "linkedin", "kind": "share", "clicks": 3,
                "occurred_at": kickoff + timedelta(days=1 + n),
                "url": f"https://www.linkedin.com/feed/update/{user.id}-{n}"},
                user_id=user.id, source="api", now=now))
        events.append(services.normalize_event({
            "network": "linkedin", "kind": "share", "clicks": 3,
            "occurred_at": kickoff - timedelta(days=2 + i % 5),
            "url": f"https://www.linkedin.com/feed/update/{user.id}-before"},
            user_id=user.id, source="api", now=now))
    services.ingest(organization=org, events=events, names={})
    db.session.commit()

    page.goto("/login")
    page.get_by_label("E-mail").fill(hr.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/o/{org.slug}/advocacy/impact?cohort={pilot.id}")
    page.get_by_role("link", name="Against colleagues not yet trained, formats compared and ROI"
                     ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proof of impact: Pilot group")
    shares = page.locator("#estimates").get_by_role("row", name="Shares", exact=False).first
    expect(shares).to_contain_text("likely increase of")
    expect(shares).to_contain_text("shares per person per month")
    expect(page.get_by_role("img", name="Shares per person, by week relative to the training")
           ).to_be_visible()

    page.get_by_label("Compare", exact=True).select_option("coached")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#formats")).to_contain_text("Coached against Not coached")
    expect(page.get_by_text("People compared — Coached: 5; Not coached: 5", exact=False)
           ).to_be_visible()
    expect(page.locator("#formats").get_by_role("row", name="Shares", exact=False).first
           ).to_contain_text("more shares per person per month")

    page.get_by_role("link", name="Set the value of outcomes and the costs").click()
    page.get_by_label("Value of one click").fill("abc")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("A positive amount, or blank.")).to_be_visible()
    page.get_by_label("Value of one click").fill("2.50")
    page.get_by_label("Trainer day rate").fill("900")
    page.get_by_label("Hourly cost of a learner's time").fill("40")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Values and costs saved.")).to_be_visible()
    roi = page.locator("#roi")
    expect(roi).to_contain_text("900 EUR")
    expect(roi.get_by_role("row", name="ROI (low, estimate, high)")).to_contain_text("%")

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the ROI page (PDF)").click()
    target = tmp_path / "roi.pdf"
    info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True,
                              check=True).stdout.decode()
        assert "Return on investment: Pilot group" in text
        assert "likely increase of" in text and "Total cost" in text
