"""The social-media charter in a real browser: a learner is prompted on her dashboard, reads the
charter and accepts it; the "accepted" statement is then read back from Relais' own LRS
(HTTP Basic, xAPI GET filters), and on a phone the charter page fits the screen."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from lms.accounts.models import Role
from lms.charter import default, services
from lms.extensions import db
from lms.xapi.services import create_lrs_credentials

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser
PASSWORD = "browser journey password"
ACCEPT = "http://activitystrea.ms/schema/1.0/accept"


def test_a_learner_accepts_the_charter_and_the_statement_is_in_the_lrs(
        live_server: str, page: Page, create_org, create_user) -> None:
    org = create_org(slug="charte-co", name="Charte & Co")
    learner = create_user(Role.LEARNER, org=org, name="Lina Learner", password=PASSWORD)
    hr = create_user(Role.HR, org=org, name="Harry HR")
    version = services.publish(organization=org, body_fr=default.BODY_FR,
                               body_en=default.BODY_EN, by=hr)
    _credential, secret = create_lrs_credentials(organization=org)
    db.session.commit()
    key = _credential.key

    page.goto("/login")
    page.get_by_label("E-mail").fill(learner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    prompt = page.locator("#charter-prompt")
    expect(prompt).to_be_visible()
    prompt.get_by_role("link", name="Read the charter (version 1)").click()
    expect(page.get_by_role("heading", name="3. I keep confidential what is confidential")
           ).to_be_visible()
    page.get_by_role("button", name="I have read the charter and I accept it").click()
    expect(page.get_by_text("Thank you: you accepted the charter.")).to_be_visible()
    expect(page.locator("#charter-prompt")).to_have_count(0)

    # The statement, read back from the LRS as any xAPI client would.
    agent = json.dumps({"account": {"homePage": live_server,
                                    "name": str(learner.id)}})
    auth = base64.b64encode(f"{key}:{secret}".encode()).decode()
    response = page.request.get(
        f"/xapi/statements?verb={quote(ACCEPT)}&agent={quote(agent)}",
        headers={"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"})
    assert response.ok, response.text()
    [statement] = response.json()["statements"]
    assert statement["object"]["id"].endswith(f"/xapi/activities/charter/{version.id}")
    assert statement["verb"]["display"]["en-US"] == "accepted"

    # On a phone the charter reads without sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/o/charte-co/charter")
    expect(page.get_by_text("You accepted this version on")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
