"""Chromium signs in through the test OpenID provider and lands in the right organization."""

from __future__ import annotations

import pytest

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.identity import services
from tests.identity.oidc_provider import running_provider
from tests.support import membership

try:
    from playwright.sync_api import Page, expect
except ImportError:  # tests/browser/conftest.py skips these tests (fails them when CI is set)
    pass

pytestmark = pytest.mark.browser


def test_a_person_signs_in_with_their_company_account(live_server: str, page: Page,
                                                      create_org) -> None:
    org = create_org(slug="acme-sso", name="Acme SSO")
    with running_provider() as provider:
        provider.add_client("acme", "secret", f"{live_server}/sso/oidc/callback")
        provider.person = {"sub": "n-1", "email": "nora@acme-sso.com", "email_verified": True,
                           "name": "Nora Vidal", "groups": ["relais-hr"]}
        services.save_settings(organization=org, issuer=provider.issuer, client_id="acme",
                               client_secret="secret", allowed_domains="acme-sso.com",
                               default_role=Role.LEARNER, role_mapping="relais-hr = hr")
        db.session.commit()

        page.goto("/login")
        page.get_by_label("Work address").fill("nora@acme-sso.com")
        page.get_by_role("button", name="Continue with your company account").click()
        expect(page).to_have_url(f"{live_server}/o/acme-sso/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Acme SSO")
        assert provider.token_requests == 1

    user = db.session.scalar(db.select(User).where(User.email == "nora@acme-sso.com"))
    assert membership(user, org).role == Role.HR
