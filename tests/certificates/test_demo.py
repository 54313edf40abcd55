"""The demo step: certificates with a validity period, one expiring soon, one renewed through
a refresher cohort, and the "modern" template chosen for the pilot program."""

from __future__ import annotations

from sqlalchemy import select

from lms.certificates import recertification, services
from lms.certificates.models import Certificate
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.extensions import db
from tests.support import load_demo_once


def test_demo_shows_validity_renewal_and_the_second_template():
    load_demo_once()
    certificates = list(db.session.scalars(select(Certificate).order_by(Certificate.id)))
    assert len(certificates) == 3
    assert {c.template_key for c in certificates} == {"modern"}
    assert all(c.valid_until is not None for c in certificates)
    renewal = next(c for c in certificates if c.renews_id is not None)
    renewed = db.session.get(Certificate, renewal.renews_id)
    assert renewed.snapshot["learner"]["name"] == renewal.snapshot["learner"]["name"] == \
        "Léa Dubois"
    assert renewal.valid_until > renewed.valid_until and not renewed.revoked
    org_id = certificates[0].organization_id
    (expiring,) = db.session.scalars(recertification.expiring(org_id, days=30))
    assert expiring.snapshot["learner"]["name"] == "Camille Martin"
    assert expiring.refresher_enrollment_id is not None  # enrolled in the refresher
    # Issued at the end of last year's run, whose dates they carry, with levels after it.
    for certificate in (expiring, renewed):
        cohort = db.session.get(Cohort, db.session.get(
            Enrollment, certificate.enrollment_id).cohort_id)
        assert certificate.snapshot["cohort"]["name"] == cohort.name
        assert certificate.snapshot["dates"]["start"] == cohort.starts_on.isoformat()
        assert certificate.issued_at.year == cohort.starts_on.year or \
            certificate.issued_at.date() >= cohort.ends_on
        levels = certificate.snapshot["evaluation"]["levels"]
        assert levels and all(level["after"] is not None for level in levels)
    settings = services.settings_for(expiring.program_id)
    assert settings.template_key == "modern" and settings.validity_months == 12
