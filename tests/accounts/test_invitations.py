"""Invitations end to end through HTTP: invite, follow the link, set a password, join."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from lms.accounts import services
from lms.accounts.models import Invitation, Role
from lms.core.models import utcnow
from lms.extensions import db

LINK = re.compile(r"http://relais\.test/invitations/([A-Za-z0-9_-]+)")


def _org_of(user):
    return user.memberships[0].organization


def _invite(client, org, email, role="learner"):
    """Invite through the members page; returns the invitation path shown in the flash."""
    response = client.post(f"/o/{org.slug}/members/invite", data={"email": email, "role": role})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    match = LINK.search(page)
    assert match, "the invitation link is not shown to the inviter"
    return f"/invitations/{match.group(1)}"


def test_invited_learner_sets_a_password_and_lands_in_the_organization(app, client, create_user,
                                                                       login):
    trainer = create_user(Role.TRAINER, name="Sophie Formatrice")
    org = _org_of(trainer)
    login(trainer)
    link = _invite(client, org, "New.Learner@Example.com")

    pending = client.get(f"/o/{org.slug}/members").get_data(as_text=True)
    assert "new.learner@example.com" in pending  # listed under pending invitations

    guest = app.test_client()
    page = guest.get(link)
    assert page.status_code == 200
    assert "new.learner@example.com" in page.get_data(as_text=True)
    response = guest.post(link, data={"display_name": "Nouvelle Apprenante",
                                      "password": "a long enough secret",
                                      "confirm": "a long enough secret"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/o/{org.slug}/"
    dashboard = guest.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nouvelle Apprenante" in dashboard

    user = services.find_user("new.learner@example.com")
    assert [(m.organization_id, m.role) for m in user.memberships] == [(org.id, Role.LEARNER)]
    # The link worked once: it is now an invalid-invitation page.
    again = app.test_client().get(link)
    assert again.status_code == 404
    assert "already used or expired" in again.get_data(as_text=True)
    # And the new password logs in.
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": "new.learner@example.com",
                                      "password": "a long enough secret"}).status_code == 302


def test_the_invited_role_is_the_role_given(app, client, create_user, login):
    admin = create_user(Role.ADMIN)
    org = _org_of(admin)
    login(admin)
    link = _invite(client, org, "hr@example.com", role="hr")
    app.test_client().post(link, data={"display_name": "HR", "password": "a long enough secret",
                                       "confirm": "a long enough secret"})
    user = services.find_user("hr@example.com")
    assert user.memberships[0].role == Role.HR


def test_an_expired_link_is_a_404_page(app, client, create_user, login):
    trainer = create_user(Role.TRAINER)
    login(trainer)
    link = _invite(client, _org_of(trainer), "late@example.com")
    invitation = db.session.scalars(db.select(Invitation)).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    guest = app.test_client()
    assert guest.get(link).status_code == 404
    response = guest.post(link, data={"display_name": "Late", "password": "a long enough secret",
                                      "confirm": "a long enough secret"})
    assert response.status_code == 404
    assert services.find_user("late@example.com") is None


def test_an_unknown_link_is_a_404_page(client):
    assert client.get("/invitations/not-a-real-token").status_code == 404


def test_password_rules_are_form_errors(app, client, create_user, login):
    trainer = create_user(Role.TRAINER)
    login(trainer)
    link = _invite(client, _org_of(trainer), "short@example.com")
    guest = app.test_client()
    response = guest.post(link, data={"display_name": "S", "password": "short",
                                      "confirm": "short"})
    assert response.status_code == 200
    assert "at least" in response.get_data(as_text=True).lower()
    response = guest.post(link, data={"display_name": "S", "password": "a long enough secret",
                                      "confirm": "another long secret"})
    assert "The passwords differ" in response.get_data(as_text=True)
    assert services.find_user("short@example.com") is None


def test_a_trainer_may_not_invite_an_administrator(client, create_user, login):
    trainer = create_user(Role.TRAINER)
    org = _org_of(trainer)
    login(trainer)
    page = client.get(f"/o/{org.slug}/members").get_data(as_text=True)
    assert 'value="learner"' in page and 'value="admin"' not in page
    for role in ("admin", "hr"):
        response = client.post(f"/o/{org.slug}/members/invite",
                               data={"email": "accomplice@example.com", "role": role})
        assert response.status_code == 422
    assert db.session.scalars(db.select(Invitation)).all() == []


def test_hr_may_see_members_but_not_invite(client, create_user, login):
    hr = create_user(Role.HR)
    org = _org_of(hr)
    login(hr)
    assert client.get(f"/o/{org.slug}/members").status_code == 200
    response = client.post(f"/o/{org.slug}/members/invite",
                           data={"email": "x@example.com", "role": "learner"})
    assert response.status_code == 403


def test_a_bad_invitation_shows_the_error_and_keeps_the_pending_list(client, create_user, login):
    trainer = create_user(Role.TRAINER)
    org = _org_of(trainer)
    login(trainer)
    _invite(client, org, "waiting@example.com")
    response = client.post(f"/o/{org.slug}/members/invite",
                           data={"email": "not-an-address", "role": "learner"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "waiting@example.com" in page  # the pending invitations are still listed
    assert 'aria-invalid="true"' in page


def test_inviting_a_member_with_a_password_is_refused(client, create_user, login):
    trainer = create_user(Role.TRAINER)
    org = _org_of(trainer)
    colleague = create_user(Role.LEARNER, org=org)
    login(trainer)
    response = client.post(f"/o/{org.slug}/members/invite",
                           data={"email": colleague.email.upper(), "role": "learner"})
    assert response.status_code == 422
    assert "already a member" in response.get_data(as_text=True)


def test_a_provisioned_member_without_password_can_be_invited_and_keeps_their_role(
        app, client, create_user, login):
    trainer = create_user(Role.TRAINER)
    org = _org_of(trainer)
    provisioned = create_user(Role.TRAINER, org=org, password=None, name="Provisioned")
    login(trainer)
    link = _invite(client, org, provisioned.email, role="learner")
    response = app.test_client().post(link, data={"display_name": "Provisioned",
                                                  "password": "a long enough secret",
                                                  "confirm": "a long enough secret"})
    assert response.status_code == 302
    db.session.refresh(provisioned)
    assert provisioned.password_hash is not None
    assert [m.role for m in provisioned.memberships] == [Role.TRAINER]


def test_an_existing_account_accepts_by_logging_in_not_by_choosing_a_password(
        app, client, create_user, login):
    # Without a mail server the inviter sees the link: it must not let them take over an
    # account that already exists (perhaps as admin of another organization).
    trainer = create_user(Role.TRAINER)
    org = _org_of(trainer)
    elsewhere_admin = create_user(Role.ADMIN)
    hash_before = elsewhere_admin.password_hash
    login(trainer)
    link = _invite(client, org, elsewhere_admin.email)

    response = client.post(link, data={"display_name": "Hijacked",
                                       "password": "attacker chosen pw",
                                       "confirm": "attacker chosen pw"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/invitations/")
    db.session.refresh(elsewhere_admin)
    assert elsewhere_admin.password_hash == hash_before
    assert elsewhere_admin.display_name != "Hijacked"
    assert len(elsewhere_admin.memberships) == 1

    owner = app.test_client()
    response = owner.post(f"/login?next={link}", data={"email": elsewhere_admin.email,
                                                        "password": "correct horse battery"})
    assert response.headers["Location"] == link
    page = owner.get(link)
    assert page.status_code == 200
    response = owner.post(link)
    assert response.headers["Location"] == f"/o/{org.slug}/"
    db.session.refresh(elsewhere_admin)
    assert {m.organization_id: m.role for m in elsewhere_admin.memberships}[org.id] == Role.LEARNER
    assert owner.get(link).status_code == 404


def test_an_invitation_cannot_be_used_by_another_logged_in_person(app, client, create_user,
                                                                 login):
    trainer = create_user(Role.TRAINER)
    org = _org_of(trainer)
    invitee = create_user(Role.LEARNER)
    login(trainer)
    link = _invite(client, org, invitee.email)
    # The trainer, logged in, follows the link meant for someone else: logged out, asked to
    # log in as the invitee.
    response = client.post(link)
    assert response.headers["Location"].startswith("/login")
    assert not any(m.organization_id == org.id for m in invitee.memberships)
    with pytest.raises(services.Forbidden):
        services.join(token=link.rsplit("/", 1)[1], user=trainer)


def test_with_a_mail_server_the_link_is_mailed_not_shown(client, create_user, login, app,
                                                         monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append((host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, msg):
            sent.append(msg)

    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.com")
    monkeypatch.setattr("lms.core.mail.smtplib.SMTP", FakeSMTP)
    trainer = create_user(Role.TRAINER)
    org = _org_of(trainer)
    login(trainer)
    response = client.post(f"/o/{org.slug}/members/invite",
                           data={"email": "mailed@example.com", "role": "learner"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invitation sent to mailed@example.com" in page
    assert not LINK.search(page)
    message = sent[1]
    assert message["To"] == "mailed@example.com"
    assert LINK.search(message.get_content())
