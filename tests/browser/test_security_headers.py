"""In a real browser, the Content-Security-Policy blocks nothing Relais itself needs, and the
confirmations moved out of inline handlers still ask before acting."""

from __future__ import annotations

import pytest

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.extensions import db

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser headers password"


def test_no_csp_violation_and_confirmations_still_ask(live_server: str, page: Page,
                                                      create_org, create_user) -> None:
    org = create_org(slug="csp")
    admin = create_user(Role.ADMIN, org=org, password=PASSWORD, email="admin@csp.example")
    create_user(Role.LEARNER, org=org, name="Léa Martin")
    accounts.issue_api_token(user=admin, name="SIRH")
    db.session.commit()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.goto("/login")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    for path in ("/o/csp/", "/o/csp/members", "/o/csp/advocacy", "/o/csp/skills/map",
                 "/account", "/account/tokens"):
        page.goto(path)
    # Revoking a token asks first (relais.js); dismissing keeps it.
    page.goto("/account/tokens")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke").first.click()
    expect(page.get_by_role("button", name="Revoke")).to_have_count(1)
    # "Log out of all devices" asks, then ends the session.
    page.goto("/account")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Log out of all devices").click()
    page.wait_for_url("**/login")
    page.goto("/o/csp/")
    assert "/login" in page.url
    assert violations == []
