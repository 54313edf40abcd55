"""Sessions, writes: scheduling, seats and the waiting list, attendance (one path for the
sheet page, the API and QR sign-in).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms.accounts.models import Membership, User
from lms.core.errors import Conflict, ValidationFailed
from lms.core.models import utcnow
from lms.courses import statements as xs
from lms.courses.cohorts.models import ACTIVE, COMPLETED, Cohort, Enrollment
from lms.courses.programs.models import SESSION_KINDS, Module
from lms.courses.sessions.models import (
    ATTENDANCE_STATUSES,
    DECLINED,
    HALVES,
    PENDING_APPROVAL,
    PRESENT,
    REGISTERED,
    WAITLISTED,
    Attendance,
    SessionRegistration,
    TrainingSession,
)
from lms.courses.statements import void_statement
from lms.extensions import db
from lms.xapi.record import record

# --- sessions, registrations, attendance ------------------------------------------------------


def schedule_session(*, cohort: Cohort, module: Module, starts_at: datetime, ends_at: datetime,
                     place: str | None = None, virtual_link: str | None = None,
                     capacity: int | None = None,
                     trainer: Membership | None = None) -> TrainingSession:
    """Schedule a session of a workshop, conference or group training for a cohort.

    :raise ValidationFailed: wrong module kind or program, end before start, bad capacity,
        neither place nor link, bad link, trainer outside the organization.
    """
    errors, place, virtual_link = _session_problems(
        cohort=cohort, module=module, starts_at=starts_at, ends_at=ends_at, place=place,
        virtual_link=virtual_link, capacity=capacity, trainer=trainer)
    if errors:
        raise ValidationFailed(_l("The session was not scheduled."), fields=errors)
    session = TrainingSession(organization_id=cohort.organization_id, cohort=cohort,
                              module=module, starts_at=starts_at, ends_at=ends_at, place=place,
                              virtual_link=virtual_link, capacity=capacity, trainer=trainer)
    db.session.add(session)
    db.session.flush()
    return session


def _session_problems(*, cohort: Cohort, module: Module, starts_at: datetime, ends_at: datetime,
                      place: str | None, virtual_link: str | None, capacity: int | None,
                      trainer: Membership | None) -> tuple[dict[str, str], str | None,
                                                           str | None]:
    """What is wrong with a session's settings (by field), and the place and link cleaned."""
    errors = {}
    if module.program_id != cohort.program_id:
        errors["module"] = _l("This module is not part of the cohort's program.")
    elif module.kind not in SESSION_KINDS:
        errors["module"] = _l("Only workshops, conferences and group trainings have sessions.")
    if ends_at <= starts_at:
        errors["ends_at"] = _l("The session must end after it starts.")
    if capacity is not None and capacity < 1:
        errors["capacity"] = _l("The capacity must be at least 1 (leave empty for no limit).")
    place = (place or "").strip() or None
    virtual_link = (virtual_link or "").strip() or None
    if not place and not virtual_link:
        errors["place"] = _l("Give a place, a virtual room link, or both.")
    if virtual_link and not virtual_link.startswith("https://"):
        errors["virtual_link"] = _l("The link must start with https://.")
    if trainer is not None and trainer.organization_id != cohort.organization_id:
        errors["trainer"] = _l("The trainer is not a member of this organization.")
    return errors, place, virtual_link


def update_session(*, session: TrainingSession, starts_at: datetime, ends_at: datetime,
                   place: str | None, virtual_link: str | None, capacity: int | None,
                   trainer: Membership | None) -> list[SessionRegistration]:
    """Move or edit a session, with the checks of :func:`schedule_session`. Registrations and
    the waiting list stay as they are; a larger capacity promotes waitlisted learners in order
    (see :func:`set_capacity`). Returns the promoted registrations.

    :raise ValidationFailed: as :func:`schedule_session`, or a capacity below the seats given.
    :raise Conflict: attendance was taken on a half-day the new times leave out.
    """
    errors, place, virtual_link = _session_problems(
        cohort=session.cohort, module=session.module, starts_at=starts_at, ends_at=ends_at,
        place=place, virtual_link=virtual_link, capacity=capacity, trainer=trainer)
    if errors:
        raise ValidationFailed(_l("The session was not changed."), fields=errors)
    before = session.starts_at, session.ends_at
    session.starts_at, session.ends_at = starts_at, ends_at
    kept = set(half_days(session))
    marked = {(day, half) for day, half in db.session.execute(
        select(Attendance.day, Attendance.half).where(Attendance.session_id == session.id))}
    if marked - kept:
        session.starts_at, session.ends_at = before
        raise Conflict(_l("Attendance was taken on half-days the new times leave out: correct "
                       "or keep those half-days."), fields={"starts_at": _l("Keep the half-days "
                                                           "already marked.")})
    try:
        promoted = set_capacity(session=session, capacity=capacity)
    except ValidationFailed:
        session.starts_at, session.ends_at = before
        raise
    session.place, session.virtual_link, session.trainer = place, virtual_link, trainer
    db.session.flush()
    return promoted


def seats_taken(session: TrainingSession) -> int:
    """How many learners hold a seat (the waiting list excluded)."""
    return db.session.scalar(select(func.count()).select_from(SessionRegistration).where(
        SessionRegistration.session_id == session.id,
        SessionRegistration.status == REGISTERED)) or 0


def _lock_seats(session: TrainingSession) -> None:
    """Serialize seat changes for one session until the transaction ends.

    An UPDATE of the session row (a no-op) rather than SELECT … FOR UPDATE: PostgreSQL locks
    the row either way, and SQLite, whose driver opens the transaction only at the first
    write, then takes its write lock before the seats are counted rather than after.
    """
    db.session.execute(update(TrainingSession).where(TrainingSession.id == session.id)
                       .values(capacity=TrainingSession.capacity)
                       .execution_options(synchronize_session=False))


def register(*, session: TrainingSession, enrollment: Enrollment,
             requested_by: User | None = None) -> SessionRegistration:
    """Give a learner a seat, or a place on the waiting list when the session is full. When the
    program needs approval, the registration waits for it instead (no seat held yet: see
    :mod:`lms.courses.sessions.approvals`).

    :param requested_by: who asked (the learner, or the trainer who registered them).
    :raise ValidationFailed: the enrolment is not active in the session's cohort.
    :raise Conflict: already registered, waitlisted, waiting for approval or declined.
    """
    if enrollment.cohort_id != session.cohort_id or enrollment.status not in (ACTIVE,
                                                                                 COMPLETED):
        raise ValidationFailed(_l("This learner is not an active member of the session's cohort."),
                               fields={"enrollment": _l("Not in this cohort.")})
    existing = db.session.scalar(select(SessionRegistration).where(
        SessionRegistration.session_id == session.id,
        SessionRegistration.enrollment_id == enrollment.id))
    if existing is not None and existing.status == DECLINED:
        raise Conflict(_l("This registration was declined: %(reason)s",
                          reason=existing.decline_reason) if existing.decline_reason
                       else _l("This registration was declined."))
    if existing is not None:
        raise Conflict(_l("This learner is already registered for this session."))
    if session.cohort.program.approval_required:
        registration = SessionRegistration(
            session=session, enrollment=enrollment, status=PENDING_APPROVAL,
            requested_by_id=requested_by.id if requested_by is not None else None)
        db.session.add(registration)
        db.session.flush()
        return registration
    _lock_seats(session)
    full = session.capacity is not None and seats_taken(session) >= session.capacity
    registration = SessionRegistration(session=session, enrollment=enrollment,
                                       status=WAITLISTED if full else REGISTERED)
    db.session.add(registration)
    db.session.flush()
    return registration


def cancel_registration(*, registration: SessionRegistration) -> SessionRegistration | None:
    """Free a seat (or leave the waiting list); the first waitlisted learner is promoted.

    Returns the promoted registration, if any.
    """
    session = registration.session
    _lock_seats(session)
    freed = registration.status == REGISTERED
    db.session.delete(registration)
    db.session.flush()
    if not freed:
        return None
    return promote_waitlist(session=session)


def promote_waitlist(*, session: TrainingSession) -> SessionRegistration | None:
    """Move the longest-waiting learner into a free seat, if there is one."""
    if session.capacity is not None and seats_taken(session) >= session.capacity:
        return None
    first = db.session.scalar(select(SessionRegistration).where(
        SessionRegistration.session_id == session.id, SessionRegistration.status == WAITLISTED)
        .order_by(SessionRegistration.created_at, SessionRegistration.id).limit(1))
    if first is not None:
        first.status = REGISTERED
        db.session.flush()
    return first


def set_capacity(*, session: TrainingSession, capacity: int | None) -> list[SessionRegistration]:
    """Change a session's capacity; a larger room promotes waitlisted learners in order.

    :raise ValidationFailed: capacity below the seats already given.
    """
    _lock_seats(session)
    if capacity is not None and capacity < max(1, seats_taken(session)):
        raise ValidationFailed(_l("The capacity cannot go below the seats already given."),
                               fields={"capacity": _l("At least %(count)d.",
                                                       count=max(1, seats_taken(session)))})
    session.capacity = capacity
    db.session.flush()
    promoted = []
    while (reg := promote_waitlist(session=session)) is not None:
        promoted.append(reg)
    return promoted


def local_zone() -> ZoneInfo:
    """The time zone sessions are shown and split into half-days in (``RELAIS_TIMEZONE``)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def half_days(session: TrainingSession) -> list[tuple[date, str]]:
    """The half-days a session covers in local time, as on a sign-in sheet: (day, "am"|"pm")."""
    out = []
    zone = local_zone()
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    day = start.date()
    while day <= end.date():
        for half, (low, high) in (("am", (0, 13)), ("pm", (13, 24))):
            begin = datetime.combine(day, datetime.min.time(), tzinfo=start.tzinfo) + \
                timedelta(hours=low)
            finish = begin + timedelta(hours=high - low)
            if start < finish and end > begin:
                out.append((day, half))
        day += timedelta(days=1)
    return out


def check_attendance(*, session: TrainingSession,
                     marks: Sequence[tuple[str, date, str, str]]) -> dict[int, str]:
    """Why marks (enrolment id, day, half, status) cannot be recorded, by their index in
    ``marks``; empty when all can. The rules of :func:`record_attendance`, for a whole sheet
    checked before any is written; a half-day marked twice for a learner is refused too.
    """
    halves = set(half_days(session))
    seated = set(db.session.scalars(select(SessionRegistration.enrollment_id).where(
        SessionRegistration.session_id == session.id,
        SessionRegistration.status == REGISTERED)))
    seen: set[tuple[str, date, str]] = set()
    problems = {}
    for index, (enrollment_id, day, half, status) in enumerate(marks):
        if status not in ATTENDANCE_STATUSES:
            problems[index] = _l("Choose present, absent or excused.")
        elif half not in HALVES or (day, half) not in halves:
            problems[index] = _l("This half-day is not part of the session.")
        elif enrollment_id not in seated:
            problems[index] = _l("This learner has no seat in the session.")
        elif (enrollment_id, day, half) in seen:
            problems[index] = _l("This half-day is marked twice for this learner.")
        seen.add((enrollment_id, day, half))
    return problems


def record_attendance(*, session: TrainingSession, enrollment: Enrollment, day: date, half: str,
                      status: str, recorded_by: User) -> Attendance:
    """Mark a learner present, absent or excused for one half-day of a session.

    The first "present" mark records "attended"; correcting it to absent or excused voids that
    statement, so the module's progress follows.

    :raise ValidationFailed: unknown status, a half-day outside the session, or a learner
        not registered for it.
    """
    if status not in ATTENDANCE_STATUSES or half not in HALVES or \
            (day, half) not in half_days(session):
        raise ValidationFailed(_l("This attendance mark is not valid for the session."),
                               fields={"status": _l("Choose present, absent or excused for one "
                                                 "of the session's half-days.")})
    if enrollment.cohort_id != session.cohort_id or db.session.scalar(
            select(SessionRegistration.id).where(
                SessionRegistration.session_id == session.id,
                SessionRegistration.enrollment_id == enrollment.id,
                SessionRegistration.status == REGISTERED)) is None:
        raise ValidationFailed(_l("This learner has no seat in the session."),
                               fields={"enrollment": _l("Not registered for this session.")})
    mark = db.session.scalar(select(Attendance).where(
        Attendance.session_id == session.id, Attendance.enrollment_id == enrollment.id,
        Attendance.day == day, Attendance.half == half))
    return _write_mark(session, enrollment, day, half, status, recorded_by, mark)


def record_sheet(*, session: TrainingSession, marks: Sequence[tuple[str, date, str, str]],
                 recorded_by: User) -> int:
    """Record a sign-in sheet: marks (enrolment id, day, half, status), all checked before any
    is written, each written as :func:`record_attendance` does. Marks equal to the sheet's
    are left alone; half-days not in ``marks`` stay as they are.

    :return: how many marks changed.
    :raise ValidationFailed: a mark breaks a rule of :func:`check_attendance`; ``fields`` has
        ``marks[i]`` for each (``i`` its index in ``marks``) and nothing is written.
    :raise Conflict: another sheet or a QR sign-in wrote one of these half-days meanwhile;
        nothing of this sheet is written.
    """
    problems = check_attendance(session=session, marks=marks)
    if problems:
        raise ValidationFailed(lazy_ngettext("%(num)d mark cannot be recorded; none was.",
                                             "%(num)d marks cannot be recorded; none was.",
                                             len(problems)),
                               fields={f"marks[{i}]": problems[i] for i in sorted(problems)})
    sheet = {(a.enrollment_id, a.day, a.half): a for a in db.session.scalars(
        select(Attendance).where(Attendance.session_id == session.id))}
    changes = [(e, d, h, st) for e, d, h, st in marks
               if (e, d, h) not in sheet or sheet[e, d, h].status != st]
    if not changes:
        return 0
    # The learners and what their statements name, loaded once for the whole sheet.
    enrollments = {e.id: e for e in db.session.scalars(
        select(Enrollment).where(Enrollment.id.in_({e for e, _d, _h, _st in changes}))
        .options(selectinload(Enrollment.membership).selectinload(Membership.user)))}
    try:
        # A savepoint: a mark inserted meanwhile by another request undoes this sheet only.
        with db.session.begin_nested():
            _write_marks(session, [(enrollments[e], d, h, st, sheet.get((e, d, h)))
                                   for e, d, h, st in changes], recorded_by)
    except IntegrityError as exc:
        raise Conflict(_l("The sheet changed meanwhile; nothing was written, send it again.")) \
            from exc
    return len(changes)


def _write_marks(session: TrainingSession,
                 changes: Sequence[tuple[Enrollment, date, str, str, Attendance | None]],
                 recorded_by: User) -> list[Attendance]:
    """Write checked changed marks as :func:`_write_mark` does one by one, in bulk: the rows
    in one flush, every new "attended" in one :func:`record` call (one batch for the store
    and the progress projection), then the voids of corrected presences.
    """
    now, session_id, recorded_by_id = utcnow(), session.id, recorded_by.id
    written = []
    for enrollment, day, half, status, mark in changes:
        if mark is None:
            mark = Attendance(session_id=session_id, enrollment=enrollment, day=day, half=half,
                              status=status)
            db.session.add(mark)
        mark.status, mark.recorded_by_id = status, recorded_by_id
        mark.signed_at = now if status == PRESENT else None
        written.append((enrollment, day, half, mark))
    db.session.flush()
    org = session.organization_id
    attending = [(enrollment, day, half, mark) for enrollment, day, half, mark in written
                 if mark.status == PRESENT and mark.statement_id is None]
    if attending:
        ids = record([xs.attended(enrollment, session, f"{day}-{half}")
                      for enrollment, day, half, _mark in attending], organization_id=org)
        for (_e, _d, _h, mark), statement_id in zip(attending, ids, strict=True):
            mark.statement_id = statement_id
    for _e, _d, _h, mark in written:
        if mark.status != PRESENT and mark.statement_id is not None:
            void_statement(organization_id=org, statement_id=mark.statement_id, by=recorded_by)
            mark.statement_id = None
    db.session.flush()
    return [mark for _e, _d, _h, mark in written]


def _write_mark(session: TrainingSession, enrollment: Enrollment, day: date, half: str,
                status: str, recorded_by: User, mark: Attendance | None) -> Attendance:
    """Create or correct one checked mark (``mark`` is the half-day's current one, if any),
    recording "attended" for a first presence and voiding it when corrected.
    """
    if mark is not None and mark.status == status:
        return mark
    (mark,) = _write_marks(session, [(enrollment, day, half, status, mark)], recorded_by)
    return mark
