"""Coaching over the API: schedule (date proposed from the plan), list overdue first, record a
follow-up as held with action items, tick them as the learner; errors in the envelope."""

from __future__ import annotations

from datetime import timedelta

from lms.coaching import services
from lms.core.models import utcnow
from lms.courses.cohorts.queries import progress_by_module
from lms.extensions import db


def test_schedule_hold_and_tick_through_the_api(client, enrolled, api_token):
    w = enrolled
    staff = api_token(w.trainer)
    e = w.enrollments[0]
    module = w.module("suivi-1")
    created = client.post("/api/v1/orgs/acme/followups", headers=staff, json={
        "enrolment_id": e.id, "module_id": module.id, "video_link": "https://visio.example/1"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "scheduled" and body["duration_minutes"] == 30
    assert body["coach_id"] == w.member(w.trainer).id
    past = client.post("/api/v1/orgs/acme/followups", headers=staff, json={
        "enrolment_id": e.id, "module_id": module.id, "place": "Salle 2",
        "scheduled_at": (utcnow() - timedelta(hours=3)).isoformat()}).get_json()
    listing = client.get("/api/v1/orgs/acme/followups?show=open", headers=staff).get_json()
    assert [i["id"] for i in listing["items"]] == [past["id"], body["id"]]
    assert listing["items"][0]["overdue"] is True and listing["total"] == 2

    held = client.patch(f"/api/v1/orgs/acme/followups/{past['id']}", headers=staff, json={
        "status": "held", "notes": "Bien.", "next_followup_on": None,
        "action_items": [{"text": "Publier un post", "due_on": "2030-01-15"}]})
    assert held.status_code == 200, held.get_json()
    assert held.get_json()["action_items"][0]["due_on"] == "2030-01-15"
    assert progress_by_module(e.id)[module.id].state == "completed"
    again = client.patch(f"/api/v1/orgs/acme/followups/{past['id']}", headers=staff,
                         json={"status": "cancelled"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"

    learner = api_token(w.learners[0])
    mine = client.get("/api/v1/orgs/acme/followups", headers=learner).get_json()
    assert {i["id"] for i in mine["items"]} == {past["id"], body["id"]}
    item_id = held.get_json()["action_items"][0]["id"]
    ticked = client.patch(f"/api/v1/orgs/acme/action-items/{item_id}", headers=learner,
                          json={"status": "done"})
    assert ticked.status_code == 200 and ticked.get_json()["status"] == "done"
    dropped = client.patch(f"/api/v1/orgs/acme/action-items/{item_id}", headers=learner,
                           json={"status": "dropped"})
    assert dropped.status_code == 422
    other = api_token(w.learners[1])
    assert client.get(f"/api/v1/orgs/acme/followups/{past['id']}",
                      headers=other).status_code == 404
    assert client.get("/api/v1/orgs/acme/followups", headers=other).get_json()["items"] == []
    assert client.patch(f"/api/v1/orgs/acme/action-items/{item_id}", headers=other,
                        json={"status": "open"}).status_code == 404


def test_bad_input_answers_in_the_envelope(client, enrolled, api_token):
    w = enrolled
    staff = api_token(w.trainer)
    e = w.enrollments[0]
    bad = client.post("/api/v1/orgs/acme/followups", headers=staff, json={
        "enrolment_id": e.id, "module_id": w.module("suivi-1").id,
        "scheduled_at": "2026-12-01T10:00", "place": "x"})
    assert bad.status_code == 422 and "scheduled_at" in bad.get_json()["error"]["fields"]
    bad = client.post("/api/v1/orgs/acme/followups", headers=staff, json={
        "enrolment_id": e.id, "module_id": w.module("lancement").id, "place": "x"})
    assert bad.status_code == 422 and "module" in bad.get_json()["error"]["fields"]
    assert client.post("/api/v1/orgs/acme/followups", headers=staff,
                       data="nope").status_code == 400
    assert client.get("/api/v1/orgs/acme/followups?cohort=x",
                      headers=staff).status_code == 400
    learner = api_token(w.learners[0])
    assert client.post("/api/v1/orgs/acme/followups", headers=learner,
                       json={}).status_code == 403


def test_move_and_amend_notes(client, enrolled, api_token):
    w = enrolled
    staff = api_token(w.trainer)
    f = services.schedule(enrollment=w.enrollments[0], module=w.module("suivi-1"), coach=None,
                          scheduled_at=utcnow() + timedelta(days=1), place="A")
    db.session.commit()
    when = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    moved = client.patch(f"/api/v1/orgs/acme/followups/{f.id}", headers=staff,
                         json={"scheduled_at": when.isoformat(), "place": "B"})
    assert moved.status_code == 200 and moved.get_json()["place"] == "B"
    assert moved.get_json()["scheduled_at"].startswith(when.isoformat()[:16])


def test_status_scheduled_undoes_a_held_follow_up(client, enrolled, api_token):
    w = enrolled
    staff = api_token(w.trainer)
    f = services.schedule(enrollment=w.enrollments[0], module=w.module("suivi-1"), coach=None,
                          scheduled_at=utcnow() - timedelta(hours=1), place="A")
    services.record_held(followup=f, notes="n")
    db.session.commit()
    undone = client.patch(f"/api/v1/orgs/acme/followups/{f.id}", headers=staff,
                          json={"status": "scheduled"})
    assert undone.status_code == 200 and undone.get_json()["status"] == "scheduled"
    module = w.module("suivi-1")
    assert progress_by_module(w.enrollments[0].id)[module.id].state != \
        "completed"
