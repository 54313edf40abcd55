"""Certificates API: list and filter, one, issue by hand, revoke, PDF, export job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.certificates import services
from lms.certificates.models import Certificate
from lms.core.models import utcnow
from lms.courses.cohorts.services import create_cohort, enrol
from lms.extensions import db
from lms.jobs.models import Job

BASE = "/api/v1/orgs/acme/certificates"


def all_certs() -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).order_by(Certificate.id)))


def test_list_filters_by_cohort_program_period_and_status(cert_world, client, api_token):
    w = cert_world
    w.complete(w.enrollments[0])
    w.complete(w.enrollments[1])
    other = create_cohort(program=w.program, name="Wave 2")
    extra = enrol(cohort=other, membership=w.member(w.learners[2]))
    db.session.commit()
    w.complete(extra)
    first, second, third = all_certs()
    services.revoke(certificate=first, revoked_by=w.hr, reason="Error")
    second.valid_until = utcnow() - timedelta(days=1)
    db.session.commit()
    hr = api_token(w.hr)
    data = client.get(BASE, headers=hr).get_json()
    assert data["total"] == 3 and data["items"][0]["id"] == third.id  # newest first
    assert {i["status"] for i in data["items"]} == {"valid", "expired", "revoked"}
    item = data["items"][0]
    assert item["badge_url"].endswith(f"/verify/{third.code}/badge.json")
    assert item["snapshot"]["learner"]["name"] == "Learner 2"

    def ids(query: str) -> list[int]:
        response = client.get(f"{BASE}?{query}", headers=hr)
        assert response.status_code == 200, response.get_json()
        return [i["id"] for i in response.get_json()["items"]]

    assert ids(f"cohort={other.id}") == [third.id]
    assert ids(f"program={w.program.id}&status=valid") == [third.id]
    assert ids("status=expired") == [second.id]
    assert ids("status=revoked") == [first.id]
    today = utcnow().date()
    assert len(ids(f"since={today}&until={today}")) == 3
    assert ids(f"until={today - timedelta(days=1)}") == []
    assert ids("per_page=1&page=2") == [second.id]
    bad = client.get(f"{BASE}?status=lost&since=yesterday&cohort=999999", headers=hr)
    assert bad.status_code == 400
    # Malformed values are refused first, all together (lms/api/query.py); then a cohort of
    # another organization.
    assert set(bad.get_json()["error"]["fields"]) == {"status", "since"}
    elsewhere = client.get(f"{BASE}?cohort=999999", headers=hr)
    assert elsewhere.status_code == 400 and set(elsewhere.get_json()["error"]["fields"]) == {
        "cohort"}
    learner = api_token(w.learners[0])
    assert client.get(BASE, headers=learner).status_code == 403


def test_learner_gets_own_certificate_and_pdf_only(cert_world, client, api_token):
    w = cert_world
    w.complete(w.enrollments[0])
    w.complete(w.enrollments[1])
    mine, theirs = all_certs()
    token = api_token(w.learners[0])
    response = client.get(f"{BASE}/{mine.id}", headers=token)
    assert response.status_code == 200 and response.get_json()["code"] == mine.code
    assert client.get(f"{BASE}/{theirs.id}", headers=token).status_code == 404
    pdf = client.get(f"{BASE}/{mine.id}/pdf", headers=token)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"{BASE}/{theirs.id}/pdf", headers=token).status_code == 404
    assert client.get(f"{BASE}/{theirs.id}", headers=api_token(w.hr)).status_code == 200
    assert client.get(f"{BASE}/{mine.id}").status_code == 401


def test_trainer_issues_by_hand_with_a_reason(cert_world, client, api_token):
    w = cert_world
    e = w.enrollments[1]
    trainer = api_token(w.trainer)
    missing = client.post(BASE, json={"enrollment_id": e.id}, headers=trainer)
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["fields"]
    unknown = client.post(BASE, json={"enrollment_id": "nope", "reason": "x"}, headers=trainer)
    assert unknown.status_code == 422
    created = client.post(BASE, json={"enrollment_id": e.id, "reason": "Partner academy"},
                          headers=trainer)
    assert created.status_code == 201
    body = created.get_json()
    assert body["reason"] == "Partner academy" and body["issued_by_id"] == w.trainer.id
    again = client.post(BASE, json={"enrollment_id": e.id, "reason": "again"}, headers=trainer)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    assert client.post(BASE, json={"enrollment_id": e.id, "reason": "x"},
                       headers=api_token(w.hr)).status_code == 403
    assert client.post(BASE, data="x", headers=trainer).status_code == 400


def test_revoke_with_a_reason(cert_world, client, api_token):
    w = cert_world
    w.complete(w.enrollments[0])
    (cert,) = all_certs()
    hr = api_token(w.hr)
    url = f"{BASE}/{cert.id}/revoke"
    assert client.post(url, json={}, headers=hr).status_code == 422
    response = client.post(url, json={"reason": "Fraud"}, headers=hr)
    assert response.status_code == 200
    assert response.get_json()["status"] == "revoked"
    assert response.get_json()["revocation_reason"] == "Fraud"
    assert client.post(url, json={"reason": "again"}, headers=hr).status_code == 409
    assert client.post(url, json={"reason": "x"},
                       headers=api_token(w.learners[0])).status_code == 403
    assert client.get(f"/verify/{cert.code}?format=json").get_json()["status"] == "revoked"


def test_export_starts_a_job(cert_world, client, api_token):
    w = cert_world
    w.complete(w.enrollments[0])
    hr = api_token(w.hr)
    response = client.post(f"{BASE}/exports", json={"cohort": w.cohort.id}, headers=hr)
    assert response.status_code == 202
    job = db.session.get(Job, response.get_json()["id"])
    assert job.kind == "certificates.export" and job.params["cohort_id"] == w.cohort.id
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    empty = client.post(f"{BASE}/exports", json={"since": "2099-01-01"}, headers=hr)
    assert empty.status_code == 422
    assert client.post(f"{BASE}/exports", json={"until": "soon"}, headers=hr).status_code == 400
