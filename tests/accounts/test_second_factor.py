"""The optional TOTP second factor, an organization's requirement of it, and known devices.

Codes are computed with pyotp at a frozen clock (time-machine), as an authenticator app would.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from lms.accounts import second_factor, services
from lms.accounts.models import AuditEvent, Role, SecondFactor, User
from lms.extensions import db
from tests.support import PASSWORD

NEW_PASSWORD = "violet staircase under moonlight"


@pytest.fixture()
def clock() -> Iterator[time_machine.Coordinates]:
    """A frozen clock, five seconds into a 30-second time step."""
    start = (int(time.time()) // 30 + 1) * 30 + 5
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


def _enrol(client, user: User) -> tuple[pyotp.TOTP, list[str]]:
    """Set up the second factor through the pages; the app and the recovery codes."""
    page = client.post("/account/second-factor/setup", data={"password": PASSWORD})
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    assert "<svg" in html  # the QR code, inline
    match = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html)
    assert match
    totp = pyotp.TOTP(match.group(1).replace(" ", ""))
    done = client.post("/account/second-factor/confirm", data={"code": totp.now()})
    assert done.status_code == 200, done.get_data(as_text=True)[:500]
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>",
                       done.get_data(as_text=True))
    assert len(codes) == 10
    return totp, codes


def _password_step(client, user: User, **kwargs):
    return client.post("/login", data={"email": user.email, "password": PASSWORD}, **kwargs)


def _actions(user: User) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.actor_id == user.id).order_by(AuditEvent.id)))


def test_enrol_then_log_in_with_a_code(client, create_user, login, clock):
    user = create_user(Role.TRAINER)
    slug = user.memberships[0].organization.slug
    login(user)
    totp, _codes = _enrol(client, user)
    assert _actions(user) == [second_factor.ENABLED]
    stored = db.session.get(SecondFactor, user.id)
    assert stored is not None and totp.secret not in stored.secret_encrypted  # encrypted
    client.post("/logout")

    response = _password_step(client, user, query_string={"next": f"/o/{slug}/members"})
    assert response.headers["Location"] == "/login/code"
    # The password alone opens nothing.
    assert client.get(f"/o/{slug}/").headers["Location"].startswith("/login")
    clock.shift(30)
    response = client.post("/login/code", data={"code": totp.now()})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/o/{slug}/members"
    assert client.get(f"/o/{slug}/").status_code == 200


def test_a_code_is_accepted_once_and_within_one_step_of_drift(client, create_user, login,
                                                                clock):
    user = create_user()
    login(user)
    totp, _codes = _enrol(client, user)  # the current step's code is used by the enrolment
    client.post("/logout")
    _password_step(client, user)
    replayed = client.post("/login/code", data={"code": totp.now()})
    assert replayed.status_code == 401
    assert "already used" in replayed.get_data(as_text=True)
    # Two steps ahead is too far; the next step's code (a clock one step behind) is fine.
    assert client.post("/login/code", data={"code": totp.at(time.time() + 60)}
                       ).status_code == 401
    assert client.post("/login/code", data={"code": totp.at(time.time() + 30)}
                       ).status_code == 302
    client.post("/logout")
    clock.shift(30)
    _password_step(client, user)
    # The code of the step now current was accepted already (a step early): refused again.
    assert client.post("/login/code", data={"code": totp.now()}).status_code == 401


def test_a_recovery_code_works_once(client, create_user, login, clock):
    user = create_user()
    login(user)
    _totp, codes = _enrol(client, user)
    client.post("/logout")
    _password_step(client, user)
    assert client.post("/login/code", data={"code": codes[3].upper()}).status_code == 302
    assert second_factor.recovery_codes_left(user) == 9
    client.post("/logout")
    _password_step(client, user)
    assert client.post("/login/code", data={"code": codes[3]}).status_code == 401
    assert client.post("/login/code", data={"code": codes[4].replace("-", "")}
                       ).status_code == 302


def test_new_recovery_codes_replace_the_old_and_turning_off_asks_who_you_are(
        client, create_user, login, clock):
    user = create_user()
    login(user)
    totp, old_codes = _enrol(client, user)
    refused = client.post("/account/second-factor/recovery-codes",
                          data={"codes-secret": "not my password"})
    assert refused.status_code == 401
    page = client.post("/account/second-factor/recovery-codes",
                       data={"codes-secret": PASSWORD})
    assert page.status_code == 200
    new_codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>",
                           page.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    client.post("/logout")
    _password_step(client, user)
    assert client.post("/login/code", data={"code": old_codes[0]}).status_code == 401
    assert client.post("/login/code", data={"code": new_codes[0]}).status_code == 302
    # Off with a code from the app (a fresh one).
    clock.shift(30)
    assert client.post("/account/second-factor/disable",
                       data={"off-secret": "000000" if totp.now() != "000000" else "111111"}
                       ).status_code == 401
    response = client.post("/account/second-factor/disable", data={"off-secret": totp.now()})
    assert response.status_code == 302
    assert not second_factor.is_enabled(user)
    assert _actions(user) == [second_factor.ENABLED, second_factor.CODES_REGENERATED,
                              second_factor.DISABLED]
    client.post("/logout")
    assert _password_step(client, user).headers["Location"] == "/"


def test_wrong_codes_are_throttled_like_wrong_passwords(client, create_user, login, app, clock):
    user = create_user()
    login(user)
    totp, _codes = _enrol(client, user)
    client.post("/logout")
    _password_step(client, user)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert client.post("/login/code", data={"code": "12345x"}).status_code == 401
    clock.shift(30)
    response = client.post("/login/code", data={"code": totp.now()},
                           headers={"Accept-Language": "fr"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Trop de connexions échouées" in response.get_data(as_text=True)
    # The password step from this address is held too.
    assert _password_step(client, user).status_code == 429


def test_a_session_stopped_before_the_code_opens_nothing(client, create_user, login, app,
                                                          clock):
    user = create_user(Role.ADMIN)
    slug = user.memberships[0].organization.slug
    login(user)
    _enrol(client, user)
    client.post("/logout")
    _password_step(client, user)
    # A copy of the cookie taken between the password and the code.
    stolen = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    stolen.set_cookie("session", cookie.value)
    for path in (f"/o/{slug}/", f"/o/{slug}/members", "/account", "/account/second-factor"):
        response = stolen.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/login"), path
    # And the code step itself expires.
    clock.shift(app.config["LOGIN_SECOND_STEP_SECONDS"] + 1)
    assert stolen.get("/login/code").headers["Location"] == "/login"


def test_a_reset_link_does_not_skip_the_second_factor(client, create_user, login, clock):
    user = create_user()
    login(user)
    _enrol(client, user)
    client.post("/logout")
    found = services.request_password_reset(email=user.email, address="127.0.0.1")
    assert found is not None
    db.session.commit()
    response = client.post(f"/password/reset/{found[1]}",
                           data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/login/code"
    assert client.get("/account").status_code == 302


def test_the_organization_requires_it_of_admins_and_hr_only(client, app, create_user, login,
                                                              create_org, clock):
    org = create_org()
    admin = create_user(Role.ADMIN, org=org)
    hr = create_user(Role.HR, org=org)
    learner = create_user(Role.LEARNER, org=org)
    login(admin)
    page = client.get(f"/o/{org.slug}/settings/security")
    assert page.status_code == 200 and "single sign-on" in page.get_data(as_text=True)
    assert client.post(f"/o/{org.slug}/settings/security",
                       data={"required": "y"}).status_code == 302
    db.session.refresh(org)
    assert org.require_second_factor
    assert _actions(admin) == [second_factor.REQUIREMENT_CHANGED]
    # The admin who just turned it on is sent to set it up before anything else.
    assert client.get(f"/o/{org.slug}/").headers["Location"] == "/account/second-factor"
    client.post("/logout")

    other = app.test_client()
    _password_step(other, learner)
    assert other.get(f"/o/{org.slug}/").status_code == 200

    _password_step(client, hr)
    for path in ("/", f"/o/{org.slug}/", f"/o/{org.slug}/members", "/account"):
        assert client.get(path).headers["Location"] == "/account/second-factor", path
    assert client.get("/account/second-factor").status_code == 200
    _enrol(client, hr)
    assert client.get(f"/o/{org.slug}/members").status_code == 200
    # Turning it off is allowed (a new phone), with a warning that it will be asked again.
    assert "set one up again" in client.get("/account/second-factor").get_data(as_text=True)
    # A learner may not change the setting.
    assert other.get(f"/o/{org.slug}/settings/security").status_code == 403
    # The organization's audit log names both changes in the reader's language.
    client.post("/logout")
    _password_step(client, admin)
    _enrol(client, admin)
    log = client.get(f"/o/{org.slug}/audit", headers={"Accept-Language": "fr"})
    assert log.status_code == 200
    html = log.get_data(as_text=True)
    assert "Exigence du second facteur modifiée" in html and "Second facteur activé" in html


def test_a_known_device_gets_through_while_a_stranger_is_throttled(client, app, create_user,
                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_ADDRESSES", 6)
    user = create_user()
    office = {"REMOTE_ADDR": "10.20.0.1"}  # the owner and the stranger behind one address
    assert _password_step(client, user, environ_base=office).status_code == 302
    assert client.get_cookie("relais_device", path="/login") is not None
    client.post("/logout", environ_base=office)

    stranger = app.test_client()
    for n in range(6):
        where = office if n < 3 else {"REMOTE_ADDR": f"10.30.0.{n}"}
        stranger.post("/login", data={"email": user.email, "password": "wrong"},
                      environ_base=where)
    # Every limit a stranger meets is reached: this address, and the account everywhere.
    assert _password_step(stranger, user, environ_base=office).status_code == 429
    assert _password_step(stranger, user,
                          environ_base={"REMOTE_ADDR": "10.40.0.1"}).status_code == 429
    # The owner's browser is known: their right password goes through.
    assert _password_step(client, user, environ_base=office).status_code == 302
    client.post("/logout", environ_base=office)
    # A known device is limited by its own failures (a stolen cookie guesses no more).
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert client.post("/login", data={"email": user.email, "password": "wrong"},
                           environ_base=office).status_code == 401
    assert _password_step(client, user, environ_base=office).status_code == 429


def test_a_forged_device_cookie_counts_as_a_stranger(client, create_user, app):
    user = create_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        client.post("/login", data={"email": user.email, "password": "wrong"})
    client.set_cookie("relais_device", "eyJ4IjoieSJ9.forged.signature", path="/login")
    assert _password_step(client, user).status_code == 429


def test_the_operator_turns_off_a_lost_second_factor(client, create_user, login, runner, clock):
    user = create_user()
    login(user)
    _enrol(client, user)
    result = runner.invoke(args=["second-factor-off", "--email", user.email.upper()])
    assert result.exit_code == 0, result.output
    assert not second_factor.is_enabled(user)
    assert _actions(user) == [second_factor.ENABLED]  # the operator's entry has no actor
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.actor_id.is_(None))
                             ) == second_factor.DISABLED
    again = runner.invoke(args=["second-factor-off", "--email", user.email])
    assert again.exit_code == 1 and "No second factor" in again.output
    assert runner.invoke(args=["second-factor-off", "--email", "nobody@example.com"]
                         ).exit_code == 1
