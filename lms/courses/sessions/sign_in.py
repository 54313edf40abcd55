"""QR-code sign-in: a rotating code the trainer shows, which registered learners scan.

The code is an HMAC (the app's secret key) of the session id and the current time window
(``WINDOW_SECONDS`` long); the current and the previous window are accepted, so a code read just
before it changes still works. Codes exist only while the session is open for sign-in: from
``OPENS_BEFORE`` before its start to its end. A sign-in marks the learner present for the
current half-day through :func:`lms.courses.sessions.services.record_attendance`, so the same xAPI
``attended`` statement is recorded as when the trainer ticks the sheet.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import Membership
from lms.core.errors import DomainError
from lms.core.models import utcnow
from lms.courses.cohorts.models import ACTIVE, COMPLETED, Enrollment
from lms.courses.sessions.models import (
    PRESENT,
    QR,
    REGISTERED,
    Attendance,
    SessionRegistration,
    TrainingSession,
)
from lms.courses.sessions.services import half_days, local_zone, record_attendance, seats_taken
from lms.extensions import db

WINDOW_SECONDS = 60
OPENS_BEFORE = timedelta(minutes=15)
# A scan stays good this long while the learner logs in and confirms on their phone.
TICKET_SECONDS = 600
TOKEN_RE = re.compile(r"^(\d{1,12})\.([0-9a-f]{16})$")


class SignInRefused(DomainError):
    """A sign-in that cannot be recorded; ``code`` says why (HTTP 409 or 422).

    Codes: ``invalid_code``, ``expired_code``, ``not_open``, ``wrong_session``,
    ``not_registered``, ``already_signed``.
    """

    status = 422

    def __init__(self, message: str, *, code: str, session: TrainingSession | None = None,
                 registration: SessionRegistration | None = None,
                 mark: Attendance | None = None) -> None:
        super().__init__(message, code=code)
        self.session = session
        self.registration = registration
        self.mark = mark
        if code == "already_signed":
            self.status = 409


def window_at(when: datetime) -> int:
    """The number of the time window ``when`` falls in."""
    return int(when.timestamp()) // WINDOW_SECONDS


def _mac(session_id: int, window: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"relais-sign-in:{session_id}:{window}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def token_for(session: TrainingSession, when: datetime | None = None) -> str:
    """The sign-in token of ``session`` for the window of ``when`` (now by default)."""
    window = window_at(when or utcnow())
    return f"{window}.{_mac(session.id, window)}"


def seconds_left(when: datetime | None = None) -> int:
    """Seconds until the code shown now is replaced by the next one."""
    now = (when or utcnow()).timestamp()
    return WINDOW_SECONDS - int(now) % WINDOW_SECONDS


def opens_at(session: TrainingSession) -> datetime:
    """When learners may start signing in."""
    return session.starts_at - OPENS_BEFORE


def is_open(session: TrainingSession, when: datetime | None = None) -> bool:
    """Whether the session takes sign-ins at ``when`` (15 minutes before start to its end)."""
    now = when or utcnow()
    return opens_at(session) <= now <= session.ends_at


def check_token(session_id: int, token: str, when: datetime | None = None) -> int:
    """Check a scanned token; returns its window.

    :raise SignInRefused: ``invalid_code`` (not a code of this session) or ``expired_code``
        (a real code, older than the previous window).
    """
    match = TOKEN_RE.match(token or "")
    if match is None:
        raise SignInRefused(_l("This is not a sign-in code."), code="invalid_code")
    window = int(match.group(1))
    if not hmac.compare_digest(_mac(session_id, window), match.group(2)):
        raise SignInRefused(_l("This is not a sign-in code."), code="invalid_code")
    current = window_at(when or utcnow())
    if window > current:
        raise SignInRefused(_l("This is not a sign-in code."), code="invalid_code")
    if window < current - 1:
        raise SignInRefused(_l("This code has expired: scan the code on the screen again."),
                            code="expired_code")
    return window


def half_day_at(session: TrainingSession, when: datetime) -> tuple[date, str]:
    """The half-day of the session a sign-in at ``when`` counts for.

    The local half-day of ``when`` when the session covers it; before the start (the 15 minutes
    of early sign-in), the session's first half-day; otherwise its last one.
    """
    halves = half_days(session)
    local = when.astimezone(local_zone())
    current = (local.date(), "am" if local.hour < 13 else "pm")
    if current in halves:
        return current
    return halves[0] if when < session.starts_at else halves[-1]


def _enrollment(session: TrainingSession, membership: Membership) -> Enrollment | None:
    return db.session.scalar(select(Enrollment).where(
        Enrollment.cohort_id == session.cohort_id, Enrollment.membership_id == membership.id,
        Enrollment.status.in_((ACTIVE, COMPLETED))))


def _other_seat(session: TrainingSession, enrollment: Enrollment) -> TrainingSession | None:
    """Another session of the same module where this learner holds a seat, if any."""
    return db.session.scalar(
        select(TrainingSession).join(SessionRegistration).where(
            SessionRegistration.enrollment_id == enrollment.id,
            SessionRegistration.status == REGISTERED,
            TrainingSession.module_id == session.module_id, TrainingSession.id != session.id)
        .order_by(TrainingSession.starts_at).limit(1))


@dataclass(frozen=True)
class Check:
    """What a sign-in would record: the learner's enrolment and the half-day."""

    enrollment: Enrollment
    day: date
    half: str


def check(*, session: TrainingSession, membership: Membership,
          when: datetime | None = None) -> Check:
    """Whether ``membership`` may sign in to ``session`` now, and for which half-day.

    :raise SignInRefused: ``not_open``, ``wrong_session`` (their seat is in another session of
        the module), ``not_registered`` (no seat: not registered, waiting list, waiting for
        approval, declined) or ``already_signed`` (present for this half-day already).
    """
    now = when or utcnow()
    if not is_open(session, now):
        raise SignInRefused(_l("Sign-in is open from 15 minutes before the session starts until "
                            "it ends."), code="not_open", session=session)
    enrollment = _enrollment(session, membership)
    registration = None
    if enrollment is not None:
        registration = db.session.scalar(select(SessionRegistration).where(
            SessionRegistration.session_id == session.id,
            SessionRegistration.enrollment_id == enrollment.id))
    if enrollment is None or registration is None or registration.status != REGISTERED:
        other = _other_seat(session, enrollment) if enrollment is not None else None
        if registration is None and other is not None:
            raise SignInRefused(_l("Your seat is in another session of this module."),
                                code="wrong_session", session=other)
        raise SignInRefused(_l("You have no seat in this session: see the trainer."),
                            code="not_registered", registration=registration)
    day, half = half_day_at(session, now)
    mark = db.session.scalar(select(Attendance).where(
        Attendance.session_id == session.id, Attendance.enrollment_id == enrollment.id,
        Attendance.day == day, Attendance.half == half))
    if mark is not None and mark.status == PRESENT:
        raise SignInRefused(_l("You are already signed in for this half-day."),
                            code="already_signed", mark=mark)
    return Check(enrollment=enrollment, day=day, half=half)


def sign_in(*, session: TrainingSession, membership: Membership,
            when: datetime | None = None) -> Attendance:
    """Mark the learner present for the current half-day, recorded as a QR sign-in.

    :raise SignInRefused: see :func:`check`.
    """
    found = check(session=session, membership=membership, when=when)
    mark = record_attendance(session=session, enrollment=found.enrollment,
                             day=found.day, half=found.half, status=PRESENT,
                             recorded_by=membership.user)
    mark.source = QR
    if when is not None:
        mark.signed_at = when
    db.session.flush()
    return mark


def signed_count(session: TrainingSession, when: datetime | None = None) -> tuple[int, int]:
    """(learners present for the current half-day, learners with a seat)."""
    seated = seats_taken(session)
    if not half_days(session):
        return 0, seated
    day, half = half_day_at(session, when or utcnow())
    present = len(db.session.scalars(select(Attendance.id).where(
        Attendance.session_id == session.id, Attendance.day == day, Attendance.half == half,
        Attendance.status == PRESENT)).all())
    return present, seated
