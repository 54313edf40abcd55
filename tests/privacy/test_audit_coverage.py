"""Every sensitive action lands in the audit log from the one service it goes through (so page,
API and command line alike): who, what, on what — and never the secret it made."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from lms.accounts.models import AuditEvent, Membership, Role
from lms.advocacy import services as advocacy
from lms.certificates.models import Certificate
from lms.extensions import db
from lms.identity import services as identity
from lms.xapi.services import create_lrs_credentials


def _entries(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def _clean(entry: AuditEvent, *secrets: str) -> None:
    """The entry holds none of ``secrets`` (nor a name, for a free-text reason)."""
    text = json.dumps(entry.details, ensure_ascii=False) + entry.target
    for secret in secrets:
        assert secret not in text, (secret, text)


def _member(org, role):
    return db.session.scalar(select(Membership).where(
        Membership.organization_id == org.id, Membership.role == role)).user


def test_certificate_exports_and_revocations(demo, client, api_token, runner, tmp_path):
    hr = _member(demo.org, Role.HR)
    headers = api_token(hr)
    started = client.post("/api/v1/orgs/demo/certificates/exports", headers=headers, json={})
    assert started.status_code == 202
    (job_entry,) = _entries("certificates.export")
    assert (job_entry.actor_id, job_entry.organization_id) == (hr.id, demo.org.id)
    assert job_entry.details["by"] == "job" and job_entry.details["certificates"] >= 1
    assert job_entry.address == "127.0.0.1"

    result = runner.invoke(args=["export-certificates", "--org", "demo",
                                 "--out", str(tmp_path / "certs.zip"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    cli_entry = _entries("certificates.export")[-1]
    assert cli_entry.actor_id is None and cli_entry.details["by"] == "cli"
    assert cli_entry.address is None

    certificate = db.session.scalar(select(Certificate).where(
        Certificate.organization_id == demo.org.id, Certificate.revoked_at.is_(None)))
    reason = "Erreur de saisie signalée par Camille Martin"
    revoked = client.post(f"/api/v1/orgs/demo/certificates/{certificate.id}/revoke",
                          headers=headers, json={"reason": reason})
    assert revoked.status_code == 200
    (entry,) = _entries("certificate.revoke")
    assert (entry.actor_id, entry.target) == (hr.id, f"certificate:{certificate.id}")
    _clean(entry, reason, "Camille")


def test_consent_recorded_on_someone_s_behalf(create_org, create_user):
    org = create_org(slug="acme")
    hr = create_user(Role.HR, org=org)
    learner = create_user(Role.LEARNER, org=org)
    advocacy.give_consent(organization=org, user=learner, by=learner)
    assert _entries("advocacy.consent_on_behalf") == []  # one's own choice is not audited
    advocacy.revoke_consent(organization=org, user=learner, by=learner)
    advocacy.give_consent(organization=org, user=learner, by=hr)
    advocacy.revoke_consent(organization=org, user=learner, by=hr)
    given, revoked = _entries("advocacy.consent_on_behalf")
    assert (given.actor_id, given.target, given.details) == (hr.id, f"user:{learner.id}",
                                                           {"consent": True})
    assert revoked.details == {"consent": False} and revoked.organization_id == org.id


def test_api_token_creation_and_revocation(create_user, client, login):
    user = create_user(Role.LEARNER)
    login(user)
    page = client.post("/account/tokens", data={"name": "Tableur RH"})
    raw = re.search(r"rls_[A-Za-z0-9_-]+", page.get_data(as_text=True)).group(0)
    (created,) = _entries("api_token.create")
    assert created.actor_id == user.id and created.target.startswith("api_token:")
    assert created.details == {"user_id": user.id} and created.address == "127.0.0.1"
    _clean(created, raw, raw[:12])
    token_id = int(created.target.split(":")[1])
    client.post(f"/account/tokens/{token_id}/revoke", data={})
    (revoked,) = _entries("api_token.revoke")
    assert (revoked.actor_id, revoked.target) == (user.id, created.target)


def test_lrs_credentials_from_the_command_line(create_org, runner):
    org = create_org(slug="acme")
    result = runner.invoke(args=["lrs-credentials", "--org", "acme", "--label", "Ralph"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"secret:\s+(\S+)", result.output).group(1)
    (entry,) = _entries("lrs_credentials.create")
    assert entry.actor_id is None and entry.organization_id == org.id
    assert entry.target.startswith("lrs_credential:")
    _clean(entry, secret)
    # A package launch's short-lived credential for one learner is not an admin action.
    create_lrs_credentials(organization=org, label="launch", scope_agent="{}")
    assert len(_entries("lrs_credentials.create")) == 1


def test_webhook_secret_creation_and_rotation(create_org, runner):
    org = create_org(slug="acme")
    first = runner.invoke(args=["advocacy-webhook-secret", "--org", "acme"])
    again = runner.invoke(args=["advocacy-webhook-secret", "--org", "acme"])  # only prints
    rotated = runner.invoke(args=["advocacy-webhook-secret", "--org", "acme", "--rotate"])
    assert first.exit_code == again.exit_code == rotated.exit_code == 0
    created, replaced = _entries("webhook_secret.rotate")
    assert created.details == {"first": True} and replaced.details == {"first": False}
    assert created.organization_id == org.id and created.actor_id is None
    for entry in (created, replaced):
        _clean(entry, first.output.strip(), rotated.output.strip())


def test_sso_settings_and_scim_tokens(create_org, create_user, client, login):
    org = create_org(slug="acme")
    admin = create_user(Role.ADMIN, org=org)
    identity.save_settings(organization=org, issuer="https://login.acme.example",
                           client_id="relais", client_secret="oidc-client-secret-42",
                           allowed_domains="acme.example", default_role="learner", by=admin)
    (entry,) = _entries("sso.settings")
    assert (entry.actor_id, entry.organization_id) == (admin.id, org.id)
    assert entry.details["issuer"] == "https://login.acme.example"
    assert entry.details["new_client_secret"] is True
    _clean(entry, "oidc-client-secret-42")
    db.session.commit()

    login(admin)
    page = client.post("/o/acme/settings/scim-token", data={})
    raw = re.search(r"scim_[A-Za-z0-9_-]+", page.get_data(as_text=True)).group(0)
    (issued,) = _entries("scim_token.issue")
    assert issued.actor_id == admin.id and issued.target.startswith("scim_token:")
    assert issued.address == "127.0.0.1"
    _clean(issued, raw, raw[:12])
    client.post("/o/acme/settings/scim-token/revoke", data={})
    (revoked,) = _entries("scim_token.revoke")
    assert revoked.actor_id == admin.id and revoked.details == {"revoked": 1}


def test_the_audit_page_names_every_action_in_french(create_org, create_user, client, login):
    from lms.accounts import audit

    org = create_org(slug="acme")
    admin = create_user(Role.ADMIN, org=org)
    admin.locale = "fr"
    for action in audit.ACTIONS:
        audit.record(action=action, actor=admin, organization=org, target="organization:1")
    db.session.commit()
    login(admin)
    html = client.get("/o/acme/audit").get_data(as_text=True)
    assert "Attestation révoquée" in html and "Durées de conservation appliquées" in html
    assert "Consentement enregistré pour le compte d’une personne" in html
