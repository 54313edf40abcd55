"""Skills and behaviour together in a real browser: a learner opens their skill results and
reads, beside each self-assessed level, what their activity shows, their own words in shares,
and a gap their activity suggests with the module that works on it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.accounts.models import Role
from lms.advocacy import services as advocacy
from lms.assessments import queries
from lms.assessments import services as assessments
from lms.assessments.demo import answers_for
from lms.core.models import utcnow
from lms.courses.programs.services import add_module, create_blank_program
from lms.extensions import db

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser journey password"


def test_the_results_show_activity_next_to_self_assessed_levels(
        live_server: str, page: Page, create_org, create_user) -> None:
    assessments.load_builtin_content()
    org = create_org(slug="signals-co", name="Signals Co")
    program = create_blank_program(organization=org, title="Mesurer", language="en")
    module = add_module(program=program, kind="elearning", title="Read your own analytics")
    module.competencies = ["C8"]
    learner = create_user(Role.LEARNER, org=org, name="Sam Sales", job_family="sales",
                          password=PASSWORD)
    db.session.commit()
    attempt, _ = assessments.start_attempt(membership=learner.memberships[0],
                                           questionnaire=queries.builtin_questionnaires()[0])
    answers_for(attempt, {"C1": 3, "C2": 2, "C3": 3, "C4": 3, "C5": 3, "C6": 3, "C7": 3,
                          "C8": 2}, set())
    assessments.submit_attempt(attempt=attempt)
    advocacy.give_consent(organization=org, user=learner)
    now = utcnow()
    advocacy.ingest(organization=org, events=[advocacy.normalize_event(
        {"network": "linkedin", "kind": "post", "occurred_at": now - timedelta(days=3 + 7 * n),
         "url": f"https://www.linkedin.com/feed/update/{n}", "impressions": 100},
        user_id=learner.id, source="api", now=now) for n in range(4)], names={})
    db.session.commit()

    page.goto("/login")
    page.get_by_label("E-mail").fill(learner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/o/{org.slug}/skills/attempts/{attempt.id}/results")
    levels = page.locator("table.levels")
    writing = levels.get_by_role("row", name="Writing", exact=False)
    expect(writing).to_contain_text("Level 3")
    expect(writing.locator(".observed")).to_have_text(
        "Observed activity (last 12 weeks): ● 4 own posts")
    expect(writing.locator(".observed")).to_be_visible()
    expect(levels.get_by_role("row", name="Measuring", exact=False)).to_contain_text(
        "0 measured campaigns")
    activity = page.get_by_role("region", name="What your activity shows")
    expect(activity).to_contain_text("no activity shows them at work yet")
    expect(activity.get_by_role("heading", level=3)).to_have_text("Measuring and improving")
    expect(activity).to_contain_text("Read your own analytics")
    # At phone width the levels table stays readable (no page-wide horizontal scroll).
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
