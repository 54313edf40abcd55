"""Erasing a demo learner: nothing of her identity is left anywhere in the database, every
aggregate stays the same, her session and her login end, her certificate stays verifiable."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from lms.advocacy import kpis
from lms.courses.cohorts.models import Enrollment
from lms.extensions import db
from lms.privacy import services
from lms.reports.queries import standings
from lms.xapi.models import Statement
from tests.privacy.conftest import EMAIL, NAME
from tests.support import agent_rows


def dump() -> str:
    """Every row of every table, as text."""
    out = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            out.append(f"{table.name}: {row}")
    return "\n".join(out)


def figures(org_id: int, cohort_id: int, team_name: str) -> tuple[object, ...]:
    overview = kpis.overview(kpis.Scope(organization_id=org_id))
    team = kpis.scope_totals(kpis.Scope(organization_id=org_id, team=team_name))
    assert team["events"] and team["people"]
    cohort = kpis.scope_totals(kpis.Scope(organization_id=org_id, cohort_id=cohort_id))
    enrollments = list(db.session.scalars(select(Enrollment).where(
        Enrollment.cohort_id == cohort_id).order_by(Enrollment.id)))
    progress = {e.id: (s.percent, s.done) for e, s in
                zip(enrollments, standings(enrollments).values(), strict=True)}
    statements = db.session.scalar(select(db.func.count()).select_from(Statement))
    return overview.totals, overview.networks, team, cohort, progress, statements


def test_erasure_leaves_no_identity_and_the_same_aggregates(demo, client):
    org, enrollment = demo.org, demo.enrollment
    sha1 = demo.sha1
    team = demo.membership.team
    from lms.privacy.statements import person_keys

    keys = person_keys(demo.user)
    before = dump()
    urls = db.session.execute(db.text(
        "SELECT url, user_id FROM advocacy_events WHERE url IS NOT NULL")).all()
    own_urls = {u for u, who in urls if who == demo.user.id} - {
        u for u, who in urls if who != demo.user.id}
    assert own_urls and all(u in before for u in own_urls)
    assert NAME in before and EMAIL in before
    figures_before = figures(org.id, enrollment.cohort_id, team)
    certificate_code = db.session.execute(db.text(
        "SELECT code FROM certificates WHERE user_id = :u"), {"u": demo.user.id}).scalar_one()
    client.post("/login", data={"email": EMAIL, "password": demo.password})
    assert client.get("/o/demo/").status_code == 200

    result = services.erase_member(membership=demo.membership, by=None, address="127.0.0.1")
    db.session.commit()
    services.remove_files(result.files)
    db.session.expire_all()

    after = dump()
    for secret in (NAME, EMAIL, sha1):
        assert secret not in after, secret
    # Her own posts' URLs are gone (compared whole: one URL may prefix another person's).
    left = set(db.session.scalars(select(Statement.object_activity_id)))
    left |= set(db.session.scalars(db.text("SELECT activity_id FROM xapi_activities")))
    left |= set(db.session.scalars(db.text("SELECT url FROM advocacy_events")))
    assert not own_urls & left
    assert not any(f'"{url}"' in after or f"'{url}'" in after for url in own_urls)
    assert result.counts["post_urls_removed"] > 0
    # Statements are kept (pseudonymised), and the pseudonym is what they now carry.
    assert result.pseudonym in after
    assert result.counts["statements_pseudonymised"] > 0
    # Nor is her account agent (``…|<her user id>``) left in the filter index or the columns.
    from lms.xapi.models import StatementIndex

    assert not db.session.scalar(select(db.func.count()).select_from(StatementIndex).where(
        StatementIndex.key_hash.in_(agent_rows(keys))))
    assert not db.session.scalar(select(db.func.count()).select_from(Statement).where(
        Statement.actor_key.in_(keys)))
    assert figures(org.id, enrollment.cohort_id, team) == figures_before
    # Her saved session no longer opens pages, and she cannot log in again.
    page = client.get("/o/demo/")
    assert page.status_code in (302, 401, 403)
    client.post("/logout")
    refused = client.post("/login", data={"email": EMAIL, "password": demo.password})
    assert refused.status_code != 302
    # The certificate still verifies: status and program, no name.
    verified = client.get(f"/verify/{certificate_code}?format=json").get_json()
    assert verified["status"] in ("valid", "expired") and verified["program"]
    assert "learner" not in verified
    assert NAME not in client.get(f"/verify/{certificate_code}").get_data(as_text=True)


def test_erasure_from_one_of_two_organizations(create_org, create_user, client, login):
    """She stays a member elsewhere: this organization's records move to a pseudonymous
    account, her statements there (actor, instructor, group member, mbox, sub-statement) are
    pseudonymised; her account and the other organization are untouched."""
    from lms.accounts import services as accounts
    from lms.accounts.models import Membership
    from lms.privacy.statements import person_keys
    from lms.xapi.builders import agent_for_user
    from lms.xapi.models import StatementIndex
    from lms.xapi.record import record

    here, elsewhere = create_org(slug="here"), create_org(slug="elsewhere")
    ana = create_user(org=here, email="ana.lima@example.com", name="Ana Lima")
    accounts.add_member(organization=elsewhere, user=ana, role="learner")
    coach = create_user(org=here, role="trainer")
    me = agent_for_user(ana)
    verb = {"id": "http://adlnet.gov/expapi/verbs/attended"}
    activity = {"id": "https://x.example/a"}
    sha1 = hashlib.sha1(b"mailto:ana.lima@example.com").hexdigest()
    statements = [
        {"actor": me, "verb": verb, "object": activity},
        {"actor": agent_for_user(coach), "verb": verb, "object": activity,
         "context": {"instructor": me}},
        {"actor": {"objectType": "Group", "name": "Pair", "member": [
            {"mbox": "mailto:ana.lima@example.com", "name": "Ana Lima"},
            agent_for_user(coach)]}, "verb": verb, "object": activity},
        {"actor": {"mbox_sha1sum": sha1}, "verb": verb, "object": {
            "objectType": "SubStatement", "actor": me, "verb": verb, "object": activity}},
    ]
    record(statements, organization_id=here.id)
    record([{"actor": me, "verb": verb, "object": activity}], organization_id=elsewhere.id)
    db.session.commit()
    membership = db.session.scalar(select(Membership).where(
        Membership.organization_id == here.id, Membership.user_id == ana.id))
    keys = person_keys(ana)

    result = services.erase_member(membership=membership, by=None)
    db.session.commit()
    db.session.expire_all()

    assert result.counts["statements_pseudonymised"] == 4
    stored_here = " ".join(db.session.scalars(select(Statement.data).where(
        Statement.organization_id == here.id)))
    for secret in ("Ana Lima", "ana.lima@example.com", sha1, f'"name":"{ana.id}"'):
        assert secret not in stored_here
    assert stored_here.count(result.pseudonym) >= 4
    assert not db.session.scalar(select(db.func.count()).select_from(StatementIndex).where(
        StatementIndex.organization_id == here.id, StatementIndex.key_hash.in_(agent_rows(keys))))
    # The other organization keeps her statement, and she keeps her account there.
    assert db.session.scalar(select(db.func.count()).select_from(StatementIndex).where(
        StatementIndex.organization_id == elsewhere.id,
        StatementIndex.key_hash.in_(agent_rows(keys))))
    assert ana.active and ana.email == "ana.lima@example.com"
    assert membership.user_id != ana.id and not membership.user.active
    login(ana)
    assert client.get("/o/elsewhere/").status_code == 200
    assert client.get("/o/here/").status_code == 404
