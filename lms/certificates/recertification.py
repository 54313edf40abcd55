"""Validity and recertification: what expires soon, and re-enrolment in a refresher.

A program with a validity period gives its certificates a ``valid_until``. Some days before
(the program's lead time, 30 by default) the learner is enrolled in the program's refresher
cohort — the one chosen in the settings, else a "Recertification <year>" cohort created when
first needed. Completing it issues a new certificate that ``renews`` the old one; the old one
keeps its dates and simply expires. Run daily by the job runners and by
``relais recertify --org SLUG [--dry-run]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from lms.accounts.models import Membership, Organization, Role
from lms.certificates.models import Certificate, CertificateSettings
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.models import Program
from lms.extensions import db

EXPIRY_WINDOWS = (30, 60, 90)


def expiring(organization_id: int, *, days: int, now: datetime | None = None,
             program_id: int | None = None, include_expired: bool = False) -> Select[Any]:
    """Valid certificates whose validity ends within ``days`` (soonest first), leaving out
    those already renewed by a later certificate; with ``include_expired``, those whose
    validity is already over too (the refresher was missed).
    """
    now = now or utcnow()
    renewed = select(Certificate.renews_id).where(Certificate.renews_id.is_not(None),
                                                  Certificate.revoked_at.is_(None))
    stmt = select(Certificate).where(
        Certificate.organization_id == organization_id, Certificate.revoked_at.is_(None),
        Certificate.valid_until.is_not(None),
        Certificate.valid_until <= now + timedelta(days=days),
        Certificate.id.not_in(renewed))
    if not include_expired:
        stmt = stmt.where(Certificate.valid_until > now)
    if program_id:
        stmt = stmt.where(Certificate.program_id == program_id)
    return stmt.order_by(Certificate.valid_until, Certificate.id)


@dataclass(frozen=True)
class Planned:
    """One learner to re-enrol: the certificate, the refresher cohort's name, what happens."""

    certificate_id: int
    learner: str
    program: str
    valid_until: str
    cohort: str
    action: str  # "enrol", "already enrolled", "not a learner any more"


def refresher_cohort(settings: CertificateSettings, program: Program, now: datetime, *,
               create: bool, trainers_of: int | None = None) -> tuple[Cohort | None, str]:
    """The program's refresher cohort (created when asked and missing, with the trainers of
    cohort ``trainers_of``) and its name.
    """
    if settings.refresher_cohort_id is not None:
        cohort = db.session.get(Cohort, settings.refresher_cohort_id)
        if cohort is not None:
            return cohort, cohort.name
    name = f"Recertification {now.year}"
    cohort = db.session.scalar(select(Cohort).where(Cohort.program_id == program.id,
                                                    Cohort.name == name))
    if cohort is None and create:
        earlier = db.session.get(Cohort, trainers_of) if trainers_of is not None else None
        cohort = create_cohort(program=program, name=name, starts_on=now.date(),
                               trainers=earlier.trainers if earlier is not None else ())
    return cohort, name


def _due(settings: CertificateSettings, now: datetime) -> list[Certificate]:
    # Already expired ones too: a learner whose refresher was missed (the validity was set
    # later, the runners were down) is enrolled all the same.
    stmt = expiring(settings.organization_id, days=settings.renewal_lead_days, now=now,
                    program_id=settings.program_id, include_expired=True)
    return list(db.session.scalars(stmt.where(Certificate.refresher_enrollment_id.is_(None))))


def recertify(organization: Organization, *, dry_run: bool = False,
              now: datetime | None = None) -> list[Planned]:
    """Enrol in a refresher the learners whose certificates expire within their program's lead
    time (once per certificate); with ``dry_run``, only say what would be done.

    Flushes, never commits.
    """
    now = now or utcnow()
    plan: list[Planned] = []
    all_settings = db.session.scalars(select(CertificateSettings).where(
        CertificateSettings.organization_id == organization.id,
        CertificateSettings.validity_months.is_not(None))
        .order_by(CertificateSettings.program_id)).all()
    for settings in all_settings:
        program = db.session.get(Program, settings.program_id)
        if program is None:
            continue
        due = _due(settings, now)
        if not due:
            continue
        cohort, name = refresher_cohort(settings, program, now, create=not dry_run,
                                  trainers_of=due[0].cohort_id)
        for certificate in due:
            membership = db.session.scalar(select(Membership).where(
                Membership.organization_id == organization.id,
                Membership.user_id == certificate.user_id))
            title = certificate.snapshot["program"]["title"]
            row = dict(certificate_id=certificate.id,
                       learner=certificate.snapshot["learner"]["name"],
                       program=title.get(program.language) or next(iter(title.values()), ""),
                       valid_until=certificate.valid_until.date().isoformat()
                       if certificate.valid_until else "", cohort=name)
            if membership is None or membership.role != Role.LEARNER:
                plan.append(Planned(**row, action="not a learner any more"))
                continue
            existing = current_enrollment(cohort, membership) if cohort is not None else None
            if existing is not None:
                plan.append(Planned(**row, action="already enrolled"))
                if not dry_run:
                    certificate.refresher_enrollment_id = existing.id
                continue
            plan.append(Planned(**row, action="enrol"))
            if not dry_run and cohort is not None:
                enrol_in_refresher(certificate, cohort, membership)
    db.session.flush()
    return plan


def current_enrollment(cohort: Cohort, membership: Membership) -> Enrollment | None:
    """The membership's enrolment in ``cohort`` unless withdrawn (None when none)."""
    existing = db.session.scalar(select(Enrollment).where(
        Enrollment.cohort_id == cohort.id, Enrollment.membership_id == membership.id))
    return existing if existing is not None and existing.status != WITHDRAWN else None


def enrol_in_refresher(certificate: Certificate, cohort: Cohort,
                       membership: Membership) -> Enrollment | None:
    """Enrol the certificate's holder in the refresher ``cohort`` and mark the certificate as
    sent there; None when enrolment is refused (the cohort is closed, for instance).
    """
    try:
        enrollment = enrol(cohort=cohort, membership=membership)
    except DomainError:
        return None
    certificate.refresher_enrollment_id = enrollment.id
    return enrollment


def recertify_all() -> int:
    """Periodic task: :func:`recertify` every organization; returns the learners enrolled."""
    orgs = db.session.scalars(select(Organization).where(Organization.id.in_(
        select(CertificateSettings.organization_id).where(
            CertificateSettings.validity_months.is_not(None))))).all()
    return sum(1 for org in orgs for p in recertify(org) if p.action == "enrol")
