"""Sessions, reads: a cohort's sessions, seat counts, registrations and attendance marks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from lms.courses.sessions.models import (
    PRESENT,
    QR,
    Attendance,
    SessionRegistration,
    TrainingSession,
)
from lms.extensions import db


def sessions(cohort_id: int) -> list[TrainingSession]:
    """A cohort's sessions in date order."""
    return list(db.session.scalars(select(TrainingSession).where(
        TrainingSession.cohort_id == cohort_id).order_by(TrainingSession.starts_at)))


def registration_counts(session_ids: list[int]) -> dict[int, dict[str, int]]:
    """Registrations of sessions by status (registered, waitlisted…), in one query."""
    out: dict[int, dict[str, int]] = {i: {} for i in session_ids}
    if session_ids:
        for session_id, status, n in db.session.execute(
                select(SessionRegistration.session_id, SessionRegistration.status, func.count())
                .where(SessionRegistration.session_id.in_(session_ids))
                .group_by(SessionRegistration.session_id, SessionRegistration.status)):
            out[session_id][status] = n
    return out


def registrations_of(enrollment_id: str) -> dict[int, SessionRegistration]:
    """A learner's registrations keyed by session id."""
    return {r.session_id: r for r in db.session.scalars(select(SessionRegistration).where(
        SessionRegistration.enrollment_id == enrollment_id))}


def attendance_sheet(session_id: int) -> dict[tuple[str, str, str], str]:
    """Marks of a session: (enrolment id, ISO day, half) → status."""
    return {(a.enrollment_id, a.day.isoformat(), a.half): a.status for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id == session_id))}


def qr_sign_ins(session_id: int) -> dict[tuple[str, str, str], datetime]:
    """When learners signed in by QR code: (enrolment id, ISO day, half) → time of the scan."""
    return {(a.enrollment_id, a.day.isoformat(), a.half): a.signed_at
            for a in db.session.scalars(select(Attendance).where(
                Attendance.session_id == session_id, Attendance.source == QR,
                Attendance.status == PRESENT, Attendance.signed_at.is_not(None)))
            if a.signed_at is not None}
