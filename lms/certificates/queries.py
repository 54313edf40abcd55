"""Reads: an organization's certificates with filters, a learner's, one by code."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select

from lms.certificates.models import Certificate
from lms.core.models import utcnow
from lms.extensions import db


def by_code(code: str) -> Certificate | None:
    """The certificate a verification code names, if any."""
    if not code or len(code) > 32:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def of_user(organization_id: int, user_id: int) -> list[Certificate]:
    """A learner's certificates in one organization, newest first."""
    return list(db.session.scalars(select(Certificate).where(
        Certificate.organization_id == organization_id, Certificate.user_id == user_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=utcnow().tzinfo)


def filtered(organization_id: int, *, cohort_id: int | None = None,
             program_id: int | None = None, since: date | None = None,
             until: date | None = None, include_revoked: bool = True,
             status: str | None = None) -> Select[Any]:
    """An organization's certificates, newest first, by cohort, program, issue period
    (``until`` inclusive) and status now (``valid``, ``expired`` or ``revoked``).
    """
    stmt = select(Certificate).where(Certificate.organization_id == organization_id)
    if cohort_id:
        stmt = stmt.where(Certificate.cohort_id == cohort_id)
    if program_id:
        stmt = stmt.where(Certificate.program_id == program_id)
    if since:
        stmt = stmt.where(Certificate.issued_at >= _day_start(since))
    if until:
        stmt = stmt.where(Certificate.issued_at < _day_start(until + timedelta(days=1)))
    if not include_revoked:
        stmt = stmt.where(Certificate.revoked_at.is_(None))
    now = utcnow()
    if status == "revoked":
        stmt = stmt.where(Certificate.revoked_at.is_not(None))
    elif status == "expired":
        stmt = stmt.where(Certificate.revoked_at.is_(None), Certificate.valid_until <= now)
    elif status == "valid":
        stmt = stmt.where(Certificate.revoked_at.is_(None), or_(
            Certificate.valid_until.is_(None), Certificate.valid_until > now))
    return stmt.order_by(Certificate.issued_at.desc(), Certificate.id.desc())
