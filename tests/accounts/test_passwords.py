"""The password policy (NIST SP 800-63B) and "forgot password", through the pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from lms.accounts import services, sessions
from lms.accounts.models import Role
from lms.core.errors import ValidationFailed
from lms.core.models import utcnow
from lms.extensions import db
from tests.support import PASSWORD

NEW_PASSWORD = "violet tramway sunrise"
LINK = re.compile(r"http://relais\.test(/password/reset/[\w.\-]+)")
SAME_ANSWER = "If an account exists for"


@pytest.fixture()
def outbox(app, monkeypatch):
    """Messages handed to the SMTP server, captured at smtplib (the real send_mail runs)."""
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, msg):
            sent.append(msg)

    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.com")
    monkeypatch.setattr("lms.core.mail.smtplib.SMTP", FakeSMTP)
    return sent


# -- policy --------------------------------------------------------------------------------------

@pytest.mark.parametrize("password, reason", [
    ("short pass", "at least 12 characters"),
    ("password1234", "too common"),
    ("aaaaaaaaaaaaaaaa", "too common"),
    ("qwertyuiop123", "too common"),
    ("xx-marguerite.fontaine-xx", "your name or your e-mail"),
    ("Tramway-DUPONTEL-2026", "your name or your e-mail"),
])
def test_the_policy_refuses_short_common_and_personal_passwords(password, reason):
    with pytest.raises(ValidationFailed) as refused:
        services.check_password(password, email="marguerite.fontaine@example.com",
                                name="Jeanne Dupontel")
    assert reason in str(refused.value.fields["password"])


def test_the_policy_has_no_composition_rules_and_passes_the_test_password():
    services.check_password(PASSWORD, email="user1@example.com", name="User 1")
    services.check_password("all lower case words here")
    services.check_password("x" * 30 + " long passphrases beyond zxcvbn's limit " * 3)


def test_the_minimum_length_is_a_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_MIN_LENGTH", 30)
    with pytest.raises(ValidationFailed):
        services.check_password(PASSWORD)


def test_the_refusal_is_shown_translated_next_to_the_field(client, create_user, login):
    user = create_user(Role.LEARNER)
    login(user)
    client.post("/account", data={"display_name": user.display_name, "locale": "fr"})
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "password1234", "confirm": "password1234"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "trop courant ou trop facile à deviner" in page
    assert check_unchanged(user)


def check_unchanged(user) -> bool:
    db.session.expire_all()
    return services.authenticate(email=user.email, password=PASSWORD,
                                 address="test") is not None


def test_the_cli_and_invitations_use_the_policy(runner, create_org, create_user):
    org = create_org()
    result = runner.invoke(args=["create-user", "--org", org.slug, "--email", "c@example.com",
                                 "--role", "learner", "--password", "password1234"])
    assert result.exit_code == 1 and "too easy to guess" in result.output
    trainer = create_user(Role.TRAINER, org=org)
    _invitation, token = services.invite(organization=org, email="newcomer@example.com",
                                         role="learner", invited_by=trainer)
    with pytest.raises(ValidationFailed):
        services.accept_invitation(token=token, display_name="Newcomer",
                                   password="newcomer-2026-xyz")


# -- forgot password --------------------------------------------------------------------------

def _ask(client, email, **kwargs):
    return client.post("/password/forgot", data={"email": email}, **kwargs)


def test_the_login_page_links_to_forgot_password(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page
    assert client.get("/password/forgot").status_code == 200


def test_forgot_password_end_to_end(client, create_user, login, outbox, app):
    user = create_user(Role.LEARNER)
    # A session open elsewhere (say, a stolen cookie) ends with the reset.
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    assert other.get("/account").status_code == 200

    response = _ask(client, user.email.upper())
    assert response.status_code == 302
    assert SAME_ANSWER in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(outbox) == 1 and outbox[0]["To"] == user.email
    path = LINK.search(outbox[0].get_content()).group(1)

    assert client.get(path).status_code == 200
    refused = client.post(path, data={"password": "password1234", "confirm": "password1234"})
    assert refused.status_code == 422 and "too common" in refused.get_data(as_text=True)
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.get("/account").status_code == 200  # this browser is logged in
    assert other.get("/account").status_code == 302   # every other session ended

    # The link works once.
    assert client.get(path).status_code == 404
    assert client.post(path, data={"password": "another fine passphrase",
                                   "confirm": "another fine passphrase"}).status_code == 404
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}
                       ).status_code == 401
    login(user, NEW_PASSWORD)


def test_an_expired_link_is_refused(client, create_user, outbox):
    user = create_user(Role.LEARNER)
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        _ask(client, user.email)
        path = LINK.search(outbox[0].get_content()).group(1)
        clock.move_to(start + timedelta(minutes=59))
        assert client.get(path).status_code == 200
        clock.move_to(start + timedelta(minutes=61))
        assert client.get(path).status_code == 404
        assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
                           ).status_code == 404
    assert check_unchanged(user)


def test_a_forged_or_mangled_link_is_refused(client, create_user, outbox):
    user = create_user(Role.LEARNER)
    _ask(client, user.email)
    path = LINK.search(outbox[0].get_content()).group(1)
    assert client.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).status_code == 404
    assert client.get("/password/reset/not-a-token").status_code == 404


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, create_user, outbox):
    user = create_user(Role.LEARNER)
    answers = []
    for email in (user.email, "nobody@example.com"):
        response = _ask(client, email)
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        answers.append(page.replace(email, "EMAIL"))
    assert SAME_ANSWER in answers[0] and answers[0] == answers[1]
    assert [m["To"] for m in outbox] == [user.email]


def test_an_account_without_a_password_gets_no_mail(client, create_user, outbox):
    member = create_user(Role.LEARNER, password=None)
    _ask(client, member.email)
    assert outbox == []


def test_requests_are_rate_limited_per_email_and_per_address(client, create_user, outbox, app):
    user = create_user(Role.LEARNER)
    limit = app.config["PASSWORD_RESET_MAX_PER_ACCOUNT"]
    for _ in range(limit):
        assert _ask(client, user.email).status_code == 302
    assert _ask(client, user.email).status_code == 429
    # The limit on one e-mail does not hold back others from the same client.
    assert _ask(client, "nobody@example.com").status_code == 302
    assert len(outbox) == limit
    # Reset requests never count against logins.
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}
                       ).status_code == 302

    other = app.test_client()
    here = {"REMOTE_ADDR": "198.51.100.7"}
    for n in range(app.config["PASSWORD_RESET_MAX_PER_ADDRESS"]):
        assert _ask(other, f"someone{n}@example.com", environ_base=here).status_code == 302
    assert _ask(other, "someone.else@example.com", environ_base=here).status_code == 429
    # Another client is not held back by that address.
    assert _ask(other, "someone.else@example.com",
                environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 302


def test_a_reset_link_dies_when_the_password_changes_otherwise(client, create_user, outbox):
    user = create_user(Role.LEARNER)
    _ask(client, user.email)
    path = LINK.search(outbox[0].get_content()).group(1)
    services.set_password(user, NEW_PASSWORD)
    db.session.commit()
    assert client.get(path).status_code == 404
    assert sessions.count(user) == 0


def test_the_mail_is_in_the_person_s_language(client, create_user, outbox):
    user = create_user(Role.LEARNER)
    user.locale = "fr"
    db.session.commit()
    _ask(client, user.email)
    assert outbox[0]["Subject"] == "Réinitialisez votre mot de passe Relais"
    assert "le lien sert une seule fois, pendant 60 minutes" in outbox[0].get_content()


def test_passwords_are_stored_as_scrypt_at_production_cost_unless_configured(app, create_user):
    """An instance hashes with scrypt at Werkzeug's cost (2^15) unless PASSWORD_HASH_METHOD says
    otherwise; a hash names its own method, so lowering or raising the cost later leaves
    existing passwords working."""
    from lms.config import DEFAULTS

    assert DEFAULTS["PASSWORD_HASH_METHOD"] == "scrypt:32768:8:1"
    user = create_user(role=Role.LEARNER)
    assert user.password_hash.startswith(f"{app.config['PASSWORD_HASH_METHOD']}$")
    app.config["PASSWORD_HASH_METHOD"] = DEFAULTS["PASSWORD_HASH_METHOD"]
    strong = create_user(role=Role.LEARNER)
    assert strong.password_hash.startswith("scrypt:32768:8:1$")
    assert services.authenticate(email=user.email, password=PASSWORD, address="127.0.0.1")
    assert services.authenticate(email=strong.email, password=PASSWORD, address="127.0.0.1")
