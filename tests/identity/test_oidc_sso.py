"""Single sign-on through a real OpenID provider on 127.0.0.1 (tests/identity/oidc_provider.py).

The Relais side is driven by the Flask test client; the browser's trip to the provider and back
is followed by hand with requests (the test client only follows redirects to its own app).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.identity import services
from lms.identity.models import OidcRequest, OidcSettings
from tests.identity.oidc_provider import Provider, running_provider
from tests.support import PASSWORD, membership

REDIRECT_URI = "http://relais.test/sso/oidc/callback"
SECRET = "provider-client-secret"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_provider(provider: Provider) -> None:
    provider.audience, provider.lifetime, provider.alg = None, 300, "RS256"
    provider.foreign_key, provider.nonce = False, None
    provider.person = {"sub": "ana-1", "email": "ana@acme-sso.com", "email_verified": True,
                       "name": "Ana Lima", "groups": ["relais-trainers", "everyone"],
                       "department": "Sales"}


@pytest.fixture()
def sso_org(provider, create_org):
    """An organization whose people sign in through the provider as client "acme-relais"."""

    def make(slug: str = "acme", domains: str = "acme-sso.com", client_id: str = "acme-relais",
             **extra):
        org = create_org(slug=slug)
        provider.add_client(client_id, SECRET, REDIRECT_URI)
        services.save_settings(
            organization=org, issuer=provider.issuer, client_id=client_id, client_secret=SECRET,
            allowed_domains=domains, default_role=Role.LEARNER,
            role_mapping="relais-trainers = trainer\nrelais-hr = hr", team_claim="department",
            **extra)
        db.session.commit()
        return org

    return make


def _sign_in(client, email: str = "ana@acme-sso.com", start: str | None = None):
    """Start at Relais, visit the provider, come back: the callback's response and its URL."""
    if start:
        response = client.get(start)
    else:
        response = client.post("/sso/start", data={"sso_email": email})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    at_provider = requests.get(response.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT_URI
    callback = f"{back.path}?{back.query}"
    return client.get(callback), callback


def test_a_new_person_lands_in_their_organization_with_the_mapped_role_and_team(
        client, sso_org, provider):
    org = sso_org()
    response, _callback = _sign_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/o/{org.slug}/"
    user = db.session.scalar(select(User).where(User.email == "ana@acme-sso.com"))
    assert user is not None and user.password_hash is None and user.display_name == "Ana Lima"
    member = membership(user, org)
    assert member.role == Role.TRAINER and member.team == "Sales"
    # The session is real: the dashboard opens.
    assert client.get(f"/o/{org.slug}/").status_code == 200
    # The pending sign-in was used up.
    assert db.session.scalar(select(OidcRequest)) is None


def test_an_existing_person_is_matched_by_e_mail_and_keeps_their_account(
        client, sso_org, create_user, provider):
    org = sso_org()
    elsewhere = create_user(Role.ADMIN, email="ana@acme-sso.com")
    provider.person["groups"] = []  # no mapped group: the default role
    response, _ = _sign_in(client)
    assert response.status_code == 302
    db.session.refresh(elsewhere)
    assert membership(elsewhere, org).role == Role.LEARNER
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1


def test_the_login_page_offers_the_company_account_in_french(client):
    html = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Continuer avec votre compte d’entreprise" in html
    assert 'name="password"' in html  # the password form is still there


def test_an_unknown_domain_is_told_to_use_a_password(client, sso_org):
    sso_org()
    response = client.post("/sso/start", data={"sso_email": "zoe@nowhere-sso.com"},
                           headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert "Aucun compte d’entreprise" in response.get_data(as_text=True)


def test_a_replayed_answer_is_refused(client, sso_org):
    sso_org()
    first, callback = _sign_in(client)
    assert first.status_code == 302
    client.post("/logout")
    again = client.get(callback, headers={"Accept-Language": "en"})
    assert again.status_code == 400
    assert "expired or was already used" in again.get_data(as_text=True)


def test_an_answer_without_this_browser_s_state_is_refused(client, app, sso_org):
    sso_org()
    response = client.post("/sso/start", data={"sso_email": "ana@acme-sso.com"})
    at_provider = requests.get(response.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["Location"])
    other_browser = app.test_client()
    answer = other_browser.get(f"{back.path}?{back.query}")
    assert answer.status_code == 400
    assert client.get("/account").status_code == 302  # nobody was logged in


@pytest.mark.parametrize(("knob", "value", "status", "message"), [
    ("audience", "another-app", 401, "meant for another application"),
    ("lifetime", -3600, 401, "has expired"),
    ("alg", "none", 401, "could not be verified"),
    ("foreign_key", True, 401, "could not be verified"),
    ("nonce", "an-older-nonce", 401, "could not be verified"),
])
def test_a_bad_id_token_is_refused_with_a_clear_message(client, sso_org, provider, knob, value,
                                                         status, message):
    sso_org()
    setattr(provider, knob, value)
    response, _ = _sign_in(client)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:300]
    assert message in html
    assert db.session.scalar(select(User).where(User.email == "ana@acme-sso.com")) is None


def test_the_messages_are_french_for_a_french_browser(client, sso_org, provider):
    sso_org()
    provider.lifetime = -3600
    response = client.post("/sso/start", data={"sso_email": "ana@acme-sso.com"})
    at_provider = requests.get(response.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["Location"])
    html = client.get(f"{back.path}?{back.query}",
                      headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "a expiré" in html


def test_an_e_mail_outside_the_allowed_domains_is_refused(client, sso_org, provider):
    sso_org()
    provider.person["email"] = "eve@evil-sso.com"
    response, _ = _sign_in(client)
    assert response.status_code == 403
    assert "domain is not allowed" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "eve@evil-sso.com")) is None


def test_an_unverified_e_mail_is_refused(client, sso_org, provider):
    sso_org()
    provider.person["email_verified"] = False
    response, _ = _sign_in(client)
    assert response.status_code == 400
    assert "not verified" in response.get_data(as_text=True)


def test_one_organization_s_provider_cannot_sign_anyone_into_another(
        client, sso_org, create_user, provider):
    sso_org(slug="acme")
    beta = sso_org(slug="beta", domains="beta-sso.com", client_id="beta-relais")
    bob = create_user(Role.LEARNER, org=beta, email="bob@beta-sso.com")
    # acme's provider vouches for a beta address: refused, bob gains nothing anywhere.
    provider.person["email"] = "bob@beta-sso.com"
    response, _ = _sign_in(client, start="/sso/o/acme")
    assert response.status_code == 403
    db.session.refresh(bob)
    assert [m.organization.slug for m in bob.memberships] == ["beta"]
    assert client.get("/o/beta/").status_code == 302  # still anonymous
    # Nor can another organization claim acme's domain.
    with pytest.raises(Exception) as refused:
        services.save_settings(organization=beta, issuer=provider.issuer, client_id="beta-relais",
                               client_secret=None, allowed_domains="beta-sso.com, acme-sso.com",
                               default_role="learner")
    assert "acme-sso.com" in refused.value.fields["allowed_domains"]


def test_require_sso_turns_passwords_off_except_for_the_break_glass_admin(
        client, sso_org, create_user, create_org):
    org = sso_org()
    admin = create_user(Role.ADMIN, org=org, email="root@acme-sso.com")
    learner = create_user(Role.LEARNER, org=org, email="leo@acme-sso.com")
    services.save_settings(organization=org, issuer=services.settings_for(org).issuer,
                           client_id="acme-relais", client_secret=None,
                           allowed_domains="acme-sso.com", default_role="learner",
                           require_sso=True, break_glass_user=admin)
    db.session.commit()
    refused = client.post("/login", data={"email": learner.email, "password": PASSWORD},
                          headers={"Accept-Language": "fr"})
    assert refused.status_code == 403
    assert "authentification unique" in refused.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    allowed = client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert allowed.status_code == 302 and allowed.headers["Location"] == "/"
    # Someone outside the organization is not concerned.
    outsider = create_user(Role.LEARNER, org=create_org())
    client.post("/logout")
    assert client.post("/login", data={"email": outsider.email,
                                       "password": PASSWORD}).status_code == 302


def test_the_provider_being_down_shows_a_message_not_an_error(client, create_org):
    org = create_org(slug="down")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    services.save_settings(organization=org, issuer=f"http://127.0.0.1:{port}",
                           client_id="x", client_secret="y", allowed_domains="down-sso.com",
                           default_role="learner")
    db.session.commit()
    response = client.post("/sso/start", data={"sso_email": "a@down-sso.com"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 502
    assert "cannot be reached" in response.get_data(as_text=True)


# -- the settings page --------------------------------------------------------------------------

def test_an_admin_sets_up_sso_on_the_settings_page(client, create_user, login, provider):
    admin = create_user(Role.ADMIN, email="root@gamma-sso.com")
    org = admin.memberships[0].organization
    login(admin)
    page = client.get(f"/o/{org.slug}/settings/sso", headers={"Accept-Language": "fr"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Authentification unique" in html
    assert REDIRECT_URI in html
    bad = client.post(f"/o/{org.slug}/settings/sso", data={
        "issuer": "ftp://nope", "client_id": "gamma", "client_secret": "",
        "allowed_domains": "not a domain!", "default_role": "learner",
        "role_mapping": "admins = king", "require_sso": "y", "break_glass_user_id": ""},
        headers={"Accept-Language": "fr"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "adresse https" in html and "rôle connu" in html and "Obligatoire" in html
    assert services.settings_for(org) is None
    good = client.post(f"/o/{org.slug}/settings/sso", data={
        "enabled": "y", "issuer": provider.issuer + "/", "client_id": "gamma",
        "client_secret": "s3cret-value", "allowed_domains": "gamma-sso.com, @Gamma-sso.fr",
        "default_role": "learner", "groups_claim": "groups", "role_mapping": "admins = admin",
        "team_claim": "", "require_sso": "y", "break_glass_user_id": str(admin.id)})
    assert good.status_code == 302
    settings = db.session.scalar(select(OidcSettings).where(OidcSettings.organization_id == org.id))
    assert settings.issuer == provider.issuer
    assert sorted(d.domain for d in settings.domains) == ["gamma-sso.com", "gamma-sso.fr"]
    assert "s3cret-value" not in settings.client_secret_encrypted
    assert services.client_secret(settings) == "s3cret-value"
    assert settings.require_sso and settings.break_glass_user_id == admin.id


def test_only_admins_reach_the_settings_page(client, create_user, login):
    trainer = create_user(Role.TRAINER)
    login(trainer)
    org = trainer.memberships[0].organization
    assert client.get(f"/o/{org.slug}/settings/sso").status_code == 403


def test_a_wrong_client_secret_is_refused_by_the_provider(client, sso_org, provider):
    org = sso_org()
    settings = services.settings_for(org)
    services.save_settings(organization=org, issuer=settings.issuer, client_id="acme-relais",
                           client_secret="not-the-secret", allowed_domains="acme-sso.com",
                           default_role="learner")
    db.session.commit()
    response, _ = _sign_in(client)
    assert response.status_code == 401
    assert "did not let you in" in response.get_data(as_text=True)


def test_the_mapped_role_follows_the_provider_s_groups_at_each_sign_in(client, sso_org,
                                                                       provider):
    org = sso_org()
    _sign_in(client)
    client.post("/logout")
    provider.person["groups"] = ["relais-hr"]
    response, _ = _sign_in(client)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "ana@acme-sso.com"))
    db.session.refresh(membership(user, org))
    assert membership(user, org).role == Role.HR


def test_a_deactivated_member_cannot_sign_in_through_the_provider(client, sso_org, create_user):
    from lms.accounts import services as accounts

    org = sso_org()
    ana = create_user(Role.LEARNER, org=org, email="ana@acme-sso.com")
    create_user(Role.ADMIN, org=org)
    accounts.set_member_active(membership=membership(ana, org), active=False)
    db.session.commit()
    response, _ = _sign_in(client)
    assert response.status_code == 403
    assert "has been deactivated" in response.get_data(as_text=True)
    db.session.refresh(ana)
    assert membership(ana, org).active is False and membership(ana, org).role == Role.LEARNER
    assert client.get(f"/o/{org.slug}/").status_code == 302  # not logged in


def test_single_sign_on_is_exempt_from_the_second_factor_requirement(
        client, app, sso_org, provider, create_user):
    """The identity provider does its own MFA: an HR person who signs in through it reaches
    their pages, while a password login to the same organization must set up a second factor."""
    org = sso_org()
    org.require_second_factor = True
    db.session.commit()
    provider.person["groups"] = ["relais-hr"]
    response, _ = _sign_in(client)
    assert response.status_code == 302
    assert client.get(f"/o/{org.slug}/").status_code == 200
    assert client.get(f"/o/{org.slug}/members").status_code == 200

    hr = create_user(Role.HR, org=org, email="rh@elsewhere.example")
    by_password = app.test_client()
    by_password.post("/login", data={"email": hr.email, "password": PASSWORD})
    assert by_password.get(f"/o/{org.slug}/").headers["Location"] == "/account/second-factor"
