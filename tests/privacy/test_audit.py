"""The audit log: role changes through the API are recorded; entries cannot be changed; the
admin page filters them and is for admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts import audit
from lms.accounts.models import AuditEvent, Role
from lms.extensions import db


def test_role_change_is_audited_and_listed_for_admins_only(create_org, create_user, client,
                                                            login, api_token):
    org = create_org(slug="acme")
    admin = create_user(Role.ADMIN, org=org)
    hr = create_user(Role.HR, org=org)
    create_user(org=org, email="bob@example.com")
    headers = api_token(admin)
    response = client.post("/api/v1/orgs/acme/members", headers=headers,
                           json={"email": "bob@example.com", "role": "trainer"})
    assert response.status_code == 200
    unchanged = client.post("/api/v1/orgs/acme/members", headers=headers,
                            json={"email": "bob@example.com", "role": "trainer"})
    assert unchanged.status_code == 200
    entries = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "member.role_change")).all()
    assert [(e.action, e.details, e.actor_id, e.organization_id) for e in entries] == [
        ("member.role_change", {"from": "learner", "to": "trainer"}, admin.id, org.id)]
    assert entries[0].address == "127.0.0.1" and "bob" not in entries[0].target

    login(admin)
    page = client.get("/o/acme/audit?action=member.role_change&days=7")
    assert page.status_code == 200 and "member.role_change" in page.get_data(as_text=True)
    other = client.get("/o/acme/audit?action=personal_data.erase").get_data(as_text=True)
    # What follows the filter form, whose options name every action.
    listing = other.split('class="filters"', 1)[1].split("</form>", 1)[1]
    assert "member.role_change" not in listing and "Nothing recorded." in listing
    client.post("/logout")
    login(hr)
    assert client.get("/o/acme/audit").status_code == 403


def test_entries_are_append_only(create_org):
    org = create_org()
    entry = audit.record(action="personal_data.export", actor=None, organization=org,
                         target="user:1")
    db.session.commit()
    entry.target = "user:2"
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(RuntimeError):
        db.session.delete(db.session.get(AuditEvent, entry.id))
        db.session.flush()
    db.session.rollback()
