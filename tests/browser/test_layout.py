"""Pages work by keyboard and on a phone: skip link, landmarks, menus, no sideways scrolling."""

from __future__ import annotations

import pytest

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.extensions import db

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser layout password"


def test_keyboard_users_skip_to_the_content_and_find_the_landmarks(live_server: str,
                                                                   page: Page) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # hidden until focused, then on screen
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    # Every form control has a label.
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]):not([type=submit])"
        ":not([type=button]), select, textarea')]"
        ".filter(el => !el.labels || el.labels.length === 0).map(el => el.name)")
    assert unlabelled == []


def test_pages_fit_a_phone_screen_and_the_menus_open(browser: Browser, live_server: str,
                                                     create_org, create_user) -> None:
    org = create_org(slug="atelier", name="Atelier Dupont & Fils, conseil en communication")
    admin = create_user(Role.ADMIN, org=org, name="Jean-Baptiste Lefèvre-Rousseau de la Tour",
                        password=PASSWORD, email="jean-baptiste.lefevre-rousseau@example.com")
    for n in range(3):
        create_user(Role.LEARNER, org=org, team="Marketing et communication digitale",
                    email=f"a.very.long.address.for.learner.{n}@subsidiary.example.com")
    accounts.add_member(organization=create_org(slug="beta", name="Beta Industries"), user=admin,
                        role=Role.LEARNER)
    accounts.issue_api_token(user=admin, name="Synchronisation SIRH quotidienne")
    db.session.commit()

    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True, locale="fr-FR")
    try:
        page = context.new_page()
        _log_in_fr(page, admin.email)
        for path in ("/o/atelier/", "/o/atelier/members", "/account", "/account/tokens"):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width}px wide on a 390px phone"
        # The menu folds into a button; opened, it shows every entry without scrolling
        # sideways, in rows a finger can press; Escape folds it again.
        page.goto("/o/atelier/")
        menu = page.get_by_role("navigation", name="Navigation principale")
        button = page.get_by_role("button", name="Menu")
        expect(menu).to_be_hidden()
        expect(button).to_have_attribute("aria-expanded", "false")
        button.click()
        expect(button).to_have_attribute("aria-expanded", "true")
        links = menu.get_by_role("link").all()
        assert 2 <= len(links) <= 7
        for link in links:
            expect(link).to_be_in_viewport()
            box = link.bounding_box()
            assert box is not None and box["height"] >= 44, link.inner_text()
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        expect(button).to_be_focused()
        # The account menu opens from the keyboard and its entries are on screen.
        page.locator("details.usermenu summary").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Se déconnecter")).to_be_in_viewport()
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Votre compte")).to_be_focused()
        page.locator("details.switcher summary").click()
        expect(page.get_by_role("link", name="Beta Industries")).to_be_in_viewport()
    finally:
        context.close()


def _log_in_fr(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/o/**")


def test_without_script_the_phone_menu_stays_open(browser: Browser, live_server: str,
                                                  create_org, create_user) -> None:
    org = create_org(slug="atelier", name="Atelier Dupont")
    trainer = create_user(Role.TRAINER, org=org, password=PASSWORD)
    db.session.commit()
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                                  java_script_enabled=False, locale="fr-FR")
    try:
        page = context.new_page()
        _log_in_fr(page, trainer.email)
        expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()
        expect(page.locator(".nav-toggle")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
