"""Manager approval: the program flag (YAML round-trip, builder), the member's manager (page,
API), pending registrations, the Approvals page and API, seats and the waiting list after
approval, declined requests kept with their reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.core.errors import Conflict, NotFound, ValidationFailed
from lms.core.models import utcnow
from lms.courses.programs import definitions
from lms.courses.programs.services import definition_of, import_program
from lms.courses.sessions import approvals
from lms.courses.sessions.models import (
    DECLINED,
    PENDING_APPROVAL,
    REGISTERED,
    WAITLISTED,
    SessionRegistration,
)
from lms.courses.sessions.services import (
    cancel_registration,
    register,
    schedule_session,
    seats_taken,
)
from lms.extensions import db
from tests.support import load_demo_once


@pytest.fixture()
def gated(enrolled, create_user):
    """The program needs approval; Marie manages learners 0 and 1, nobody manages 2 and 3."""
    enrolled.program.approval_required = True
    manager = create_user(Role.LEARNER, org=enrolled.org, name="Marie Manager")
    for learner in enrolled.learners[:2]:
        accounts.set_manager(membership=enrolled.member(learner),
                             manager=enrolled.member(manager))
    start = utcnow() + timedelta(days=5)
    enrolled.session = schedule_session(
        cohort=enrolled.cohort, module=enrolled.module("lancement"), starts_at=start,
        ends_at=start + timedelta(hours=3), place="Lyon", capacity=1,
        trainer=enrolled.member(enrolled.trainer))
    enrolled.manager = manager
    db.session.commit()
    return enrolled


def test_the_flag_round_trips_through_yaml_exactly(enrolled):
    definition = definition_of(enrolled.program)
    assert definition.approval_required is False
    plain = definitions.to_zip(definition)
    assert b"approval_required" not in definitions.to_files(definition)["program.yaml"]
    enrolled.program.approval_required = True
    gated = definition_of(enrolled.program)
    data = definitions.to_zip(gated)
    assert "approval_required: true" in definitions.to_files(gated)["program.yaml"].decode()
    imported = import_program(organization=enrolled.org, data=data)
    assert imported.approval_required is True
    again = replace(definition_of(imported), slug=gated.slug)  # a copy gets "-2"
    assert definitions.to_zip(again) == data
    assert plain != data


def test_the_flag_must_be_true_or_false(enrolled):
    files = definitions.to_files(definition_of(enrolled.program))
    text = files["program.yaml"].decode().replace(
        "\nmodules:", "\napproval_required: maybe\nmodules:")
    with pytest.raises(definitions.ContentError) as error:
        definitions.parse_program(text, {k[len("lessons/"):]: v.decode()
                                         for k, v in files.items() if k.startswith("lessons/")})
    assert any("approval_required must be true or false" in e for e in error.value.errors)


def test_the_builder_checkbox_turns_approval_on_and_off(client, login, enrolled):
    login(enrolled.trainer)
    url = f"/o/acme/programs/{enrolled.program.id}/approval"
    assert client.post(url, data={"approval_required": "on"}).status_code == 302
    db.session.refresh(enrolled.program)
    assert enrolled.program.approval_required is True
    page = client.get(f"/o/acme/programs/{enrolled.program.id}").get_data(as_text=True)
    assert 'name="approval_required" checked' in page
    client.post(url, data={})
    db.session.refresh(enrolled.program)
    assert enrolled.program.approval_required is False


def test_a_registration_waits_for_approval_without_holding_a_seat(gated):
    reg = register(session=gated.session, enrollment=gated.enrollments[0],
                   requested_by=gated.learners[0])
    assert reg.status == PENDING_APPROVAL and reg.requested_by_id == gated.learners[0].id
    assert seats_taken(gated.session) == 0
    with pytest.raises(Conflict):
        register(session=gated.session, enrollment=gated.enrollments[0])


def test_the_manager_approves_and_the_seat_or_waiting_list_follows(gated):
    first = register(session=gated.session, enrollment=gated.enrollments[0])
    second = register(session=gated.session, enrollment=gated.enrollments[1])
    boss = gated.member(gated.manager)
    assert [r.id for r in db.session.scalars(approvals.requests_for(boss))] == [first.id,
                                                                                 second.id]
    assert approvals.pending_count(boss) == 2
    approvals.approve(registration=second, by=boss)
    approvals.approve(registration=first, by=boss)
    assert (second.status, first.status) == (REGISTERED, WAITLISTED)  # capacity 1
    assert second.decided_by_id == gated.manager.id and second.decided_at is not None
    with pytest.raises(Conflict):
        approvals.approve(registration=first, by=boss)
    promoted = cancel_registration(registration=second)  # promotion unchanged
    assert promoted is first and first.status == REGISTERED


def test_only_the_manager_hr_or_an_admin_decide(gated, create_user):
    reg = register(session=gated.session, enrollment=gated.enrollments[2])
    boss = gated.member(gated.manager)
    assert approvals.may_see_approvals(boss)
    assert list(db.session.scalars(approvals.requests_for(boss))) == []  # not their report
    with pytest.raises(NotFound):
        approvals.approve(registration=reg, by=boss)
    with pytest.raises(NotFound):
        approvals.approve(registration=reg, by=gated.member(gated.trainer))
    assert not approvals.may_see_approvals(gated.member(gated.trainer))
    hr = gated.member(create_user(Role.HR, org=gated.org))
    approvals.approve(registration=reg, by=hr)
    assert reg.status == REGISTERED


def test_a_decline_needs_a_reason_and_is_kept(gated):
    reg = register(session=gated.session, enrollment=gated.enrollments[0])
    boss = gated.member(gated.manager)
    with pytest.raises(ValidationFailed):
        approvals.decline(registration=reg, by=boss, reason="  ")
    approvals.decline(registration=reg, by=boss, reason="Clôture trimestrielle cette semaine")
    db.session.commit()
    kept = db.session.get(SessionRegistration, reg.id)
    assert (kept.status, kept.decline_reason) == (DECLINED, "Clôture trimestrielle cette semaine")
    with pytest.raises(Conflict) as again:
        register(session=gated.session, enrollment=gated.enrollments[0])
    assert "Clôture trimestrielle" in again.value.message
    assert seats_taken(gated.session) == 0


def test_managers_cannot_loop_or_cross_organizations(gated, create_user, create_org):
    boss = gated.member(gated.manager)
    report = gated.member(gated.learners[0])
    with pytest.raises(ValidationFailed):
        accounts.set_manager(membership=boss, manager=report)  # report manages their manager
    with pytest.raises(ValidationFailed):
        accounts.set_manager(membership=boss, manager=boss)
    stranger = create_user(Role.HR, org=create_org())
    with pytest.raises(ValidationFailed):
        accounts.set_manager(membership=report, manager=stranger.memberships[0])


def test_the_learner_asks_and_the_manager_decides_on_the_approvals_page(client, login, gated):
    enrollment = gated.enrollments[0]
    login(gated.learners[0])
    before = client.get(f"/o/acme/training/{enrollment.id}").get_data(as_text=True)
    assert "Ask to register" in before and "(your manager approves)" in before
    client.post(f"/o/acme/training/{enrollment.id}/sessions/{gated.session.id}/register")
    page = client.get(f"/o/acme/training/{enrollment.id}").get_data(as_text=True)
    assert "Waiting for approval" in page
    client.post("/logout")

    login(gated.manager)  # a learner who manages people sees the Approvals link
    home = client.get("/o/acme/approvals").get_data(as_text=True)
    assert "Learner 0" in home and 'aria-current="page">Registrations to approve</a>' in home
    assert 'aria-current="page">My training' not in home  # its own menu entry, not his training
    reg = db.session.scalar(select(SessionRegistration))
    response = client.post(f"/o/acme/approvals/{reg.id}", data={"decision": "decline",
                                                                  "reason": ""})
    assert response.status_code == 302
    assert db.session.get(SessionRegistration, reg.id).status == PENDING_APPROVAL
    client.post(f"/o/acme/approvals/{reg.id}", data={"decision": "approve"})
    db.session.expire_all()
    assert db.session.get(SessionRegistration, reg.id).status == REGISTERED
    decided = client.get("/o/acme/approvals?show=decided").get_data(as_text=True)
    assert "Learner 0" in decided and "Registered" in decided
    client.post("/logout")

    login(gated.learners[2])  # manages nobody: an empty page, no link, no decision
    page = client.get("/o/acme/approvals").get_data(as_text=True)
    assert "Nobody has you as their manager" in page
    assert ">Registrations to approve</a>" not in page
    assert client.post(f"/o/acme/approvals/{reg.id}",
                       data={"decision": "approve"}).status_code == 404


def test_a_declined_learner_reads_why(client, login, gated):
    reg = register(session=gated.session, enrollment=gated.enrollments[0])
    approvals.decline(registration=reg, by=gated.member(gated.manager), reason="Pas ce mois-ci")
    db.session.commit()
    login(gated.learners[0])
    page = client.get(f"/o/acme/training/{gated.enrollments[0].id}").get_data(as_text=True)
    assert "Declined" in page and "Pas ce mois-ci" in page
    response = client.post(f"/o/acme/training/{gated.enrollments[0].id}/sessions/"
                           f"{gated.session.id}/cancel")
    assert response.status_code == 404  # the decision stays on record


def test_a_trainer_assigning_a_learner_also_waits_for_approval(client, login, gated):
    login(gated.trainer)
    client.post(f"/o/acme/sessions/{gated.session.id}/register",
                data={"enrollment_id": gated.enrollments[3].id})
    reg = db.session.scalar(select(SessionRegistration))
    assert reg.status == PENDING_APPROVAL and reg.requested_by_id == gated.trainer.id
    page = client.get(f"/o/acme/sessions/{gated.session.id}").get_data(as_text=True)
    assert "Waiting for approval" in page


def test_hr_sets_a_manager_on_the_members_page(client, login, gated, create_user):
    hr = create_user(Role.HR, org=gated.org)
    login(hr)
    target = gated.member(gated.learners[3])
    url = f"/o/acme/members/{target.id}/manager"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"manager_email": "nobody@example.com"})
    assert bad.status_code == 422 and "is not a member" in bad.get_data(as_text=True)
    client.post(url, data={"manager_email": gated.manager.email.upper()})
    db.session.refresh(target)
    assert target.manager_id == gated.member(gated.manager).id
    members = client.get("/o/acme/members").get_data(as_text=True)
    assert "Marie Manager" in members
    client.post(url, data={"manager_email": ""})
    db.session.refresh(target)
    assert target.manager_id is None
    client.post("/logout")
    login(gated.trainer)
    assert client.get(url).status_code == 403


def test_the_members_api_reads_and_sets_the_manager(client, api_token, gated, create_user):
    headers = api_token(create_user(Role.ADMIN, org=gated.org))
    member = gated.member(gated.learners[0])
    body = client.get(f"/api/v1/orgs/acme/members/{member.id}", headers=headers).get_json()
    assert body["manager_id"] == gated.member(gated.manager).id
    learner3 = gated.learners[3]
    response = client.post("/api/v1/orgs/acme/members", headers=headers, json={
        "email": learner3.email, "role": "learner", "manager_email": gated.manager.email})
    assert response.status_code == 200
    assert response.get_json()["manager_id"] == gated.member(gated.manager).id
    unchanged = client.post("/api/v1/orgs/acme/members", headers=headers, json={
        "email": learner3.email, "role": "learner"})
    assert unchanged.get_json()["manager_id"] == gated.member(gated.manager).id
    bad = client.post("/api/v1/orgs/acme/members", headers=headers, json={
        "email": learner3.email, "role": "learner", "manager_email": "ghost@example.com"})
    assert bad.status_code == 422 and "manager_email" in bad.get_json()["error"]["fields"]
    cleared = client.post("/api/v1/orgs/acme/members", headers=headers, json={
        "email": learner3.email, "role": "learner", "manager_email": None})
    assert cleared.get_json()["manager_id"] is None


def test_the_approvals_api_lists_and_decides(client, api_token, gated):
    mine = register(session=gated.session, enrollment=gated.enrollments[0])
    register(session=gated.session, enrollment=gated.enrollments[2])  # not Marie's
    db.session.commit()
    headers = api_token(gated.manager)
    listed = client.get("/api/v1/orgs/acme/approvals", headers=headers).get_json()
    assert [i["id"] for i in listed["items"]] == [mine.id] and listed["total"] == 1
    assert listed["items"][0]["status"] == "pending_approval"
    bad = client.post(f"/api/v1/orgs/acme/approvals/{mine.id}", headers=headers,
                      json={"decision": "decline"})
    assert bad.status_code == 422 and "reason" in bad.get_json()["error"]["fields"]
    done = client.post(f"/api/v1/orgs/acme/approvals/{mine.id}", headers=headers,
                       json={"decision": "decline", "reason": "Charge de travail"})
    assert done.status_code == 200
    assert done.get_json()["status"] == "declined"
    assert done.get_json()["decline_reason"] == "Charge de travail"
    again = client.post(f"/api/v1/orgs/acme/approvals/{mine.id}", headers=headers,
                        json={"decision": "approve"})
    assert again.status_code == 409
    decided = client.get("/api/v1/orgs/acme/approvals?status=decided", headers=headers)
    assert [i["id"] for i in decided.get_json()["items"]] == [mine.id]
    other = db.session.scalar(select(SessionRegistration).where(
        SessionRegistration.enrollment_id == gated.enrollments[2].id))
    assert client.post(f"/api/v1/orgs/acme/approvals/{other.id}", headers=headers,
                       json={"decision": "approve"}).status_code == 404
    assert client.get("/api/v1/orgs/acme/approvals?status=odd",
                      headers=headers).status_code == 400


def test_the_sign_in_sheet_downloads_through_the_api(client, api_token, gated):
    headers = api_token(gated.trainer)
    response = client.get(f"/api/v1/orgs/acme/sessions/{gated.session.id}/sign-in-sheet.pdf",
                          headers=headers)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    missing = client.get("/api/v1/orgs/acme/sessions/999999/sign-in-sheet.pdf",
                         headers=headers)
    assert missing.status_code == 404


def test_the_demo_has_qr_sign_ins_and_a_manager_with_a_request_waiting():
    from lms.courses.sessions.models import QR, Attendance

    load_demo_once()
    qr = list(db.session.scalars(select(Attendance).where(Attendance.source == QR)))
    assert len(qr) == 5 and all(a.signed_at is not None for a in qr)
    lucas = db.session.scalar(select(SessionRegistration).where(
        SessionRegistration.status == PENDING_APPROVAL)).enrollment.membership.manager
    assert lucas.user.display_name == "Lucas Richard"
    pending = list(db.session.scalars(approvals.requests_for(lucas)))
    assert [r.enrollment.membership.user.display_name for r in pending] == ["Camille Martin"]
    decided = {r.enrollment.membership.user.display_name: r.status
               for r in db.session.scalars(approvals.requests_for(lucas, pending=False))}
    assert decided == {"Hugo Bernard": REGISTERED, "Manon Petit": DECLINED}


def test_a_member_import_sets_managers_listed_in_any_order(app, create_user, create_org):
    import csv
    import io

    from lms.jobs import services as jobs
    from tests.support import run_member_import

    org = create_org()
    hr = create_user(Role.HR, org=org)
    data = (b"email;name;role;manager_email\n"
            b"ana@example.com;Ana;learner;boss@example.com\n"  # the manager comes later
            b"bob@example.com;Bob;learner;nobody@example.com\n"
            b"boss@example.com;Boss;hr;\n"
            b"eve@example.com;Eve;learner;eve@example.com\n")
    job, members = run_member_import(org, hr, data)
    assert members["ana@example.com"].manager_id == members["boss@example.com"].id
    assert members["bob@example.com"].manager_id is None
    assert members["eve@example.com"].manager_id is None
    assert job.result["errors"] == 2
    report = list(csv.reader(io.StringIO(jobs.result_file(job).read_text())))
    assert [(r[0], r[1]) for r in report[1:]] == [("3", "bob@example.com"),
                                                  ("5", "eve@example.com")]
    assert "nobody@example.com is not a member" in report[1][2]


def test_the_manager_and_then_the_learner_are_told_by_e_mail(client, login, gated,
                                                             monkeypatch):
    sent: list[dict[str, str]] = []
    monkeypatch.setattr(approvals, "send_mail", lambda **mail: sent.append(mail) or True)
    enrollment = gated.enrollments[0]
    login(gated.learners[0])
    client.post(f"/o/acme/training/{enrollment.id}/sessions/{gated.session.id}/register")
    (ask,) = sent
    assert ask["to"] == gated.manager.email and "Learner 0" in ask["subject"]
    assert "http://relais.test/o/acme/approvals" in ask["body"]
    client.post("/logout")
    login(gated.manager)
    reg = db.session.scalar(select(SessionRegistration))
    client.post(f"/o/acme/approvals/{reg.id}", data={"decision": "decline",
                                                      "reason": "Inventaire ce jour-là"})
    told = sent[1]
    assert told["to"] == gated.learners[0].email and "Inventaire ce jour-là" in told["body"]
    # Nobody manages learner 3: HR and admins find the request on their page, no e-mail.
    register(session=gated.session, enrollment=gated.enrollments[3])
    assert approvals.notify_requested(db.session.scalars(select(SessionRegistration).where(
        SessionRegistration.enrollment_id == gated.enrollments[3].id)).one()) is False


def test_removing_a_manager_leaves_their_reports_without_one(gated):
    report = gated.member(gated.learners[0])
    accounts.remove_member(membership=gated.member(gated.manager))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(report), report.id).manager_id is None
