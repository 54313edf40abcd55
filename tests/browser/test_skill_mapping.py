"""Skill mapping in a real browser: a learner answers the shipped questionnaire to the end and
sees the radar and what to work on next; a trainer then finds them on the skill map."""

from __future__ import annotations

import pytest

from lms.accounts.models import Role
from lms.assessments import services as assessments
from lms.courses.programs.services import add_module, copy_from_catalogue, load_catalogue
from lms.extensions import db

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser journey password"
MAX_STEPS = 40  # 8 competencies × at most 3 steps, plus the habits screen: ends well before


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_learner_maps_their_skills_and_a_trainer_sees_them(live_server: str, page: Page,
                                                             browser: Browser, create_org,
                                                             create_user) -> None:
    assessments.load_builtin_content()
    org = create_org(slug="skills-co", name="Skills Co")
    load_catalogue()
    program = copy_from_catalogue(organization=org,
                                  slug="parcours-ambassadeurs-6-semaines")
    module = add_module(program=program, kind="elearning", title="Tell a customer story")
    module.competencies = ["C3"]
    learner = create_user(Role.LEARNER, org=org, name="Lina Learner", password=PASSWORD,
                          job_family="sales", team="Ventes")
    trainer = create_user(Role.TRAINER, org=org, name="Tom Trainer", password=PASSWORD)
    db.session.commit()

    _log_in(page, learner.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My skills").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My skills")
    page.get_by_role("button", name="Start").first.click()

    # Answer each screen: the first choice of every question ("never", the first option).
    submit = page.get_by_role("button", name="Submit and see my results")
    for _ in range(MAX_STEPS):
        page.locator("form.step, button:has-text('Submit and see my results')").first.wait_for()
        if submit.count():
            break
        questions = page.locator("fieldset.question")
        assert questions.count() > 0
        for i in range(questions.count()):
            questions.nth(i).locator("input").first.check()
        with page.expect_navigation():  # never read the old screen again
            page.get_by_role("button", name="Next").click()
    else:
        pytest.fail(f"the questionnaire did not end within {MAX_STEPS} screens")
    expect(page.locator("progress#progress")).to_have_attribute("value", "100")
    submit.click()

    # The results: the radar as SVG, the gaps with the descriptor advice and the module.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Results")
    expect(page.locator("svg.radar")).to_be_visible()
    expect(page.get_by_role("heading", name="Gaps and what to work on next")).to_be_visible()
    expect(page.get_by_text("Try this:").first).to_be_visible()
    # Each gap beyond the first is folded: open the one the module works on.
    suggestion = page.locator(".module-suggestion", has_text="Tell a customer story")
    page.locator(".gaps details", has=suggestion).locator("summary").click()
    expect(suggestion).to_be_visible()
    # The situations answered, folded: the learner's own answer beside the best one.
    page.get_by_text("The situations you answered").click()
    expect(page.locator(".feedback.wrong").first).to_contain_text("Your answer")
    expect(page.locator(".feedback.wrong").first).to_contain_text("The best answer")

    # The trainer sees the learner's row with levels on the skill map.
    context = browser.new_context(base_url=live_server)
    try:
        staff = context.new_page()
        _log_in(staff, trainer.email)
        staff.get_by_role("navigation", name="Main").get_by_role("link", name="Skills").click()
        expect(staff.get_by_role("heading", level=1)).to_have_text("Team skill map")
        row = staff.locator("table.heatmap tbody tr", has_text="Lina Learner")
        expect(row).to_have_count(1)
        expect(row.locator("td.cell")).to_have_count(8)
        # Never done anything: level 0 everywhere, below the sales targets.
        expect(row.locator("td.cell.lvl-0")).to_have_count(8)
        expect(row.locator("td.cell.below").first).to_contain_text("0")
        expect(staff.get_by_text("Not answered yet (0)")).to_be_visible()
    finally:
        context.close()
