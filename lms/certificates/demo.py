"""Demo: two learners followed the program's first run last year, so certificates exist —
with a validity period, one expiring soon, one already renewed through a refresher cohort, and
the "modern" template chosen for the program.

They complete the modules through statements (as an external package or a review would), so
completion — and the certificate — follow the real path. Last year's cohort is a real cohort
dated last year, and the certificates carry its dates: a certificate never says 2025 for a
2026 cohort.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from lms.certificates import recertification, rendering, services
from lms.certificates.models import Certificate
from lms.core.models import utcnow
from lms.courses import statements as xs
from lms.courses.cohorts.models import Cohort, Enrollment
from lms.courses.cohorts.queries import pilot_cohort
from lms.courses.cohorts.services import create_cohort, enrol
from lms.extensions import db
from lms.xapi.builders import agent_for_user
from lms.xapi.record import record

# Indexes in DemoPeople.learners: Camille and Léa, who followed last year's first run.
FINISHERS = (0, 2)
VALIDITY_MONTHS = 12
# Camille's certificate ends in 20 days (shown as expiring); Léa's ended in 10 and was renewed.
EXPIRES_IN_DAYS = {0: 20, 2: 10}


def _complete(enrollment: Enrollment, organization_id: int) -> None:
    record([{"actor": agent_for_user(enrollment.membership.user),
             "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
                      "display": {"en-US": "completed"}},
             "object": {"objectType": "Activity", "id": xs.iri("module", module.id)},
             "context": {"registration": enrollment.id}}
            for module in enrollment.cohort.program.modules if module.required],
           organization_id=organization_id)


def _backdate(certificate: Certificate, cohort: Cohort, expires_in_days: int) -> None:
    """Date a demo certificate as issued at the end of last year's ``cohort``, valid
    :data:`VALIDITY_MONTHS` from then (so it ends in ``expires_in_days``).
    """
    valid_until = utcnow() + timedelta(days=expires_in_days)
    issued_at = services.add_months(valid_until, -VALIDITY_MONTHS)
    certificate.issued_at, certificate.valid_until = issued_at, valid_until
    snapshot = dict(certificate.snapshot)
    snapshot["issued_on"] = issued_at.date().isoformat()
    snapshot["dates"] = {"start": cohort.starts_on.isoformat() if cohort.starts_on else None,
                         "end": issued_at.date().isoformat()}
    certificate.snapshot = snapshot
    certificate.pdf_key = rendering.key_for(certificate)


def _last_year(pilot: Cohort, people: Any) -> Cohort:
    """Last year's run of the pilot's program, six weeks ending when the earlier of the two
    certificates was issued, with the finishers enrolled a week before it started.
    """
    end = services.add_months(utcnow() + timedelta(days=min(EXPIRES_IN_DAYS.values())),
                              -VALIDITY_MONTHS)
    start = end - timedelta(weeks=6)
    cohort = create_cohort(
        program=pilot.program, name=f"Première promotion {start.year}",
        starts_on=start.date(), ends_on=end.date(), trainers=[people.trainer])
    for index in FINISHERS:
        enrollment = enrol(cohort=cohort, membership=people.learners[index])
        enrollment.enrolled_at = start - timedelta(days=7)
    return cohort


def demo_step(people: Any) -> None:
    """Certificates of the pilot path: valid a year, one expiring, one renewed."""
    org = people.organization
    cohort = pilot_cohort(org.id)
    if cohort is None:
        return
    services.update_settings(program=cohort.program, template_key="modern",
                             validity_months=VALIDITY_MONTHS, renewal_lead_days=30,
                             refresher_cohort=None, accent_color="#0f766e")
    if len(people.learners) <= max(FINISHERS):
        return
    last_year = _last_year(cohort, people)
    for index in FINISHERS:
        membership = people.learners[index]
        enrollment = db.session.scalar(select(Enrollment).where(
            Enrollment.cohort_id == last_year.id, Enrollment.membership_id == membership.id))
        if enrollment is None:
            continue
        _complete(enrollment, org.id)
        certificate = services.current_for(enrollment)
        if certificate is not None:
            _backdate(certificate, last_year, EXPIRES_IN_DAYS[index])
    db.session.flush()
    # Léa's ends within the lead time: she is enrolled in "Recertification <year>" and has
    # completed it, so a renewal exists. Camille's refresher enrolment is opened too.
    recertification.recertify(org)
    lea = db.session.scalar(select(Certificate).where(
        Certificate.organization_id == org.id,
        Certificate.user_id == people.learners[2].user_id,
        Certificate.refresher_enrollment_id.is_not(None)))
    if lea is not None:
        refresher = db.session.get(Enrollment, lea.refresher_enrollment_id)
        if refresher is not None:
            _complete(refresher, org.id)
    db.session.flush()
