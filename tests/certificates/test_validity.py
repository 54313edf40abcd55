"""Validity and recertification: valid_until from the program's settings, expired on the
verification page, what expires soon (page and CSV), re-enrolment in a refresher (service,
command, periodic task) and the renewal issued when the refresher is completed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.certificates import recertification, services
from lms.certificates.models import Certificate
from lms.core.models import utcnow
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.extensions import db


def relogin(client, login, user) -> None:
    """Log the test client in as another user (a fresh session)."""
    with client.session_transaction() as session:
        session.clear()
    login(user)


def certificates() -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).order_by(Certificate.id)))


def set_validity(w, months=12, lead=30, refresher=None):
    services.update_settings(program=w.program, template_key="default",
                             validity_months=months, renewal_lead_days=lead,
                             refresher_cohort=refresher, accent_color=None)
    db.session.commit()


def age(certificate: Certificate, *, expires_in_days: float) -> None:
    """Move a certificate in time: its validity ends in ``expires_in_days``."""
    certificate.valid_until = utcnow() + timedelta(days=expires_in_days)
    db.session.commit()


def test_validity_period_sets_valid_until_and_months_are_calendar_months(cert_world):
    w = cert_world
    w.complete(w.enrollments[0])
    (no_limit,) = certificates()
    assert no_limit.valid_until is None
    set_validity(w, months=24)
    w.complete(w.enrollments[1])
    cert = certificates()[-1]
    issued = cert.issued_at
    until = cert.valid_until
    assert (until.year, until.month, until.day) == (issued.year + 2, issued.month, issued.day)
    from datetime import datetime

    assert services.add_months(datetime(2026, 1, 31), 1) == datetime(2026, 2, 28)
    assert services.add_months(datetime(2027, 12, 15), 3) == datetime(2028, 3, 15)


def test_expired_certificate_shows_as_expired_when_verified(cert_world, client):
    w = cert_world
    set_validity(w, months=12)
    w.complete(w.enrollments[0])
    (cert,) = certificates()
    data = client.get(f"/verify/{cert.code}?format=json").get_json()
    assert data["status"] == "valid" and data["valid_until"] == cert.valid_until.date().isoformat()
    age(cert, expires_in_days=-3)
    data = client.get(f"/verify/{cert.code}?format=json").get_json()
    assert data["status"] == "expired"
    body = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Expired" in body and "Valid</strong>" not in body
    # A revocation wins over the expiry.
    services.revoke(certificate=cert, revoked_by=w.hr, reason="Error")
    db.session.commit()
    assert client.get(f"/verify/{cert.code}?format=json").get_json()["status"] == "revoked"


def test_hr_sees_what_expires_within_30_60_90_days_and_downloads_csv(cert_world, client,
                                                                      login):
    w = cert_world
    set_validity(w, months=12)
    for e in w.enrollments:
        w.complete(e)
    soon, later, far = certificates()
    age(soon, expires_in_days=10)
    age(later, expires_in_days=45)
    age(far, expires_in_days=200)
    login(w.hr)
    page = client.get("/o/acme/certificates/expiring?days=30")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Learner 0" in body and "Learner 1" not in body
    body = client.get("/o/acme/certificates/expiring?days=60").get_data(as_text=True)
    assert "Learner 0" in body and "Learner 1" in body and "Learner 2" not in body
    # A bad window falls back to 30 days rather than failing.
    assert client.get("/o/acme/certificates/expiring?days=7").status_code == 200
    response = client.get(f"/o/acme/certificates/expiring.csv?days=90&program={w.program.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r["learner"] for r in rows] == ["Learner 0", "Learner 1"]
    assert rows[0]["valid_until"] == soon.valid_until.date().isoformat()
    relogin(client, login, w.learners[0])
    assert client.get("/o/acme/certificates/expiring").status_code == 403


def test_recertify_enrols_once_in_an_automatic_refresher_cohort(cert_world):
    w = cert_world
    set_validity(w, months=12, lead=30)
    w.complete(w.enrollments[0])
    w.complete(w.enrollments[1])
    due, not_due = certificates()
    age(due, expires_in_days=20)
    age(not_due, expires_in_days=40)
    # Dry run: says what it would do, changes nothing.
    plan = recertification.recertify(w.org, dry_run=True)
    db.session.rollback()
    year = utcnow().year
    assert [(p.certificate_id, p.action, p.cohort) for p in plan] == [
        (due.id, "enrol", f"Recertification {year}")]
    assert db.session.scalar(select(Cohort).where(Cohort.name.like("Recertification%"))) is None
    # For real.
    recertification.recertify(w.org)
    db.session.commit()
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == f"Recertification {year}"))
    assert cohort is not None and cohort.program_id == w.program.id
    assert [t.user_id for t in cohort.trainers] == [w.trainer.id]  # the earlier cohort's
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.cohort_id == cohort.id))
    assert enrollment.membership_id == w.enrollments[0].membership_id
    db.session.refresh(due)
    assert due.refresher_enrollment_id == enrollment.id
    # Once only.
    assert recertification.recertify(w.org) == []
    # A certificate already expired (its refresher missed) is caught up.
    age(not_due, expires_in_days=-2)
    (late,) = recertification.recertify(w.org)
    assert (late.certificate_id, late.action) == (not_due.id, "enrol")
    db.session.commit()
    db.session.refresh(cohort)
    assert len(cohort.enrollments) == 2


def test_recertify_uses_the_chosen_refresher_cohort_and_the_command(cert_world, runner):
    from lms.courses.cohorts.services import create_cohort

    w = cert_world
    refresher = create_cohort(program=w.program, name="Remise à niveau 2027")
    db.session.commit()
    set_validity(w, months=6, lead=60, refresher=refresher)
    w.complete(w.enrollments[2])
    (cert,) = certificates()
    age(cert, expires_in_days=50)
    result = runner.invoke(args=["recertify", "--org", "acme", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Remise à niveau 2027" in result.output and "would be enrolled" in result.output
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).refresher_enrollment_id is None
    result = runner.invoke(args=["recertify", "--org", "acme"])
    assert result.exit_code == 0 and "1 learner(s) enrolled" in result.output
    db.session.expire_all()
    enrollment = db.session.get(Enrollment,
                                db.session.get(Certificate, cert.id).refresher_enrollment_id)
    assert enrollment.cohort_id == refresher.id
    assert runner.invoke(args=["recertify", "--org", "nope"]).exit_code == 1


def test_completing_the_refresher_issues_a_renewal_and_keeps_the_old_one(cert_world):
    w = cert_world
    set_validity(w, months=12)
    w.complete(w.enrollments[0])
    (old,) = certificates()
    age(old, expires_in_days=5)
    old_until = old.valid_until
    recertification.recertify(w.org)
    db.session.commit()
    refresher = db.session.get(Enrollment, old.refresher_enrollment_id)
    w.complete(refresher)
    old_again, new = certificates()
    assert old_again.id == old.id and not old_again.revoked
    assert old_again.valid_until == old_until  # never re-dated
    assert new.renews_id == old.id and new.enrollment_id == refresher.id
    assert new.valid_until > old_until
    # The renewed certificate no longer shows as expiring.
    assert list(db.session.scalars(recertification.expiring(w.org.id, days=90))) == []


def test_recertification_is_a_periodic_task(app, cert_world):
    from lms.jobs.periodic import PERIODIC

    assert "certificates.recertify" in PERIODIC and "certificates.clean_cache" in PERIODIC
    w = cert_world
    set_validity(w, months=12)
    w.complete(w.enrollments[0])
    age(certificates()[0], expires_in_days=1)
    assert PERIODIC["certificates.recertify"].func() == 1
    db.session.commit()
    assert PERIODIC["certificates.recertify"].func() == 0


def test_trainer_sets_validity_on_the_settings_page(cert_world, client, login):
    w = cert_world
    url = f"/o/acme/certificates/programs/{w.program.id}/settings"
    login(w.hr)
    assert client.get(url).status_code == 403
    relogin(client, login, w.trainer)
    assert url in client.get("/o/acme/certificates/programs").get_data(as_text=True)
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, data={"template": "default", "validity_months": "18",
                                      "renewal_lead_days": "45", "refresher_cohort": ""})
    assert response.status_code == 302
    settings = services.settings_for(w.program.id)
    assert (settings.validity_months, settings.renewal_lead_days) == (18, 45)
    bad = client.post(url, data={"template": "default", "validity_months": "0",
                                 "renewal_lead_days": "45", "accent_color": "red"})
    assert bad.status_code == 422
    assert services.settings_for(w.program.id).validity_months == 18


@pytest.mark.parametrize("months", [0, 121])
def test_settings_reject_an_out_of_range_validity(cert_world, months):
    from lms.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        services.update_settings(program=cert_world.program, template_key="default",
                                 validity_months=months, renewal_lead_days=30,
                                 refresher_cohort=None, accent_color=None)
    assert "validity_months" in err.value.fields
