"""Chromium turns on an authenticator app from "Your account", then logs in with a code."""

from __future__ import annotations

import time

import pyotp
import pytest

from lms.accounts.models import Role
from tests.support import PASSWORD

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser


def test_a_person_turns_on_a_second_factor_and_logs_in_with_a_code(
        live_server: str, page: Page, create_user) -> None:
    user = create_user(Role.HR)
    page.goto("/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/account")
    page.get_by_role("link", name="Second factor (authenticator app)").click()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    # What a person types when their phone cannot scan the QR code.
    totp = pyotp.TOTP(page.get_by_test_id("totp-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code shown by the app").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    expect(page.get_by_role("heading", name="Your second factor is on")).to_be_visible()

    page.locator("details.usermenu summary").click()  # the account menu holds "Log out"
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server}/login/code")
    # The next time step's code (the enrolment used the current one; one step of drift is fine).
    page.get_by_label("Code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Continue").click()
    slug = user.memberships[0].organization.slug
    expect(page).to_have_url(f"{live_server}/o/{slug}/")
