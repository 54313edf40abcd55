"""Real sessions: logout, password change and "log out of all devices" end them on the
server; a new session id at each login; idle and absolute lifetimes."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select

from lms.accounts.models import Role, UserSession
from lms.core.models import utcnow
from lms.extensions import db
from tests.support import PASSWORD


def cookie(client: FlaskClient) -> str:
    found = client.get_cookie("session")
    assert found is not None
    return found.value


def stolen(app, value: str) -> FlaskClient:
    """Another browser holding a copy of ``value`` as its session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def opens(client: FlaskClient, org_slug: str) -> bool:
    return client.get(f"/o/{org_slug}/").status_code == 200


def test_a_cookie_saved_before_logout_opens_nothing_after(app, client, create_user, login):
    user = create_user(Role.TRAINER)
    slug = user.memberships[0].organization.slug
    login(user)
    saved = cookie(client)
    assert opens(stolen(app, saved), slug)
    assert client.post("/logout").status_code == 302
    assert not opens(client, slug)
    response = stolen(app, saved).get(f"/o/{slug}/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_change_ends_every_other_session(app, client, create_user, login):
    user = create_user(Role.TRAINER)
    slug = user.memberships[0].organization.slug
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    assert opens(other, slug)
    login(user)
    saved = cookie(client)
    wrong = client.post("/account/password", data={
        "current_password": "not it at all", "password": "a brand new secret",
        "confirm": "a brand new secret"})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(
        as_text=True)
    assert opens(other, slug)  # nothing changed
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "a brand new secret",
        "confirm": "a brand new secret"})
    assert response.status_code == 302
    assert opens(client, slug)  # this browser stays logged in, with a new session
    assert not opens(other, slug)
    assert not opens(stolen(app, saved), slug)  # the cookie from before the change
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_log_out_of_all_devices(app, client, create_user, login):
    user = create_user(Role.LEARNER)
    slug = user.memberships[0].organization.slug
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    login(user)
    page = client.get("/account").get_data(as_text=True)
    assert "logged in on 2 devices" in page and "Log out of all devices" in page
    response = client.post("/account/sessions/end-all")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not opens(client, slug) and not opens(other, slug)


def test_each_login_gets_a_new_session_id(app, client, create_user, login):
    user = create_user(Role.LEARNER)
    slug = user.memberships[0].organization.slug
    client.get("/login")
    before = client.get_cookie("session")
    login(user)
    first = cookie(client)
    assert before is None or before.value != first
    client.post("/logout")
    login(user)
    assert cookie(client) != first
    # The first login's cookie was ended by the logout and stays ended.
    assert not opens(stolen(app, first), slug)
    assert opens(client, slug)


def test_idle_and_absolute_lifetimes(app, client, create_user, login):
    user = create_user(Role.LEARNER)
    slug = user.memberships[0].organization.slug
    login(user)
    row = db.session.scalar(select(UserSession))
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 5)
    db.session.commit()
    assert opens(client, slug)  # still in time; and the visit moves last_seen_at
    db.session.expire_all()
    assert utcnow() - db.session.scalar(select(UserSession)).last_seen_at < timedelta(minutes=1)
    row = db.session.scalar(select(UserSession))
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.session.commit()
    assert not opens(client, slug)
    login(user)
    row = db.session.scalar(select(UserSession))
    row.created_at = utcnow() - timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"], minutes=1)
    db.session.commit()
    assert not opens(client, slug)
