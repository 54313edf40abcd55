"""Pages: verification (public, JSON), learners' own certificates, managers' register,
revocation with confirmation, isolation between organizations."""

from __future__ import annotations

import json

from sqlalchemy import select

from lms.certificates import services
from lms.certificates.models import Certificate
from lms.extensions import db
from lms.xapi.models import Statement


def only_cert() -> Certificate:
    return db.session.scalar(select(Certificate))


def test_verification_valid_revoked_unknown(cert_world, client):
    w = cert_world
    w.complete(w.enrollments[0])
    cert = only_cert()
    page = client.get(f"/verify/{cert.code}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Valid" in body and "Learner 0" in body and "Acme Formation" in body
    assert w.learners[0].email not in body
    data = client.get(f"/verify/{cert.code}?format=json").get_json()
    assert data["status"] == "valid" and data["learner"] == "Learner 0"
    assert data["revoked_on"] is None and "email" not in json.dumps(data)
    services.revoke(certificate=cert, revoked_by=w.hr, reason="Secret internal reason")
    db.session.commit()
    data = client.get(f"/verify/{cert.code}?format=json").get_json()
    assert data["status"] == "revoked" and data["revoked_on"] == cert.revoked_at.date().isoformat()
    body = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Revoked" in body and "Secret internal reason" not in body
    assert client.get("/verify/not-a-code").status_code == 404
    unknown = client.get("/verify/not-a-code?format=json")
    assert unknown.status_code == 404 and unknown.get_json() == {"status": "unknown"}


def test_learner_downloads_own_certificate_only(cert_world, client, login):
    w = cert_world
    w.complete(w.enrollments[0])
    w.complete(w.enrollments[1])
    mine, theirs = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    login(w.learners[0])
    page = client.get("/o/acme/certificates/mine")
    assert page.status_code == 200
    assert f"/certificates/{mine.id}.pdf" in page.get_data(as_text=True)
    assert f"/certificates/{theirs.id}.pdf" not in page.get_data(as_text=True)
    pdf = client.get(f"/o/acme/certificates/{mine.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get(f"/o/acme/certificates/{theirs.id}.pdf").status_code == 404
    assert client.get(f"/o/acme/certificates/{theirs.id}").status_code == 404
    assert client.get("/o/acme/certificates").status_code == 403
    assert client.get(f"/o/acme/certificates/{mine.id}/revoke").status_code == 403
    downloaded = [json.loads(d) for d in db.session.scalars(
        select(Statement.data).where(Statement.verb_id.like("%/downloaded")))]
    assert len(downloaded) == 1
    assert downloaded[0]["actor"]["account"]["name"] == str(w.learners[0].id)


def test_other_organization_gets_404(cert_world, client, login, create_user):
    w = cert_world
    w.complete(w.enrollments[0])
    cert = only_cert()
    outsider = create_user("hr", name="Other HR")  # in another organization
    login(outsider)
    assert client.get("/o/acme/certificates").status_code == 404
    assert client.get(f"/o/acme/certificates/{cert.id}.pdf").status_code == 404
    org_slug = outsider.memberships[0].organization.slug
    assert client.get(f"/o/{org_slug}/certificates/{cert.id}.pdf").status_code == 404
    assert client.get(f"/o/{org_slug}/certificates/{cert.id}").status_code == 404


def test_register_filters_and_revoke_with_confirmation(cert_world, client, login):
    w = cert_world
    w.complete(w.enrollments[0])
    cert = only_cert()
    login(w.hr)
    page = client.get(f"/o/acme/certificates?cohort={w.cohort.id}")
    assert page.status_code == 200 and "Learner 0" in page.get_data(as_text=True)
    page = client.get("/o/acme/certificates?since=2099-01-01")
    assert "Learner 0" not in page.get_data(as_text=True)
    page = client.get(f"/o/acme/certificates?program={w.program.id + 999}")
    assert "Learner 0" not in page.get_data(as_text=True)
    # Without the confirmation box, nothing happens.
    response = client.post(f"/o/acme/certificates/{cert.id}/revoke", data={"reason": "Fraud"})
    assert response.status_code == 422
    db.session.expire_all()
    assert not only_cert().revoked
    response = client.post(f"/o/acme/certificates/{cert.id}/revoke",
                           data={"reason": "Fraud", "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    cert = only_cert()
    assert cert.revoked and cert.revocation_reason == "Fraud" and cert.revoked_by_id == w.hr.id


def test_trainer_issues_by_hand_and_reissues(cert_world, client, login):
    w = cert_world
    login(w.trainer)
    e = w.enrollments[2]
    response = client.post("/o/acme/certificates/issue",
                           data={"enrollment": e.id, "reason": ""})
    assert response.status_code == 302 and only_cert() is None
    response = client.post("/o/acme/certificates/issue",
                           data={"enrollment": e.id, "reason": "Validated by jury"})
    assert response.status_code == 302
    cert = only_cert()
    assert cert.reason == "Validated by jury" and cert.issued_by_id == w.trainer.id
    response = client.post(f"/o/acme/certificates/{cert.id}/reissue",
                           data={"reason": "Typo in name"})
    assert response.status_code == 302
    old, new = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert old.revoked and new.replaces_id == old.id and not new.revoked
    assert client.get(f"/o/acme/certificates/{new.id}").status_code == 200


def test_verification_page_in_french(cert_world, client):
    w = cert_world
    w.complete(w.enrollments[0])
    cert = only_cert()
    body = client.get(f"/verify/{cert.code}",
                      headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(as_text=True)
    assert "Vérification d’une attestation" in body and "Valide" in body
    body = client.get("/verify/nope", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Attestation inconnue" in body
