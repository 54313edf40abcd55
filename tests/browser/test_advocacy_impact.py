"""The impact of training in a real browser: HR opens the before/after report, reads the chart's
table, follows a learner to their timeline; a trainer edits a campaign and archives it after
confirming."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.accounts.models import Role
from lms.advocacy import services
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


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_hr_reads_the_impact_and_a_learners_timeline(live_server: str, page: Page, create_org,
                                                     create_user) -> None:
    org = create_org(slug="impact-co", name="Impact Co")
    hr = create_user(Role.HR, org=org, name="Hélène RH", password=PASSWORD)
    trainer = create_user(Role.TRAINER, org=org, name="Tom Trainer", password=PASSWORD)
    ana = create_user(Role.LEARNER, org=org, name="Ana Learner", password=PASSWORD)
    program = create_blank_program(organization=org, title="Parcours", language="en")
    workshop = add_module(program=program, kind="workshop", title="Kick-off")
    cohort = create_cohort(program=program, name="Pilot group", pilot=True)
    enrol(cohort=cohort, membership=ana.memberships[0])
    kickoff = utcnow() - timedelta(weeks=6)
    schedule_session(cohort=cohort, module=workshop, starts_at=kickoff,
                     ends_at=kickoff + timedelta(hours=3), place="Lyon")
    campaign = services.create_campaign(organization=org, kind="campaign", title="Launch T3",
                                        target_metric="signups", target_value=100)
    db.session.commit()
    services.give_consent(organization=org, user=ana)
    for n, days in enumerate((-10, 3, 5, 9)):  # one share before the kick-off, three after
        services.record_event(organization=org, user=ana, source="manual", data={
            "network": "linkedin", "kind": "share", "occurred_at": kickoff + timedelta(days=days),
            "url": f"https://www.example.com/post/{n}", "clicks": 4})
    db.session.commit()

    _log_in(page, hr.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Results").click()
    page.get_by_role("navigation", name="Results").get_by_role("link", name="Advocacy").click()
    page.get_by_role("link", name="Impact of training (before/after)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Impact of training on advocacy")
    # Comparable figures share a scale: what the learners did, their audience, the results.
    expect(page.get_by_role("img", name="What the learners did, per learner, before and after")
           ).to_be_visible()
    expect(page.get_by_role("img", name="What the business got, per learner, before and after")
           ).to_be_visible()
    shares = page.get_by_role("row", name="Shares 1 3", exact=False).first
    expect(shares).to_contain_text("+200%")
    page.get_by_role("link", name="Ana Learner").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Timeline of Ana Learner")
    # Grouped by week, each entry with what it is.
    expect(page.locator("ul.timeline-entries > li")).to_have_count(5)
    expect(page.get_by_role("link", name="Open the LinkedIn post").first).to_be_visible()

    page.context.clear_cookies()
    _log_in(page, trainer.email)
    page.goto(f"/o/{org.slug}/advocacy/campaigns/{campaign.id}")
    page.get_by_label("Target value").fill("250")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_text("Campaign saved.")).to_be_visible()
    page.get_by_role("link", name="Archive").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Archive the campaign")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Campaign archived.")).to_be_visible()
    expect(page.get_by_role("row", name="Launch T3")).to_contain_text("archived")
