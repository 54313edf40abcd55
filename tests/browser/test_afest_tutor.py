"""Naming an AFEST tutor in a real browser: the trainer types the tutor's e-mail (a few
addresses suggested, never the whole organization); an unknown address is refused under the
field with what was typed kept; any case of a member's address names them. The AFEST records
list is searched and filtered to find the learner. axe finds no serious problem on the pages,
with or without the message, and they fit a phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from lms.accounts.models import Role
from lms.extensions import db
from tests.browser.crawl import _check
from tests.courses.conftest import World, enrolled, world  # noqa: F401  (fixtures)
from tests.support import PASSWORD

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
FIELD = "Tutor's e-mail (leave empty for none)"


@pytest.fixture()
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # axe is injected as an inline script, which the CSP forbids (as in the crawl).
    return {**browser_context_args, "bypass_csp": True}


def test_a_trainer_names_the_tutor_by_e_mail(live_server: str, page: Page, axe_script: Path,
                                             enrolled: World, create_user) -> None:  # noqa: F811
    w = enrolled
    for i in range(30):  # colleagues the page must not list
        create_user(Role.LEARNER, org=w.org, name=f"Colleague {i:02}", password=None)
    create_user(Role.LEARNER, org=w.org, name="Tina Tutrice", email="tina@example.com")
    boss = create_user(Role.LEARNER, org=w.org, name="Bea Boss", email="bea@example.com")
    w.member(w.learners[0]).manager = w.member(boss)
    db.session.commit()
    axe = axe_script.read_text()

    page.goto("/login")
    page.get_by_label("E-mail").fill(w.trainer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/o/acme/exercises/review")
    page.get_by_role("link", name="AFEST records").click()
    # The list: a search on names and e-mail addresses, and the records without a tutor yet.
    page.get_by_label("Find a learner").fill("LEARNER 0")
    page.get_by_label("Without a tutor yet").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=re.compile("^Open"))).to_have_count(1)
    expect(page.get_by_label("Without a tutor yet")).to_be_checked()
    assert _check(page, axe, "AFEST records, searched") == []
    page.get_by_role("link", name="Open Learner 0").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AFEST record — Learner 0")
    field = page.get_by_label(FIELD)
    assert field.get_attribute("type") == "email" and field.get_attribute("list")
    assert page.locator("#tutor-suggestions option").evaluate_all(
        "options => options.map(o => o.value)") == ["bea@example.com"]
    assert page.get_by_text("Colleague 00").count() == 0
    assert _check(page, axe, "AFEST record") == []

    field.fill("nobody@example.com")
    page.get_by_role("button", name="Save the tutor").click()
    expect(page.locator("#tutor_email-error")).to_have_text(
        "nobody@example.com is not a member of the organization.")
    expect(page.get_by_label(FIELD)).to_have_value("nobody@example.com")
    expect(page.get_by_label(FIELD)).to_have_attribute("aria-invalid", "true")
    assert _check(page, axe, "AFEST record, refused tutor") == []

    page.get_by_label(FIELD).fill("Tina@EXAMPLE.com")
    page.get_by_role("button", name="Save the tutor").click()
    expect(page.get_by_text("The tutor was saved.")).to_be_visible()
    expect(page.get_by_role("region", name="Tutor").get_by_role("paragraph").first
           ).to_have_text("Tina Tutrice")
    expect(page.get_by_label(FIELD)).to_have_value("tina@example.com")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert _check(page, None, "AFEST record on a phone") == []
    # Named, Learner 0 leaves the records without a tutor: nothing matches, a sentence says so.
    page.goto("/o/acme/exercises/afest?q=learner+0&untutored=1")
    expect(page.get_by_text("No AFEST record matches these filters.")).to_be_visible()
    assert _check(page, axe, "AFEST records on a phone, nothing found") == []
