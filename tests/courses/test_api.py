"""The courses API: programs, cohorts, enrolments and progress, with roles and isolation."""

from __future__ import annotations

from lms.courses.elearning.services import submit_quiz
from lms.extensions import db


def test_trainer_opens_a_cohort_and_enrols_through_the_api(world, client, api_token):
    w = world
    headers = api_token(w.trainer)
    listed = client.get("/api/v1/orgs/acme/programs", headers=headers).get_json()["items"]
    assert [p["id"] for p in listed] == [w.program.id]
    program = client.get(f"/api/v1/orgs/acme/programs/{w.program.id}", headers=headers)
    assert [m["key"] for m in program.get_json()["modules"]][0] == "lancement"
    bad = client.post("/api/v1/orgs/acme/cohorts", headers=headers,
                      json={"program_id": w.program.id, "name": ""})
    assert bad.status_code == 422 and "name" in bad.get_json()["error"]["fields"]
    created = client.post("/api/v1/orgs/acme/cohorts", headers=headers, json={
        "program_id": w.program.id, "name": "Vague 2", "starts_on": "2027-01-11"})
    assert created.status_code == 201
    cohort_id = created.get_json()["id"]
    learner = w.member(w.learners[0])
    enrolled = client.post(f"/api/v1/orgs/acme/cohorts/{cohort_id}/enrolments",
                           headers=headers, json={"member_id": learner.id})
    assert enrolled.status_code == 201
    again = client.post(f"/api/v1/orgs/acme/cohorts/{cohort_id}/enrolments",
                        headers=headers, json={"member_id": learner.id})
    assert again.status_code == 409
    enrollment_id = enrolled.get_json()["id"]
    items = client.get(f"/api/v1/orgs/acme/cohorts/{cohort_id}/enrolments",
                       headers=headers).get_json()["items"]
    assert [e["id"] for e in items] == [enrollment_id]


def test_a_cohorts_enrolments_come_a_page_at_a_time_by_learner_name(enrolled, client,
                                                                     api_token):
    w = enrolled
    headers = api_token(w.trainer)
    url = f"/api/v1/orgs/acme/cohorts/{w.cohort.id}/enrolments"
    first = client.get(f"{url}?per_page=3", headers=headers).get_json()
    assert (first["page"], first["per_page"], first["total"]) == (1, 3, 4)
    by_name = sorted(w.enrollments, key=lambda e: e.membership.user.display_name)
    assert [e["id"] for e in first["items"]] == [e.id for e in by_name[:3]]
    second = client.get(f"{url}?per_page=3&page=2", headers=headers).get_json()
    assert [e["id"] for e in second["items"]] == [by_name[3].id]
    bad = client.get(f"{url}?per_page=0", headers=headers)
    assert bad.status_code == 400 and "per_page" in bad.get_json()["error"]["fields"]


def test_progress_is_visible_to_its_learner_and_staff_only(enrolled, client, api_token):
    w = enrolled
    e = w.enrollments[0]
    quiz = w.module("profil").quizzes[0]
    submit_quiz(enrollment=e, quiz=quiz, answers={
        q.key: [o["key"] for o in q.options if o.get("correct")] for q in quiz.questions})
    db.session.commit()
    mine = client.get(f"/api/v1/orgs/acme/enrolments/{e.id}/progress",
                      headers=api_token(w.learners[0]))
    assert mine.status_code == 200
    states = {m["key"]: m["state"] for m in mine.get_json()["modules"]}
    assert states["profil"] == "completed" and states["lancement"] == "not_started"
    other = client.get(f"/api/v1/orgs/acme/enrolments/{e.id}/progress",
                       headers=api_token(w.learners[1]))
    assert other.status_code == 404
    assert client.get("/api/v1/orgs/acme/cohorts",
                      headers=api_token(w.learners[1])).status_code == 403
    staff = client.get(f"/api/v1/orgs/acme/enrolments/{e.id}/progress",
                       headers=api_token(w.trainer))
    assert staff.status_code == 200


def test_other_organizations_get_404(enrolled, client, api_token, create_user):
    stranger = create_user("admin")
    headers = api_token(stranger)
    assert client.get("/api/v1/orgs/acme/programs", headers=headers).status_code == 404
    slug = stranger.memberships[0].organization.slug
    response = client.get(f"/api/v1/orgs/{slug}/programs/{enrolled.program.id}",
                          headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    response = client.post(f"/api/v1/orgs/{slug}/cohorts/{enrolled.cohort.id}/enrolments",
                           headers=headers, json={"member_id": 1})
    assert response.status_code == 404
