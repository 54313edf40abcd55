"""The first journeys in a real browser: log in, invite, accept, switch organization, log out."""

from __future__ import annotations

import re

import pytest

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.extensions import db

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser journey password"


def _log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _tile(page: Page, label: str) -> str:
    return page.locator(".tile", has_text=label).locator(".num").inner_text()


def test_trainer_invites_a_learner_who_joins_in_french(live_server: str, page: Page,
                                                       browser: Browser, create_org,
                                                       create_user) -> None:
    org = create_org(slug="atelier-dupont", name="Atelier Dupont")
    trainer = create_user(Role.TRAINER, org=org, name="Claire Formatrice", password=PASSWORD)
    for _ in range(2):
        create_user(Role.LEARNER, org=org)
    create_user(Role.HR, org=org)

    # The trainer logs in and lands on the organization's dashboard.
    _log_in(page, trainer.email)
    expect(page).to_have_url(f"{live_server}/o/atelier-dupont/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Atelier Dupont")
    assert _tile(page, "Learners") == "2"
    assert _tile(page, "Trainers") == "1"
    assert _tile(page, "HR and managers") == "1"
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")

    # They invite a learner; without a mail server the page shows the link to send.
    # "People" opens its first page, the members (the charter's follow-up is its other tab).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members of Atelier Dupont")
    page.get_by_label("E-mail").fill("nouvelle@example.com")
    page.get_by_label("Role").select_option("learner")
    page.get_by_role("button", name="Send invitation").click()
    link = page.locator('.flash-invitation a[href*="/invitations/"]')
    expect(link).to_be_visible()
    invitation_url = link.get_attribute("href")
    assert invitation_url and invitation_url.startswith(f"{live_server}/invitations/")
    expect(page.get_by_text("nouvelle@example.com").first).to_be_visible()

    # The learner opens it in their own (French) browser, chooses a password and is in.
    context = browser.new_context(locale="fr-FR", base_url=live_server)
    try:
        learner = context.new_page()
        learner.goto(invitation_url)
        expect(learner.get_by_role("heading", level=1)).to_have_text("Rejoindre Atelier Dupont")
        learner.get_by_label("Votre nom").fill("Nina Nouvelle")
        learner.get_by_label("Choisissez un mot de passe").fill("un mot de passe solide")
        learner.get_by_label("Confirmez le mot de passe").fill("un mot de passe solide")
        learner.get_by_role("button", name="Rejoindre").click()
        expect(learner).to_have_url(f"{live_server}/o/atelier-dupont/")
        expect(learner.get_by_role("status")).to_contain_text("Bienvenue chez Atelier Dupont")
        expect(learner.get_by_role("heading", level=1)).to_have_text("Atelier Dupont")
        # A learner sees no staff counts and no members page.
        expect(learner.locator(".tile")).to_have_count(0)
        expect(learner.get_by_role("link", name="Membres")).to_have_count(0)
    finally:
        context.close()

    # Back on the trainer's side, the newcomer is a member now.
    page.reload()
    expect(page.get_by_role("cell", name="Nina Nouvelle")).to_be_visible()
    assert _tile_count_after_reload(page, live_server) == "3"


def _tile_count_after_reload(page: Page, live_server: str) -> str:
    page.goto("/o/atelier-dupont/")
    return _tile(page, "Learners")


def test_a_person_in_two_organizations_switches_then_logs_out(live_server: str, page: Page,
                                                             create_org, create_user) -> None:
    alpha = create_org(slug="alpha", name="Alpha Conseil")
    beta = create_org(slug="beta", name="Beta Industries")
    person = create_user(Role.TRAINER, org=alpha, name="Sam Deux-Maisons",
                         password=PASSWORD)
    accounts.add_member(organization=beta, user=person, role=Role.LEARNER)
    db.session.commit()

    _log_in(page, person.email)
    expect(page).to_have_url(f"{live_server}/o/alpha/")
    switcher = page.locator("details.switcher")
    expect(switcher.locator("summary")).to_contain_text("Alpha Conseil")
    switcher.locator("summary").click()
    current = switcher.get_by_role("link", name=re.compile("Alpha Conseil"))
    expect(current).to_have_attribute("aria-current", "true")
    switcher.get_by_role("link", name=re.compile("Beta Industries")).click()

    expect(page).to_have_url(f"{live_server}/o/beta/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beta Industries")
    expect(switcher.locator("summary")).to_contain_text("Beta Industries")
    # In Beta the person is a learner: the staff counts are gone.
    expect(page.locator(".tile")).to_have_count(0)

    page.locator("details.usermenu summary").click()  # the account menu holds "Log out"
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server}/login")
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    page.goto("/o/beta/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
