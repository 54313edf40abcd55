"""In Chromium: a learner sees what to share this week (at phone width) and proposes an idea;
a trainer approves it into the editorial calendar."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.advocacy import calendar
from lms.advocacy.models import ContentProposal
from lms.core.models import utcnow
from lms.extensions import db
from tests.browser.screenshots import log_in
from tests.support import statements_by_verb

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser calendar password"


def test_learner_shares_and_proposes_a_trainer_approves(live_server: str, page: Page,
                                                        create_org, create_user) -> None:
    org = create_org(slug="calendrier", name="Maison Calendrier")
    trainer = create_user(Role.TRAINER, org=org, name="Sophie Formatrice", password=PASSWORD)
    learner = create_user(Role.LEARNER, org=org, name="Hugo Bernard", password=PASSWORD)
    today = utcnow().date()
    calendar.save_item(organization=org, fields=calendar.ItemFields(
        title="Portes ouvertes de l'usine", url="https://www.example.com/portes-ouvertes",
        starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=5),
        networks=["linkedin"], angle="Ce que vous aimeriez montrer de votre atelier.",
        angle_en="What you would like to show of your workshop."))
    db.session.commit()

    # At phone width, the learner finds this week's content from the dashboard.
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, learner.email, PASSWORD)
    card = page.locator("section", has=page.get_by_role("heading", name="To share"))
    expect(card.get_by_role("link", name="Portes ouvertes de l'usine")).to_be_visible()
    card.get_by_role("link", name="See the 1 item to share").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("To share")
    expect(page.get_by_text("What you would like to show of your workshop.")).to_be_visible()
    expect(page.get_by_role("heading", name="Add your own words")).to_be_visible()
    db.session.expire_all()
    [seen] = statements_by_verb("http://adlnet.gov/expapi/verbs/experienced")
    assert seen["actor"]["account"]["name"] == str(learner.id)
    assert seen["object"]["id"].endswith(f"/xapi/activities/to-share/{org.slug}")

    # They propose an idea of their own.
    page.get_by_role("link", name="Propose content").first.click()
    page.get_by_label("Title").fill("Nos 200 arbres plantés avec Bocage Vivant")
    page.get_by_label("Link (optional)").fill("https://www.example.com/bocage")
    page.get_by_label("Note for the reviewer").fill("Photos disponibles.")
    page.get_by_role("button", name="Propose").click()
    expect(page.locator(".flash-success")).to_contain_text("your proposal is sent")
    expect(page.get_by_role("cell", name="Waiting for review")).to_be_visible()

    # The trainer approves it into the calendar, from next Monday for a week.
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, trainer.email, PASSWORD)
    page.goto(f"/o/{org.slug}/advocacy/calendar")
    page.get_by_role("link", name="Proposals (1)").click()
    proposal = page.get_by_role("article").filter(has_text="Nos 200 arbres")
    start = today + timedelta(days=7 - today.weekday())
    proposal.get_by_label("To share from").fill(start.isoformat())
    proposal.get_by_label("Until (included)").fill((start + timedelta(days=6)).isoformat())
    proposal.get_by_role("checkbox", name="Instagram").check()
    proposal.get_by_role("button", name="Approve into the calendar").click()
    expect(page.locator(".flash-success")).to_contain_text("on the calendar")
    page.get_by_role("link", name="Show a week").click()
    if not page.get_by_role("link", name="Nos 200 arbres").count():
        page.get_by_role("link", name="Next week").click()
    expect(page.get_by_role("link", name="Nos 200 arbres plantés avec Bocage Vivant")
           ).to_be_visible()
    db.session.expire_all()
    approved = db.session.scalar(select(ContentProposal))
    assert approved.status == "approved" and approved.content_item.starts_on == start
