from __future__ import annotations

import re

import pytest

from lms.accounts import services
from lms.accounts.models import LoginFailure, Role
from lms.core.models import utcnow
from lms.extensions import db


def csrf_token(html: str) -> str:
    # Not imported from conftest: several conftest modules share that name.
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_login_lands_on_the_organization_dashboard(client, create_user, login):
    user = create_user(Role.TRAINER)
    response = login(user)
    assert response.headers["Location"] == "/"
    home = client.get("/")
    org_slug = user.memberships[0].organization.slug
    assert home.headers["Location"] == f"/o/{org_slug}/"
    page = client.get(f"/o/{org_slug}/")
    assert page.status_code == 200
    assert user.display_name in page.get_data(as_text=True)


def test_email_is_matched_without_regard_to_case(client, create_user):
    create_user(email="Camille.Martin@Example.com")
    response = client.post("/login", data={"email": "CAMILLE.martin@example.COM",
                                           "password": "correct horse battery"})
    assert response.status_code == 302


def test_email_is_unique_without_regard_to_case(create_user):
    create_user(email="lea@example.com")
    with pytest.raises(services.Conflict):
        services.create_user(email="LEA@Example.COM")


def test_passwords_are_stored_hashed(create_user):
    user = create_user(password="correct horse battery")
    assert user.password_hash and "correct horse battery" not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_wrong_password_shows_a_form_error(client, create_user):
    user = create_user()
    response = client.post("/login", data={"email": user.email, "password": "nope"})
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.get_data(as_text=True)


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client):
    response = client.post("/login", data={"email": "nobody@example.com", "password": "nope"})
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.get_data(as_text=True)


def test_a_malformed_form_is_a_400(client):
    response = client.post("/login", data={"email": "not an address", "password": "x"})
    assert response.status_code == 400


def test_a_disabled_account_cannot_log_in(client, create_user):
    user = create_user()
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email,
                                           "password": "correct horse battery"})
    assert response.status_code == 401


def test_a_person_invited_but_without_password_cannot_log_in(client, create_user):
    user = create_user(password=None)
    response = client.post("/login", data={"email": user.email, "password": ""})
    assert response.status_code == 400
    response = client.post("/login", data={"email": user.email, "password": "anything at all"})
    assert response.status_code == 401


def test_logout_ends_the_session(client, create_user, login):
    user = create_user()
    login(user)
    assert client.post("/logout").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")
    org_slug = user.memberships[0].organization.slug
    assert client.get(f"/o/{org_slug}/").status_code == 302


def test_logout_is_post_only(client, create_user, login):
    login(create_user())
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 302  # still logged in: redirected to the dashboard
    assert "/o/" in client.get("/").headers["Location"]


def test_org_pages_send_anonymous_visitors_to_login_and_back(client, create_user):
    user = create_user()
    slug = user.memberships[0].organization.slug
    response = client.get(f"/o/{slug}/members?page=1")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/o/{slug}/members?page%3D1"
    response = client.post(response.headers["Location"],
                           data={"email": user.email, "password": "correct horse battery"})
    assert response.headers["Location"] == f"/o/{slug}/members?page=1"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "///evil.example/", "/\\evil.example/",
    "\\\\evil.example", "/\t/evil.example", "javascript:alert(1)", "evil.example",
    "http:/evil.example",
])
def test_next_never_leaves_the_site(client, create_user, target):
    user = create_user()
    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_failed_logins_are_limited_per_account_and_address(client, create_user, app):
    user = create_user()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert client.post("/login", data={"email": user.email,
                                           "password": "wrong"}).status_code == 401
    # Even the right password is refused now from this address, in any case…
    response = client.post("/login", data={"email": user.email.upper(),
                                           "password": "correct horse battery"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed logins" in response.get_data(as_text=True)
    # …but a stranger guessing from one address does not lock the owner out elsewhere.
    response = client.post("/login", data={"email": user.email,
                                           "password": "correct horse battery"},
                           environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 302
    client.post("/logout")
    # Another account is not affected.
    other = create_user()
    assert client.post("/login", data={"email": other.email,
                                       "password": "correct horse battery"}).status_code == 302


def test_failed_logins_from_one_address_are_limited(client, create_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 3)
    user = create_user()
    here = {"REMOTE_ADDR": "10.1.1.1"}
    for n in range(3):  # three different accounts, each under its own limit
        response = client.post("/login", data={"email": f"guess{n}@example.com",
                                               "password": "wrong"}, environ_base=here)
        assert response.status_code == 401
    response = client.post("/login", data={"email": user.email,
                                           "password": "correct horse battery"},
                           environ_base=here)
    assert response.status_code == 429
    response = client.post("/login", data={"email": user.email,
                                           "password": "correct horse battery"},
                           environ_base={"REMOTE_ADDR": "10.2.2.2"})
    assert response.status_code == 302


def test_old_failures_stop_counting_after_the_window(client, create_user, app):
    user = create_user()
    long_ago = utcnow().replace(year=utcnow().year - 1)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        db.session.add(LoginFailure(email=user.email, address="10.0.0.1", at=long_ago))
    db.session.commit()
    response = client.post("/login", data={"email": user.email,
                                           "password": "correct horse battery"})
    assert response.status_code == 302
    # Those from another address stay until the purge (a success clears its own address's).
    assert services.purge_login_failures() == app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]


def test_a_success_clears_the_account_failures(client, create_user, app):
    user = create_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] - 1):
        client.post("/login", data={"email": user.email, "password": "wrong"})
    assert client.post("/login", data={"email": user.email,
                                       "password": "correct horse battery"}).status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": user.email,
                                       "password": "wrong"}).status_code == 401
    assert client.post("/login", data={"email": user.email,
                                       "password": "correct horse battery"}).status_code == 302


def test_csrf_is_enforced_on_forms(client, create_user, app):
    user = create_user()
    app.config["WTF_CSRF_ENABLED"] = True  # the autouse fixture turns it off again
    data = {"email": user.email, "password": "correct horse battery"}
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={**data, "csrf_token": token})
    assert response.status_code == 302
    # Logging out needs the token too, so another site cannot log people out.
    assert client.post("/logout").status_code == 400
    page = client.get(response.headers["Location"], follow_redirects=True)
    token = csrf_token(page.get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_spellings_of_one_address_share_the_account_and_its_limit(client, create_user, app):
    composed, decomposed = "jos\u00e9@example.com", "jose\u0301@example.com"
    create_user(email=composed)
    assert client.post("/login", data={"email": decomposed.upper(),
                                       "password": "correct horse battery"}).status_code == 302
    client.post("/logout")
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        spelling = decomposed if n % 2 else decomposed.upper()
        client.post("/login", data={"email": spelling, "password": "wrong"})
    response = client.post("/login", data={"email": composed, "password": "correct horse battery"})
    assert response.status_code == 429
