"""The quiz editor in a real browser: its option buttons work without script, every field has
a label, a refused question keeps what was typed, and the learner then takes the quiz."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts.models import Role
from lms.courses.programs.models import Quiz
from lms.courses.programs.services import copy_from_catalogue, load_catalogue

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser quiz password"
UNLABELLED = ("[...document.querySelectorAll('main input:not([type=hidden]), main select, "
              "main textarea')].filter(el => !el.labels || el.labels.length === 0)"
              ".map(el => el.name)")


def test_a_trainer_writes_a_quiz_without_script(live_server: str, page: Page, create_org,
                                                create_user) -> None:
    from lms.extensions import db

    load_catalogue()
    org = create_org(slug="atelier", name="Atelier")
    trainer = create_user(Role.TRAINER, org=org, password=PASSWORD)
    program = copy_from_catalogue(organization=org,
                                  slug="parcours-ambassadeurs-6-semaines")
    db.session.commit()
    page.goto("/login")
    page.get_by_label("E-mail").fill(trainer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/o/atelier/programs/{program.id}")
    page.get_by_role("link", name="Add a quiz (A profile people want to connect with)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Add a quiz")
    assert page.evaluate(UNLABELLED) == []

    page.get_by_label("Français (required)").first.fill("Bilan du profil")
    page.get_by_label("Français (required)").nth(1).fill("Que montre une bonne photo ?")
    page.get_by_label("Option 1 · Français (required)").fill("Un visage net")
    page.get_by_label("Option 2 · Français (required)").fill("Un paysage")
    # Rearranging posts the form back and shows it again, nothing saved, nothing lost.
    page.get_by_role("button", name="Move down (option 1)").click()
    expect(page.get_by_label("Option 1 · Français (required)")).to_have_value("Un paysage")
    expect(page.get_by_label("Option 2 · Français (required)")).to_have_value("Un visage net")
    expect(page.get_by_label("Français (required)").first).to_have_value("Bilan du profil")
    # Saving without a correct option is refused with the reason, and the text stays.
    page.get_by_role("button", name="Add the quiz").click()
    expect(page.get_by_text("Mark at least one option as correct.")).to_be_visible()
    expect(page.get_by_label("Option 2 · Français (required)")).to_have_value("Un visage net")
    page.get_by_label("Correct answer (option 2)").check()
    page.get_by_role("button", name="Add an option").click()
    page.get_by_label("Option 3 · Français (required)").fill("Un logo")
    page.get_by_role("button", name="Add the quiz").click()
    expect(page.get_by_role("status")).to_contain_text("The quiz was added.")
    expect(page.get_by_role("heading", level=3)).to_contain_text("Que montre une bonne photo ?")
    quiz = db.session.scalar(select(Quiz).where(Quiz.title["fr"].as_string() == "Bilan du profil"))
    assert quiz is not None
    (question,) = quiz.questions
    assert [(o["text"]["fr"], o["correct"]) for o in question.options] == [
        ("Un paysage", False), ("Un visage net", True), ("Un logo", False)]
