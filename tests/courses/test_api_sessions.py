"""The sessions API through HTTP: scheduling and moving sessions, registrations with the waiting
list and manager approval, attendance sheets written all or nothing, withdrawing a learner and
one enrolment with its progress; roles and organizations as on the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.courses.cohorts.services import create_cohort
from lms.courses.sessions.models import Attendance, SessionRegistration
from lms.extensions import db
from tests.support import statements_by_verb

API = "/api/v1/orgs/acme"


def _day(days: int, hour: int) -> str:
    """An ISO date-time in UTC, ``days`` from now at ``hour`` (UTC)."""
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=days)
    return base.replace(hour=hour).isoformat()


def statements(verb: str) -> list[dict]:
    return statements_by_verb(f"http://adlnet.gov/expapi/verbs/{verb}")


@pytest.fixture()
def api(enrolled, client, api_token):
    """The world, plus a session helper and headers per user."""
    w = enrolled
    w.headers = {u.id: api_token(u) for u in [w.trainer, *w.learners]}
    return w


def h(w, user):
    return w.headers[user.id]


def schedule(client, w, **overrides):
    body = {"module_id": w.module("lancement").id, "starts_at": _day(10, 8),
            "ends_at": _day(10, 11), "place": "Lyon, salle Rhône", "capacity": 1,
            "trainer_id": w.member(w.trainer).id, **overrides}
    return client.post(f"{API}/cohorts/{w.cohort.id}/sessions", headers=h(w, w.trainer),
                       json=body)


def test_trainer_schedules_lists_and_reads_sessions(api, client, api_token, create_user):
    w = api
    url = f"{API}/cohorts/{w.cohort.id}/sessions"
    missing = client.post(url, headers=h(w, w.trainer), json={})
    assert missing.status_code == 422
    assert set(missing.get_json()["error"]["fields"]) == {"module_id", "starts_at", "ends_at"}
    # The page's rules: a session module, an end after the start, a place or an https link.
    bad = schedule(client, w, module_id=w.module("profil").id, place="",
                   ends_at=_day(10, 7), virtual_link="http://meet.example")
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"].keys() == {"module_id", "ends_at", "virtual_link"}
    assert schedule(client, w, starts_at="demain").get_json()["error"]["fields"] == {
        "starts_at": "Use an ISO 8601 date-time, e.g. 2027-01-12T09:00:00+01:00."}
    assert schedule(client, w, capacity="ten").status_code == 422
    assert schedule(client, w, trainer_id=99999).get_json()["error"]["fields"] == {
        "trainer_id": "No such member."}
    created = schedule(client, w)
    assert created.status_code == 201
    s = created.get_json()
    assert s["capacity"] == 1 and s["seats_taken"] == 0 and s["waitlisted"] == 0
    assert s["place"] == "Lyon, salle Rhône" and s["module_kind"] == "workshop"
    assert s["half_days"] and s["my_registration"] is None
    # A local time without an offset is read in the sessions' time zone (Europe/Paris).
    local = schedule(client, w, starts_at="2027-01-12T09:00", ends_at="2027-01-12T12:00")
    assert local.get_json()["starts_at"] == "2027-01-12T08:00:00+00:00"
    assert local.get_json()["half_days"] == [{"day": "2027-01-12", "half": "am"}]
    listed = client.get(f"{url}?per_page=1", headers=h(w, w.trainer)).get_json()
    assert listed["total"] == 2 and [i["id"] for i in listed["items"]] == [s["id"]]
    second = client.get(f"{url}?per_page=1&page=2", headers=h(w, w.trainer)).get_json()
    assert [i["id"] for i in second["items"]] == [local.get_json()["id"]]
    assert client.get(f"{url}?per_page=0", headers=h(w, w.trainer)).status_code == 400
    one = client.get(f"{API}/sessions/{s['id']}", headers=h(w, w.trainer))
    assert one.status_code == 200 and one.get_json()["id"] == s["id"]
    # A learner of the cohort reads its sessions; HR reads; neither schedules.
    learner = h(w, w.learners[0])
    assert client.get(url, headers=learner).get_json()["total"] == 2
    assert client.post(url, headers=learner, json={}).status_code == 403
    hr = api_token(create_user(Role.HR, org=w.org))
    assert client.get(f"{API}/sessions/{s['id']}", headers=hr).status_code == 200
    assert client.post(url, headers=hr, json={}).get_json()["error"]["code"] == "forbidden"
    # A learner outside the cohort does not see it.
    outsider = api_token(create_user(Role.LEARNER, org=w.org))
    assert client.get(url, headers=outsider).status_code == 404
    assert client.get(f"{API}/sessions/{s['id']}", headers=outsider).status_code == 404


def test_registrations_fill_seats_then_the_waiting_list_and_cancelling_promotes(api, client):
    w = api
    sid = schedule(client, w).get_json()["id"]
    url = f"{API}/sessions/{sid}/registrations"
    first, second, third = w.enrollments[:3]
    # Staff assign an enrolment of the cohort; a learner registers themselves.
    assert client.post(url, headers=h(w, w.trainer), json={}).status_code == 422
    assigned = client.post(url, headers=h(w, w.trainer), json={"enrollment_id": first.id})
    assert assigned.status_code == 201 and assigned.get_json()["status"] == "registered"
    again = client.post(url, headers=h(w, w.trainer), json={"enrollment_id": first.id})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    mine = client.post(url, headers=h(w, w.learners[1]), json={})
    assert mine.status_code == 201 and mine.get_json()["status"] == "waitlisted"
    assert mine.get_json()["enrollment_id"] == second.id
    # A learner cannot register someone else.
    other = client.post(url, headers=h(w, w.learners[2]), json={"enrollment_id": first.id})
    assert other.status_code == 404
    client.post(url, headers=h(w, w.learners[2]), json={"enrollment_id": third.id})
    s = client.get(f"{API}/sessions/{sid}", headers=h(w, w.learners[1])).get_json()
    assert (s["seats_taken"], s["waitlisted"]) == (1, 2)
    assert s["my_registration"]["status"] == "waitlisted"
    # Staff see every registration in order; a learner only their own.
    everyone = client.get(url, headers=h(w, w.trainer)).get_json()["items"]
    assert [r["enrollment_id"] for r in everyone] == [first.id, second.id, third.id]
    own = client.get(url, headers=h(w, w.learners[1])).get_json()["items"]
    assert [r["enrollment_id"] for r in own] == [second.id]
    # Someone else's registration is not there for a learner.
    first_id = everyone[0]["id"]
    assert client.delete(f"{url}/{first_id}", headers=h(w, w.learners[1])).status_code == 404
    # Cancelling a seat promotes the first on the waiting list, as on the page.
    cancelled = client.delete(f"{url}/{first_id}", headers=h(w, w.trainer))
    assert cancelled.status_code == 200
    assert cancelled.get_json()["promoted"]["enrollment_id"] == second.id
    assert client.delete(f"{url}/{first_id}", headers=h(w, w.trainer)).status_code == 404
    # A learner leaves the waiting list: nobody is promoted.
    third_reg = everyone[2]["id"]
    left = client.delete(f"{url}/{third_reg}", headers=h(w, w.learners[2]))
    assert left.status_code == 200 and left.get_json()["promoted"] is None
    statuses = dict(db.session.execute(select(SessionRegistration.enrollment_id,
                                              SessionRegistration.status)).all())
    assert statuses == {second.id: "registered"}


def test_a_learner_cannot_register_or_cancel_once_the_session_started(api, client):
    w = api
    sid = schedule(client, w, starts_at=_day(-1, 8), ends_at=_day(1, 16)).get_json()["id"]
    url = f"{API}/sessions/{sid}/registrations"
    late = client.post(url, headers=h(w, w.learners[0]), json={})
    assert late.status_code == 409
    reg = client.post(url, headers=h(w, w.trainer), json={"enrollment_id": w.enrollments[0].id})
    assert reg.status_code == 201
    refused = client.delete(f"{url}/{reg.get_json()['id']}", headers=h(w, w.learners[0]))
    assert refused.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(SessionRegistration)) == 1


def test_registrations_wait_for_the_manager_when_the_program_asks(api, client, create_user,
                                                                  api_token):
    w = api
    w.program.approval_required = True
    manager = create_user(Role.LEARNER, org=w.org, name="Marie Manager")
    accounts.set_manager(membership=w.member(w.learners[0]), manager=w.member(manager))
    db.session.commit()
    sid = schedule(client, w).get_json()["id"]
    asked = client.post(f"{API}/sessions/{sid}/registrations", headers=h(w, w.learners[0]),
                        json={})
    assert asked.status_code == 201 and asked.get_json()["status"] == "pending_approval"
    s = client.get(f"{API}/sessions/{sid}", headers=h(w, w.trainer)).get_json()
    assert (s["seats_taken"], s["pending_approval"]) == (0, 1)
    pending = client.get(f"{API}/approvals", headers=api_token(manager)).get_json()["items"]
    assert [r["id"] for r in pending] == [asked.get_json()["id"]]


def test_moving_and_editing_a_session(api, client):
    w = api
    s = schedule(client, w, capacity=1).get_json()
    url = f"{API}/sessions/{s['id']}"
    regs = f"{url}/registrations"
    for e in w.enrollments[:3]:
        client.post(regs, headers=h(w, w.trainer), json={"enrollment_id": e.id})
    assert client.patch(url, headers=h(w, w.learners[0]), json={}).status_code == 403
    unknown = client.patch(url, headers=h(w, w.trainer), json={"module_id": 1, "colour": "x"})
    assert unknown.status_code == 422
    assert set(unknown.get_json()["error"]["fields"]) == {"module_id", "colour"}
    backwards = client.patch(url, headers=h(w, w.trainer), json={"ends_at": _day(9, 8)})
    assert backwards.status_code == 422 and "ends_at" in backwards.get_json()["error"]["fields"]
    assert client.patch(url, headers=h(w, w.trainer), json={"place": None}).status_code == 422
    # A bigger room promotes the waiting list in order; moving keeps the registrations.
    moved = client.patch(url, headers=h(w, w.trainer), json={
        "starts_at": _day(12, 8), "ends_at": _day(12, 16), "capacity": 2,
        "virtual_link": "https://meet.example/relais"})
    assert moved.status_code == 200
    body = moved.get_json()
    assert body["starts_at"] == _day(12, 8) and body["place"] == "Lyon, salle Rhône"
    assert (body["seats_taken"], body["waitlisted"]) == (2, 1)
    assert body["virtual_link"] == "https://meet.example/relais"
    # Not below the seats already given; nothing changes then.
    small = client.patch(url, headers=h(w, w.trainer), json={"capacity": 1,
                                                              "starts_at": _day(12, 9)})
    assert small.status_code == 422 and "capacity" in small.get_json()["error"]["fields"]
    assert client.get(url, headers=h(w, w.trainer)).get_json()["starts_at"] == _day(12, 8)
    # No limit: everyone gets a seat.
    unlimited = client.patch(url, headers=h(w, w.trainer), json={"capacity": None})
    assert unlimited.get_json()["seats_taken"] == 3
    # Once attendance is taken on a half-day, moving away from it is refused.
    half = body["half_days"][0]
    marked = client.put(f"{url}/attendance", headers=h(w, w.trainer), json={"marks": [
        {"enrollment_id": w.enrollments[0].id, **half, "status": "present"}]})
    assert marked.status_code == 200
    away = client.patch(url, headers=h(w, w.trainer), json={"starts_at": _day(20, 8),
                                                             "ends_at": _day(20, 16)})
    assert away.status_code == 409
    assert client.get(url, headers=h(w, w.trainer)).get_json()["starts_at"] == _day(12, 8)


def test_attendance_is_all_or_nothing_and_records_statements(api, client, api_token,
                                                              create_user):
    w = api
    s = schedule(client, w, starts_at=_day(3, 7), ends_at=_day(4, 15), capacity=None).get_json()
    url = f"{API}/sessions/{s['id']}/attendance"
    a, b = w.enrollments[:2]
    for e in (a, b):
        client.post(f"{API}/sessions/{s['id']}/registrations", headers=h(w, w.trainer),
                    json={"enrollment_id": e.id})
    halves = s["half_days"]
    assert len(halves) == 4
    sheet = client.get(url, headers=h(w, w.trainer)).get_json()
    assert len(sheet["items"]) == 8 and {i["status"] for i in sheet["items"]} == {None}
    marks = [{"enrollment_id": a.id, **halves[0], "status": "present"},
             {"enrollment_id": b.id, **halves[0], "status": "late"},
             {"enrollment_id": w.enrollments[3].id, **halves[0], "status": "present"},
             {"enrollment_id": a.id, "day": "2030-01-01", "half": "am", "status": "present"},
             {"enrollment_id": a.id, "day": "hier", "half": "am", "status": "present"},
             "present",
             {"enrollment_id": b.id, **halves[1], "status": "absent"},
             {"enrollment_id": a.id, **halves[0], "status": "absent"}]
    bad = client.put(url, headers=h(w, w.trainer), json={"marks": marks})
    assert bad.status_code == 422
    assert sorted(bad.get_json()["error"]["fields"]) == [f"marks[{i}]" for i in
                                                         (1, 2, 3, 4, 5, 7)]
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 0
    assert statements("attended") == []
    for empty in ({}, {"marks": []}, {"marks": "present"}):
        assert client.put(url, headers=h(w, w.trainer), json=empty).status_code == 422
    good = [marks[0], marks[6], {"enrollment_id": b.id, **halves[0], "status": "excused"}]
    done = client.put(url, headers=h(w, w.trainer), json={"marks": good})
    assert done.status_code == 200 and done.get_json()["changed"] == 3
    rows = {(i["enrollment_id"], i["day"], i["half"]): i for i in done.get_json()["items"]}
    first = rows[(a.id, halves[0]["day"], halves[0]["half"])]
    assert first["status"] == "present" and first["source"] == "sheet" and first["signed_at"]
    assert rows[(b.id, halves[1]["day"], halves[1]["half"])]["status"] == "absent"
    assert rows[(a.id, halves[1]["day"], halves[1]["half"])]["status"] is None
    (attended,) = statements("attended")
    assert attended["context"]["registration"] == a.id
    # The same sheet again changes nothing; correcting a presence voids its statement.
    assert client.put(url, headers=h(w, w.trainer), json={"marks": good}).get_json()[
        "changed"] == 0
    assert len(statements("attended")) == 1
    fixed = client.put(url, headers=h(w, w.trainer), json={"marks": [
        {"enrollment_id": a.id, **halves[0], "status": "absent"}]})
    assert fixed.get_json()["changed"] == 1
    # (the module's "completed", derived from it, is voided too)
    assert attended["id"] in [st["object"]["id"] for st in statements("voided")]
    # HR reads the sheet; learners do not; only trainers and admins write it.
    hr = api_token(create_user(Role.HR, org=w.org))
    assert client.get(url, headers=hr).status_code == 200
    assert client.put(url, headers=hr, json={"marks": good}).status_code == 403
    assert client.get(url, headers=h(w, w.learners[0])).status_code == 403


def test_withdraw_and_read_one_enrolment(api, client, api_token, create_user):
    w = api
    sid = schedule(client, w).get_json()["id"]
    for e in w.enrollments[:2]:
        client.post(f"{API}/sessions/{sid}/registrations", headers=h(w, w.trainer),
                    json={"enrollment_id": e.id})
    a = w.enrollments[0]
    url = f"{API}/cohorts/{w.cohort.id}/enrolments/{a.id}"
    one = client.get(url, headers=h(w, w.trainer)).get_json()
    assert one["status"] == "active" and one["learner"] == "Learner 0"
    assert [m["key"] for m in one["modules"]][0] == "lancement"
    assert [r["status"] for r in one["registrations"]] == ["registered"]
    assert client.get(url, headers=h(w, w.learners[0])).status_code == 403
    assert client.post(f"{url}/withdraw", headers=h(w, w.learners[0])).status_code == 403
    withdrawn = client.post(f"{url}/withdraw", headers=h(w, w.trainer))
    assert withdrawn.status_code == 200
    body = withdrawn.get_json()
    assert body["status"] == "withdrawn" and body["withdrawn_at"] and body["registrations"] == []
    # The seat went to the waiting list, as on the page.
    s = client.get(f"{API}/sessions/{sid}", headers=h(w, w.trainer)).get_json()
    assert (s["seats_taken"], s["waitlisted"]) == (1, 0)
    assert client.post(f"{url}/withdraw", headers=h(w, w.trainer)).status_code == 409
    # An enrolment of another cohort, or none, is 404.
    other = create_cohort(program=w.program, name="Autre")
    db.session.commit()
    assert client.get(f"{API}/cohorts/{other.id}/enrolments/{a.id}",
                      headers=h(w, w.trainer)).status_code == 404
    assert client.get(f"{API}/cohorts/{w.cohort.id}/enrolments/nope",
                      headers=h(w, w.trainer)).status_code == 404


def test_other_organizations_get_404_on_sessions(api, client, api_token, create_user):
    w = api
    sid = schedule(client, w).get_json()["id"]
    stranger = create_user(Role.ADMIN)
    headers = api_token(stranger)
    slug = stranger.memberships[0].organization.slug
    e = w.enrollments[0]
    for method, path, body in [
            ("GET", f"/cohorts/{w.cohort.id}/sessions", None),
            ("POST", f"/cohorts/{w.cohort.id}/sessions", {}),
            ("GET", f"/sessions/{sid}", None), ("PATCH", f"/sessions/{sid}", {}),
            ("GET", f"/sessions/{sid}/registrations", None),
            ("POST", f"/sessions/{sid}/registrations", {"enrollment_id": e.id}),
            ("GET", f"/sessions/{sid}/attendance", None),
            ("PUT", f"/sessions/{sid}/attendance", {"marks": []}),
            ("GET", f"/cohorts/{w.cohort.id}/enrolments/{e.id}", None),
            ("POST", f"/cohorts/{w.cohort.id}/enrolments/{e.id}/withdraw", None)]:
        for org in ("acme", slug):
            response = client.open(f"/api/v1/orgs/{org}{path}", method=method,
                                   headers=headers, json=body)
            assert response.status_code == 404, (method, path, org)
            assert response.get_json()["error"]["code"] == "not_found"
