"""Retention (GDPR art. 5(1)(e)): a run deletes or pseudonymises exactly what is older than the
organization's periods, in batches, and touches no other organization; a dry run changes
nothing; the settings page, the API and the register of processing activities."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from lms.accounts.models import AuditEvent, Membership, Role
from lms.advocacy.models import AdvocacyEvent
from lms.certificates.models import Certificate
from lms.coaching.models import ActionItem, FollowUp
from lms.core.models import utcnow
from lms.courses.exercises.models import ExerciseSubmission
from lms.extensions import db
from lms.jobs.models import Job, JobState
from lms.privacy import retention, services
from lms.xapi import forwarding
from lms.xapi.models import Statement, StatementIndex
from tests.privacy.conftest import EMAIL, NAME
from tests.support import agent_rows

MONTH = timedelta(days=30)
DAY = timedelta(days=1)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _other_org(create_org, create_user):
    """Org B, with old data of every kind that org A's run must leave alone."""
    other = create_org(slug="autre", name="Autre SA")
    person = create_user(Role.LEARNER, org=other, email="zoe@autre.example")
    long_ago = utcnow() - 120 * MONTH
    db.session.add(AdvocacyEvent(organization_id=other.id, user_id=person.id, network="linkedin",
                                 kind="post", occurred_at=long_ago, source="manual",
                                 idem_key="autre-1", url="https://linkedin.example/zoe"))
    db.session.add(AuditEvent(organization_id=other.id, action="member.role_change",
                              target="membership:1", at=long_ago, details={}))
    db.session.commit()
    return other


def _last(action: str) -> AuditEvent:
    return db.session.scalar(select(AuditEvent).where(AuditEvent.action == action)
                             .order_by(AuditEvent.id.desc()).limit(1))


def _admin(demo):
    return db.session.scalar(select(Membership).where(
        Membership.organization_id == demo.org.id, Membership.role == Role.ADMIN)).user


def _age_statements(org_id: int, old: int, when) -> list[int]:
    """Make the organization's ``old`` first statements (by primary key) stored at ``when``."""
    pks = db.session.scalars(select(Statement.pk).where(Statement.organization_id == org_id)
                             .order_by(Statement.pk).limit(old)).all()
    db.session.execute(update(Statement).where(Statement.pk.in_(pks)).values(stored=when))
    return list(pks)


def test_run_purges_exactly_what_is_older_than_each_period(app, demo, create_org, create_user,
                                                           runner):
    app.config["RETENTION_BATCH_SIZE"] = 7  # several batches, each committed on its own
    other = _other_org(create_org, create_user)
    org_id = demo.org.id
    now = utcnow().replace(microsecond=0)
    just_out, just_in = now - 24 * MONTH - DAY, now - 24 * MONTH + DAY

    # Advocacy events (24 months): half of them just out of the period, half just within.
    events = db.session.scalars(select(AdvocacyEvent.id).where(
        AdvocacyEvent.organization_id == org_id).order_by(AdvocacyEvent.id)).all()
    assert len(events) >= 4
    old_events, young_events = events[::2], events[1::2]
    db.session.execute(update(AdvocacyEvent).where(AdvocacyEvent.id.in_(old_events))
                       .values(occurred_at=just_out))
    db.session.execute(update(AdvocacyEvent).where(AdvocacyEvent.id.in_(young_events))
                       .values(occurred_at=just_in))
    # Statements (36 months): the first 20 stored just out of the period.
    total_statements = _count(Statement, Statement.organization_id == org_id)
    old_pks = _age_statements(org_id, 20, now - 36 * MONTH - DAY)
    # Camille's hand-ins and her coaching follow-up (24 months).
    submission_ids = db.session.scalars(select(ExerciseSubmission.id).where(
        ExerciseSubmission.enrollment_id == demo.enrollment.id)).all()
    db.session.execute(update(ExerciseSubmission).where(
        ExerciseSubmission.id.in_(submission_ids)).values(submitted_at=just_out))
    followup = db.session.scalar(select(FollowUp).where(
        FollowUp.enrollment_id == demo.enrollment.id, FollowUp.notes.is_not(None)))
    followup.scheduled_at = just_out
    kept_followups = _count(FollowUp, FollowUp.organization_id == org_id,
                            FollowUp.notes.is_not(None), FollowUp.id != followup.id)
    # Jobs (30 days) and audit entries (12 months).
    for days in (31, 29):
        db.session.add(Job(organization_id=org_id, kind="tests.old", params={},
                           state=JobState.SUCCEEDED, finished_at=now - days * DAY))
    db.session.add(AuditEvent(organization_id=org_id, action="member.role_change",
                              target="membership:1", at=now - 12 * MONTH - DAY, details={}))
    db.session.add(AuditEvent(organization_id=org_id, action="member.role_change",
                              target="membership:2", at=now - 12 * MONTH + DAY, details={}))
    db.session.commit()
    young_statements = {pk: data for pk, data in db.session.execute(
        select(Statement.pk, Statement.data).where(Statement.organization_id == org_id,
                                                   Statement.pk.not_in(old_pks)))}
    submission_count = _count(ExerciseSubmission, ExerciseSubmission.organization_id == org_id)

    with time_machine.travel(now, tick=False):
        planned = retention.plan(demo.org)
        assert planned["advocacy_events"] == len(old_events)
        assert planned["statements"] == 20
        assert planned["jobs"] == 1 and planned["audit"] == 1
        result = runner.invoke(args=["retention", "--org", "demo", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert f"Advocacy events (24 months, then deleted): {len(old_events)}" in result.output

    db.session.expire_all()
    remaining = set(db.session.scalars(select(AdvocacyEvent.id).where(
        AdvocacyEvent.organization_id == org_id)))
    assert remaining == set(young_events)
    # Statements: all still there (figures stay); the old ones name nobody any more, and the
    # index finds them under the pseudonym; the young ones are untouched.
    assert _count(Statement, Statement.organization_id == org_id) == total_statements
    pseudonym = services.statements.pseudonym(organization_id=org_id, user_id=demo.user.id)
    for data in db.session.scalars(select(Statement.data).where(Statement.pk.in_(old_pks))):
        assert NAME not in data and EMAIL not in data and demo.sha1 not in data
        assert re.search(r'"name": ?"\d+"', data) is None, data  # no user id left as account
    own_key = f"account:{app.config['BASE_URL']}|{demo.user.id}"
    assert _count(StatementIndex, StatementIndex.statement_pk.in_(old_pks),
                  StatementIndex.key_hash.in_(agent_rows([own_key]))) == 0
    camille_old = [pk for pk, data in db.session.execute(select(Statement.pk, Statement.data)
                   .where(Statement.pk.in_(old_pks))) if pseudonym in data]
    if camille_old:
        pseudonym_key = f"account:{app.config['BASE_URL']}|{pseudonym}"
        assert _count(StatementIndex, StatementIndex.statement_pk.in_(camille_old),
                      StatementIndex.key_hash.in_(agent_rows([pseudonym_key]))) \
            >= len(camille_old)
    assert {pk: data for pk, data in db.session.execute(
        select(Statement.pk, Statement.data).where(Statement.organization_id == org_id,
                                                   Statement.pk.not_in(old_pks)))} \
        == young_statements
    # Hand-ins keep their status row, lose their content.
    assert _count(ExerciseSubmission, ExerciseSubmission.organization_id == org_id) \
        == submission_count
    for submission in db.session.scalars(select(ExerciseSubmission).where(
            ExerciseSubmission.id.in_(submission_ids))):
        assert submission.post_url is None and submission.reflection is None
        assert submission.screenshot_path is None
    followup = db.session.get(FollowUp, followup.id)
    assert followup.notes is None
    assert _count(ActionItem, ActionItem.followup_id == followup.id) == 0
    assert _count(FollowUp, FollowUp.organization_id == org_id,
                  FollowUp.notes.is_not(None)) == kept_followups
    assert [j.finished_at <= now - 30 * DAY for j in db.session.scalars(
        select(Job).where(Job.kind == "tests.old"))] == [False]
    assert db.session.scalars(select(AuditEvent.target).where(
        AuditEvent.organization_id == org_id, AuditEvent.action == "member.role_change")
        ).all() == ["membership:2"]
    # The run is recorded, by the command line, with its counts.
    entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.run"))
    assert entry.actor_id is None and entry.organization_id == org_id
    assert entry.details["by"] == "cli"
    assert entry.details["advocacy_events"] == len(old_events)
    assert entry.details["statements"] >= 1 and entry.details["audit"] == 1
    # Organization B is untouched.
    assert _count(AdvocacyEvent, AdvocacyEvent.organization_id == other.id) == 1
    assert _count(AuditEvent, AuditEvent.organization_id == other.id) == 1

    # A second run finds nothing new (the statements walk resumes where it stopped).
    with time_machine.travel(now, tick=False):
        again = retention.run(organization=demo.org, commit=db.session.commit)
    assert again["advocacy_events"] == 0 and again["statements"] == 0
    assert again["hand_ins"] == 0 and again["coaching_notes"] == 0


def test_certificate_register_of_erased_people_goes_after_its_period(demo):
    lea = db.session.scalar(select(Membership).join(Membership.user).where(
        Membership.organization_id == demo.org.id,
        Membership.user.has(email="lea.dubois@maison-lumiere.example")))
    assert lea is not None
    services.erase_member(membership=lea, by=None)
    db.session.commit()
    certificates = db.session.scalars(select(Certificate).where(
        Certificate.organization_id == demo.org.id)).all()
    erased = [c for c in certificates if c.snapshot["learner"].get("erased")]
    held = [c for c in certificates if not c.snapshot["learner"].get("erased")]
    assert erased and held
    for certificate in certificates:
        certificate.issued_at = utcnow() - 36 * MONTH - DAY
    db.session.commit()
    counts = retention.run(organization=demo.org, commit=db.session.commit)
    assert counts["certificates"] == len(erased)
    assert set(db.session.scalars(select(Certificate.id).where(
        Certificate.organization_id == demo.org.id))) == {c.id for c in held}


def test_dry_run_changes_nothing_and_speaks_french(demo, runner):
    db.session.execute(update(AdvocacyEvent).where(
        AdvocacyEvent.organization_id == demo.org.id).values(
        occurred_at=utcnow() - 30 * MONTH))
    db.session.commit()
    events = _count(AdvocacyEvent)
    audit_entries = _count(AuditEvent)
    result = runner.invoke(args=["retention", "--org", "demo", "--dry-run", "--lang", "fr"])
    assert result.exit_code == 0, result.output
    assert "rien n’est modifié" in result.output
    assert f"Événements de prise de parole (24 mois, puis suppression) : {events}" \
        in result.output.replace("\u00a0", " ")
    db.session.expire_all()
    assert _count(AdvocacyEvent) == events and _count(AuditEvent) == audit_entries

    unknown = runner.invoke(args=["retention", "--org", "nope", "--dry-run", "--lang", "fr"])
    assert unknown.exit_code == 1 and "aucune organisation" in unknown.output


def test_settings_page_keeps_typed_values_and_records_changes(demo, client, login):
    admin = _admin(demo)
    login(admin, demo.password)
    page = client.get("/o/demo/settings/retention")
    assert page.status_code == 200 and 'value="24"' in page.get_data(as_text=True)
    form = {key: str(value) for key, value in retention.periods(demo.org).items()}
    before = _count(AuditEvent, AuditEvent.action == "retention.settings")
    bad = client.post("/o/demo/settings/retention",
                      data={**form, "hand_ins": "douze", "audit": "0"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'value="douze"' in html and 'value="0"' in html
    assert html.count('class="error"') == 2
    assert _count(AuditEvent, AuditEvent.action == "retention.settings") == before

    good = client.post("/o/demo/settings/retention", follow_redirects=True,
                       data={**form, "hand_ins": "6"})
    # The demo's admin reads French.
    assert good.status_code == 200
    assert "Durées de conservation enregistrées." in good.get_data(as_text=True)
    assert retention.periods(demo.org)["hand_ins"] == 6
    entry = _last("retention.settings")
    assert entry.actor_id == admin.id and entry.details == {"changed": {"hand_ins": [12, 6]}}
    assert entry.address == "127.0.0.1"


def test_settings_page_is_for_admins(demo, client, login):
    hr = db.session.scalar(select(Membership).where(
        Membership.organization_id == demo.org.id, Membership.role == Role.HR)).user
    login(hr, demo.password)
    assert client.get("/o/demo/settings/retention").status_code == 403
    assert client.get("/o/demo/privacy/register").status_code == 200


def test_api_reads_and_changes_periods(demo, client, api_token):
    admin = _admin(demo)
    headers = api_token(admin)
    got = client.get("/api/v1/orgs/demo/retention", headers=headers)
    assert got.status_code == 200
    assert got.json["periods"]["jobs"] == {"value": 30, "unit": "days", "default": 30}
    bad = client.put("/api/v1/orgs/demo/retention", headers=headers,
                     json={"statements": 0, "hand_ins": "12", "cookies": 3})
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"statements", "hand_ins", "cookies"}
    ok = client.patch("/api/v1/orgs/demo/retention", headers=headers, json={"statements": 60})
    assert ok.status_code == 200 and ok.json["periods"]["statements"]["value"] == 60
    entry = _last("retention.settings")
    assert entry.actor_id == admin.id and entry.details == {"changed": {"statements": [36, 60]}}


@pytest.mark.parametrize("enabled", [True, False])
def test_register_names_the_external_lrs_only_while_forwarding(demo, client, login, enabled):
    forwarding.configure_external_lrs(organization_id=demo.org.id,
                                      endpoint="https://lrs.example.org/xapi", key="k",
                                      secret="s3cret-lrs", enabled=enabled)
    retention.save_settings(organization=demo.org, values={"statements": 48}, by=None)
    db.session.commit()
    hr = db.session.scalar(select(Membership).where(
        Membership.organization_id == demo.org.id, Membership.role == Role.HR)).user
    login(hr, demo.password)
    html = client.get("/o/demo/privacy/register").get_data(as_text=True)
    assert "Registre des activités de traitement" in html
    assert "48 mois, puis pseudonymisation" in html.replace("\u00a0", " ")
    assert ("https://lrs.example.org/xapi" in html) is enabled
    assert "s3cret-lrs" not in html
    english = client.get("/o/demo/privacy/register?lang=en").get_data(as_text=True)
    assert "Register of processing activities" in english


def test_the_periodic_task_runs_every_organization(demo, create_org, create_user):
    from lms.jobs.periodic import PERIODIC

    other = _other_org(create_org, create_user)
    assert PERIODIC["privacy.retention"].func is retention.run_all
    totals = retention.run_all()
    assert totals["advocacy_events"] == 1  # org B's event, ten years old
    runs = db.session.scalars(select(AuditEvent.organization_id).where(
        AuditEvent.action == "retention.run")).all()
    assert sorted(runs) == sorted([demo.org.id, other.id])
    assert all(json.dumps(e.details).count("periodic") == 1 for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.run")))


def test_demo_sets_its_periods_and_its_first_run_loses_nothing(demo, client, login):
    assert retention.periods(demo.org) == {
        "advocacy_events": 24, "statements": 36, "hand_ins": 12, "coaching_notes": 24,
        "certificates": 36, "jobs": 30, "audit": 12}
    entry = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.settings"))
    assert entry.details == {"changed": {"hand_ins": [24, 12]}}
    # The periodic run starts with the demo's server: none of its story is past a period.
    assert set(retention.plan(demo.org).values()) == {0}
    login(_admin(demo), demo.password)
    html = client.get("/o/demo/privacy/register").get_data(as_text=True).replace("\u00a0", " ")
    assert "12 mois, puis suppression du contenu et des fichiers" in html
    assert "36 mois, puis pseudonymisation" in html
    assert "Maison Lumière" in html


def test_a_statement_referring_to_a_retained_one_is_found_under_the_pseudonym(create_org):
    """A statement that refers to another has its target's filter rows (the index holds
    hashes, which cannot be read back): when retention pseudonymises the old target, the
    younger statement referring to it is found by the pseudonym too, no longer by the
    person, and keeps its own rows."""
    import uuid

    from lms.privacy import statements
    from lms.xapi.agents import agent_key
    from lms.xapi.index_keys import index_key
    from lms.xapi.queries import find_statements
    from lms.xapi.record import record
    from tests.support import index_keys_of, set_stored

    org = create_org()
    ana, bo = "mbox:mailto:ana@elsewhere.example", "mbox:mailto:bo@elsewhere.example"
    verb = {"id": "http://adlnet.gov/expapi/verbs/experienced"}
    old_id = str(uuid.uuid4())
    record([{"id": old_id, "actor": {"mbox": ana[5:]}, "verb": verb,
             "object": {"id": "https://x.example/a"}}], organization_id=org.id)
    db.session.commit()
    set_stored([old_id], utcnow() - 400 * DAY)
    [young_id] = record([{"actor": {"mbox": bo[5:]}, "verb": verb,
                          "object": {"objectType": "StatementRef", "id": old_id}}],
                        organization_id=org.id)
    db.session.commit()
    young = db.session.scalar(select(Statement.pk).where(Statement.statement_id == young_id))
    assert index_key("a", ana) in index_keys_of(young)

    lookup = statements.retention_lookup(org.id)
    changed, _last_pk, _finished = statements.pseudonymise_older(
        organization_id=org.id, before=utcnow() - 200 * DAY, after_pk=0, limit=100,
        lookup=lookup)
    db.session.commit()

    assert changed == 1
    replacement = lookup(ana)
    assert replacement is not None
    keys = index_keys_of(young)
    assert index_key("a", ana) not in keys
    assert {index_key("a", agent_key(replacement)), index_key("a", bo)} <= keys
    found = {row.pk for row in find_statements(org.id, filters={"a": agent_key(replacement)})}
    assert young in found and len(found) == 2
    assert not find_statements(org.id, filters={"a": ana})
