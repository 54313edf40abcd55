"""Chromium signs in through the test OpenID provider and through the test SAML IdP, and lands in
the right organization with the mapped role."""

from __future__ import annotations

import pytest
import requests

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.identity import saml, services
from tests.identity.oidc_provider import running_provider
from tests.identity.saml_idp import running_idp
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


def test_a_person_signs_in_through_the_company_s_saml_idp(live_server: str, page: Page,
                                                           create_org) -> None:
    org = create_org(slug="acme-saml", name="Acme SAML")
    with running_idp() as idp:
        idp.name_id = "nora@acme-saml.com"
        idp.person = {"email": ["nora@acme-saml.com"], "displayName": ["Nora Vidal"],
                      "groups": ["relais-hr"]}
        saml.save_settings(organization=org, idp_metadata=idp.metadata(), idp_metadata_url=None,
                           allowed_domains="acme-saml.com", default_role=Role.LEARNER,
                           name_attribute="displayName", role_mapping="relais-hr = hr")
        db.session.commit()
        # The IdP trusts Relais' SP metadata, as an administrator sets it up.
        metadata = requests.get(f"{live_server}/o/acme-saml/saml/metadata", timeout=10)
        idp.add_sp(saml.entity_id(org), metadata.text)

        page.goto("/login")
        page.get_by_label("Work address").fill("nora@acme-saml.com")
        page.get_by_role("button", name="Continue with your company account").click()
        # The IdP's page posts the signed assertion back to Relais' ACS by itself.
        expect(page).to_have_url(f"{live_server}/o/acme-saml/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Acme SAML")
        assert idp.requests_seen == 1

    user = db.session.scalar(db.select(User).where(User.email == "nora@acme-saml.com"))
    assert user.display_name == "Nora Vidal"
    assert membership(user, org).role == Role.HR
