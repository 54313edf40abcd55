"""SAML 2.0 single sign-on through a real IdP on 127.0.0.1 (tests/identity/saml_idp.py).

The Relais side is driven by the Flask test client; the browser's trip to the IdP is followed
with requests, and the IdP's auto-submitting form is posted to Relais' ACS as a browser would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
import time_machine
from sqlalchemy import select

from lms.accounts.models import AuditEvent, Role, User
from lms.extensions import db
from lms.identity import saml
from lms.identity.models import SamlRequest, SamlSettings
from tests.identity.saml_idp import IdentityProvider, posted_form, running_idp
from tests.support import PASSWORD, membership


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    with running_idp() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_idp(idp: IdentityProvider) -> None:
    idp.sign_assertion, idp.foreign_key, idp.audience = True, False, None
    idp.sp_metadata.clear()
    idp.name_id = "ana@acme-saml.com"
    idp.person = {"email": ["ana@acme-saml.com"], "displayName": ["Ana Lima"],
                  "groups": ["relais-trainers", "everyone"], "department": ["Sales"]}


@pytest.fixture()
def saml_org(idp, create_org, client):
    """An organization whose people sign in through the IdP, which trusts its SP metadata."""

    def make(slug: str = "acme", domains: str = "acme-saml.com", **extra):
        org = create_org(slug=slug)
        saml.save_settings(
            organization=org, idp_metadata=idp.metadata(), idp_metadata_url=None,
            allowed_domains=domains, default_role=Role.LEARNER, name_attribute="displayName",
            role_mapping="relais-trainers = trainer\nrelais-hr = hr", team_attribute="department",
            **extra)
        db.session.commit()
        metadata = client.get(f"/o/{slug}/saml/metadata")
        assert metadata.status_code == 200
        idp.add_sp(saml.entity_id(org), metadata.get_data(as_text=True))
        return org

    return make


def _to_idp(client, email: str = "ana@acme-saml.com", start: str | None = None):
    """Start at Relais and visit the IdP: the ACS path and the fields its page posts."""
    if start:
        response = client.get(start)
    else:
        response = client.post("/sso/start", data={"sso_email": email})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    at_idp = requests.get(response.headers["Location"], allow_redirects=False, timeout=10)
    assert at_idp.status_code == 200, at_idp.text
    action, fields = posted_form(at_idp.text)
    return urlsplit(action).path, fields


def _sign_in(client, email: str = "ana@acme-saml.com", **headers):
    path, fields = _to_idp(client, email)
    return client.post(path, data=fields, headers=headers), (path, fields)


def test_a_new_person_lands_in_their_organization_with_the_mapped_role_and_team(
        client, saml_org, idp):
    org = saml_org()
    response, _ = _sign_in(client)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"] == f"/o/{org.slug}/"
    user = db.session.scalar(select(User).where(User.email == "ana@acme-saml.com"))
    assert user is not None and user.password_hash is None and user.display_name == "Ana Lima"
    member = membership(user, org)
    assert member.role == Role.TRAINER and member.team == "Sales"
    assert client.get(f"/o/{org.slug}/").status_code == 200
    assert db.session.scalar(select(SamlRequest)) is None  # the request was used up
    assert idp.requests_seen >= 1


def test_the_sp_metadata_names_the_acs_and_the_certificate(client, saml_org, create_org):
    org = saml_org()
    xml = client.get(f"/o/{org.slug}/saml/metadata").get_data(as_text=True)
    assert saml.entity_id(org) in xml and saml.acs_url(org) in xml
    assert "HTTP-POST" in xml and "X509Certificate" in xml
    assert 'WantAssertionsSigned="true"' in xml
    # An organization without SAML yet still has its entity ID and ACS to give the IdP.
    other = create_org(slug="later")
    bare = client.get("/o/later/saml/metadata").get_data(as_text=True)
    assert saml.acs_url(other) in bare and "X509Certificate" not in bare
    assert client.get("/o/nobody-here/saml/metadata").status_code == 404


def test_the_key_is_stored_encrypted_and_the_audit_log_records_the_change(saml_org):
    org = saml_org()
    settings = db.session.scalar(select(SamlSettings))
    assert "PRIVATE KEY" not in settings.sp_private_key_encrypted
    assert "BEGIN CERTIFICATE" in settings.sp_certificate
    entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sso.saml_settings"))
    assert entry.organization_id == org.id and entry.details["metadata"] == "pasted"
    text = str(entry.details)
    assert "PRIVATE" not in text and "CERTIFICATE" not in text


@pytest.mark.parametrize(("knob", "value", "message"), [
    ("sign_assertion", False, "not signed"),
    ("foreign_key", True, "could not be verified"),
    ("audience", "https://another-app.example/sp", "meant for another application"),
])
def test_a_bad_assertion_is_refused_with_a_clear_message(client, saml_org, idp, knob, value,
                                                        message):
    saml_org()
    setattr(idp, knob, value)
    response, _ = _sign_in(client, **{"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401, html[:500]
    assert message in html
    assert db.session.scalar(select(User).where(User.email == "ana@acme-saml.com")) is None
    assert client.get("/account").status_code == 302  # nobody was logged in


def test_an_expired_assertion_is_refused(client, saml_org):
    saml_org()
    path, fields = _to_idp(client)  # valid 5 minutes; the request itself waits 10
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=8)):
        response = client.post(path, data=fields, headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert "has expired" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_the_messages_are_french_for_a_french_browser(client, saml_org, idp):
    saml_org()
    idp.sign_assertion = False
    response, _ = _sign_in(client, **{"Accept-Language": "fr"})
    assert "assertions signées" in response.get_data(as_text=True)


def test_a_replayed_assertion_is_refused(client, saml_org):
    saml_org()
    first, (path, fields) = _sign_in(client)
    assert first.status_code == 302
    client.post("/logout")
    again = client.post(path, data=fields, headers={"Accept-Language": "en"})
    assert again.status_code == 400
    assert "expired or was already used" in again.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_an_unsolicited_or_garbled_answer_is_refused(client, saml_org):
    org = saml_org()
    garbled = client.post(f"/o/{org.slug}/saml/acs", data={"SAMLResponse": "not-base64!"})
    assert garbled.status_code == 400
    missing = client.post(f"/o/{org.slug}/saml/acs", data={})
    assert missing.status_code == 400


def test_one_organization_s_assertion_cannot_sign_anyone_into_another(
        client, saml_org, create_user):
    saml_org(slug="acme")
    beta = saml_org(slug="beta", domains="beta-saml.com")
    path, fields = _to_idp(client)
    assert path == "/o/acme/saml/acs"
    refused = client.post("/o/beta/saml/acs", data=fields, headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    assert db.session.scalar(select(User).where(User.email == "ana@acme-saml.com")) is None
    assert client.get("/o/beta/").status_code == 302
    # Nor can beta claim acme's domain, whichever protocol acme uses.
    with pytest.raises(Exception) as taken:
        saml.save_settings(organization=beta, idp_metadata=None, idp_metadata_url=None,
                           allowed_domains="beta-saml.com, acme-saml.com",
                           default_role="learner")
    assert "acme-saml.com" in taken.value.fields["allowed_domains"]


def test_an_e_mail_outside_the_allowed_domains_is_refused(client, saml_org, idp):
    saml_org()
    idp.person["email"] = ["eve@evil-saml.com"]
    response, _ = _sign_in(client)
    assert response.status_code == 403


def test_require_sso_turns_passwords_off_except_for_the_break_glass_admin(
        client, saml_org, create_user):
    org = saml_org()
    admin = create_user(Role.ADMIN, org=org, email="root@acme-saml.com")
    learner = create_user(Role.LEARNER, org=org, email="leo@acme-saml.com")
    saml.save_settings(organization=org, idp_metadata=None, idp_metadata_url=None,
                       allowed_domains="acme-saml.com", default_role="learner",
                       require_sso=True, break_glass_user=admin)
    db.session.commit()
    refused = client.post("/login", data={"email": learner.email, "password": PASSWORD})
    assert refused.status_code == 403
    allowed = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert allowed.status_code == 302


def test_the_sign_in_link_of_an_organization_uses_its_saml_idp(client, saml_org):
    org = saml_org()
    path, fields = _to_idp(client, start=f"/sso/o/{org.slug}")
    assert client.post(path, data=fields).status_code == 302


# -- the settings page --------------------------------------------------------------------------

def test_an_admin_imports_the_idp_metadata_on_the_settings_page(client, create_user, login,
                                                               idp):
    admin = create_user(Role.ADMIN, email="root@gamma-saml.com")
    org = admin.memberships[0].organization
    login(admin)
    page = client.get(f"/o/{org.slug}/settings/sso", headers={"Accept-Language": "fr"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and saml.acs_url(org) in html and saml.entity_id(org) in html
    bad = client.post(f"/o/{org.slug}/settings/sso/saml", data={
        "saml-idp_metadata": "<not metadata", "saml-allowed_domains": "gamma-saml.com",
        "saml-default_role": "learner", "saml-email_attribute": "email",
        "saml-role_mapping": "admins = king", "saml-break_glass_user_id": ""},
        headers={"Accept-Language": "fr"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "pas des métadonnées SAML" in html and "rôle connu" in html
    assert "&lt;not metadata" in html  # what was typed is kept
    assert db.session.scalar(select(SamlSettings)) is None
    good = client.post(f"/o/{org.slug}/settings/sso/saml", data={
        "saml-enabled": "y", "saml-idp_metadata_url": f"{idp.base}/metadata",
        "saml-allowed_domains": "gamma-saml.com", "saml-default_role": "learner",
        "saml-email_attribute": "email", "saml-groups_attribute": "groups",
        "saml-break_glass_user_id": ""})
    assert good.status_code == 302, good.get_data(as_text=True)[:2000]
    settings = db.session.scalar(select(SamlSettings))
    assert settings.idp_entity_id == idp.entity_id
    assert settings.idp_metadata_url == f"{idp.base}/metadata"
    entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sso.saml_settings"))
    assert entry.actor_id == admin.id and entry.details["metadata"] == "url"
    unreachable = client.post(f"/o/{org.slug}/settings/sso/saml", data={
        "saml-idp_metadata_url": "ftp://example.com/md", "saml-allowed_domains": "gamma-saml.com",
        "saml-default_role": "learner", "saml-email_attribute": "email",
        "saml-break_glass_user_id": ""}, headers={"Accept-Language": "en"})
    assert unreachable.status_code == 422 and "https address" in unreachable.get_data(as_text=True)
